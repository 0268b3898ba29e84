-- One database per service (DESIGN.md, "Running it"). Run once by the postgres image, on an
-- empty data volume, as POSTGRES_USER, who owns them.
CREATE DATABASE registry;
CREATE DATABASE scheduling;
CREATE DATABASE notifications;
