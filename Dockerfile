# syntax=docker/dockerfile:1
#
# convoywatch service image.
#
#   docker build -t convoywatch .
#   docker compose -f docker/compose.yaml up -d      (see docs/docker.md)
#
# Two stages on the same base: the builder makes a virtual environment in /opt/venv
# (dependencies first, in their own cached layer, then the code), the final stage copies
# only that venv and the configuration: no pip, no build tools, no source tree.
# BASE_IMAGE must provide python3 (3.11+) with the venv module; the official slim image does,
# and so does the Debian base that docker/docker-test.sh builds.

ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS builder

# pip's index settings of the machine that builds, passed by the build (never written here).
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ARG PIP_TRUSTED_HOST
ARG PIP_FIND_LINKS

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_PREFER_BINARY=1 \
    PIP_DEFAULT_TIMEOUT=120 \
    PYTHONDONTWRITEBYTECODE=1

RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/python -m pip install --upgrade "setuptools>=68" wheel

# The rule engine's hot modules are compiled with mypyc (setup.py): a C compiler and mypy live
# in the builder only, mypy in a venv of its own. Without them (no package mirror for apt) the
# same code installs uncompiled and runs slower.
RUN (apt-get update \
     && apt-get install -y --no-install-recommends gcc libc6-dev python3-dev \
     && rm -rf /var/lib/apt/lists/*) \
    || echo "no C compiler: the rule engine stays pure Python" \
 && python3 -m venv /opt/build \
 && /opt/build/bin/python -m pip install "setuptools>=68" wheel "mypy>=1.11"

WORKDIR /src

# Dependencies only: this layer is rebuilt when pyproject.toml changes, not when the code does.
COPY pyproject.toml ./
RUN /opt/venv/bin/python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
 && /opt/venv/bin/python -m pip install -r /tmp/requirements.txt

# The code, built as a wheel (compiled where the builder could), installed without touching the
# dependencies again, then the installers removed.
COPY README.md setup.py ./
COPY bot ./bot
RUN /opt/build/bin/python -m pip wheel --no-deps --no-build-isolation --wheel-dir /tmp/wheels . \
 && /opt/venv/bin/python -m pip install --no-deps /tmp/wheels/*.whl \
 && (cd / && /opt/venv/bin/python -c "import bot.rules.matcher as m; print('rule engine:', m.__file__)") \
 && /opt/venv/bin/python -m pip uninstall --yes setuptools wheel pip \
 && find /opt/venv/lib -depth -type d -name tests \( -path '*/numpy/*' -o -path '*/matplotlib/*' \) \
      -exec rm -rf {} + \
 && /opt/venv/bin/python -m compileall -q -j 0 /opt/venv/lib

FROM ${BASE_IMAGE}

# Ordered for the build cache: what never changes first, the code and the per-build labels last.

# A fixed UID/GID so the /data volume keeps its owner across upgrades and hosts.
RUN groupadd --gid 10001 convoywatch \
 && useradd --uid 10001 --gid 10001 --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin convoywatch \
 && mkdir -p /data/inbox \
 && chown -R 10001:10001 /data \
 && chmod 0750 /data

# Everything mutable lives under /data (the database, the Telegram session, digests, inbox).
ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    CONVOYWATCH_DB=/data/convoywatch.db \
    CONVOYWATCH_DATA_DIR=/data \
    CONVOYWATCH_INBOX=/data/inbox \
    CONVOYWATCH_SESSION_FILE=/data/convoywatch.session \
    CONVOYWATCH_HEALTH_HOST=0.0.0.0 \
    CONVOYWATCH_HEALTH_PORT=8080 \
    CONVOYWATCH_LOG_FORMAT=json

WORKDIR /app
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8080

# The service drains its queue and closes the store on SIGTERM (give it the compose grace period).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["convoywatch", "healthcheck"]
ENTRYPOINT ["convoywatch"]
CMD ["run"]

# The code (root-owned, read-only for the service user) and the configuration it ships with.
COPY --from=builder /opt/venv /opt/venv
COPY config ./config

ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="convoywatch" \
      org.opencontainers.image.description="Telegram channel monitor: reports of attacks on convoys as grouped incidents and digests for analysts" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.documentation="docs/docker.md"
