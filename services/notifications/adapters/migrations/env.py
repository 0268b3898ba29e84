from services.notifications.adapters.orm import metadata
from shared.migrations import run_migrations

run_migrations(metadata, "notifications")
