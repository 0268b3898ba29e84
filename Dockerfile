# One image for the three services: `tournees serve registry|scheduling|notifications`,
# `tournees migrate SERVICE|all`. Configuration only through environment variables (README).
#
#   docker build -t tournees:local .
#   docker run --rm -p 8001:8000 -e DATABASE_URL=... -e NATS_URL=... tournees:local serve registry

# --- builder: a virtual environment with the project and its pinned dependencies ---------------
FROM python:3.11-slim AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY shared ./shared
COPY services ./services
COPY tournees ./tournees
# A regular (not editable) install: the final stage needs the venv only, not /src. Every
# package, transitive ones included, at the version constraints.txt pins: reproducible builds.
# Byte-code is compiled here because the root filesystem is read-only at run time.
RUN pip install --no-cache-dir --constraint constraints.txt . \
    && python -m compileall -q /opt/venv/lib

# --- final: the venv, a non-root user, nothing else ----------------------------------------------
FROM python:3.11-slim

ARG UID=10001
ARG GID=10001
RUN groupadd --system --gid "${GID}" tournees \
    && useradd --system --uid "${UID}" --gid "${GID}" --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin tournees \
    && mkdir -p /var/lib/tournees \
    && chown "${UID}:${GID}" /var/lib/tournees

COPY --from=builder /opt/venv /opt/venv

# HTTP_PORT is the same for every service inside a container (8000); Compose and Kubernetes
# map it. DATA_DIR only matters for the SQLite default, when DATABASE_URL is not set.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8000 \
    DATA_DIR=/var/lib/tournees

WORKDIR /var/lib/tournees
USER ${UID}:${GID}
EXPOSE 8000

# /healthz: the process answers (no curl in the slim image, so Python does the request).
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('HTTP_PORT', '8000'), timeout=2)"]

ENTRYPOINT ["tournees"]
CMD ["serve", "registry"]
