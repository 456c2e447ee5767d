#!/usr/bin/env bash
# Build the real Dockerfile and prove the image works, on a machine without a Docker engine.
#
#   make docker-test            (or: sudo docker/docker-test.sh)
#   docker/docker-test.sh --clean   removes the images, the build cache and the cached base
#
# 1. installs buildah and debootstrap if missing (Debian/Ubuntu, as root);
# 2. makes a local base image, localhost/convoywatch-base: a minimal Debian (bookworm, python3
#    3.11 + venv) made by debootstrap, plus this machine's CA bundle so pip can reach the index
#    through a TLS-inspecting proxy. Cached under $CONVOYWATCH_BASE_CACHE between runs;
# 3. builds ./Dockerfile with buildah (chroot isolation, vfs storage) on that base, passing
#    pip's index settings of this machine as build args (nothing about the index is in the repo);
# 4. runs the image's entrypoint on the embedded default with a scratch /data volume and
#    checks: it processes the sample, /healthz and `convoywatch healthcheck` answer healthy,
#    /metrics counts the sample's posts, SIGTERM stops it with exit 0 and an intact database.
#
# Environment: CONVOYWATCH_BASE_CACHE (default /var/tmp/convoywatch-base),
# DOCKER_TEST_IMAGE (default localhost/convoywatch:test), DOCKER_TEST_KEEP=1 keeps the
# scratch data folder, DOCKER_TEST_REBUILD_BASE=1 rebuilds the base image,
# DOCKER_TEST_LAYERS=1 uses buildah's layer cache (slower with vfs unless little changed),
# DOCKER_TEST_LOCAL_INDEXES=1 also passes pip's local (file://, folder) indexes and find-links,
# mounted read-only into the build (by default only network indexes are passed: a local
# folder of this machine is not part of a portable build).
set -euo pipefail

if [[ "${1:-}" == "--clean" ]]; then
    # Remove everything this script made: the test and base images, buildah's build cache
    # (all images in buildah's vfs storage) and the cached Debian root file system.
    buildah --storage-driver vfs rmi --all --force >/dev/null 2>&1 || true
    rm -rf "${CONVOYWATCH_BASE_CACHE:-/var/tmp/convoywatch-base}"
    echo "docker-test: cleaned"
    exit 0
fi

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${CONVOYWATCH_BASE_CACHE:-/var/tmp/convoywatch-base}"
BASE_IMAGE="localhost/convoywatch-base"
IMAGE="${DOCKER_TEST_IMAGE:-localhost/convoywatch:test}"
SUITE="bookworm"
BUILDAH=(buildah --storage-driver vfs)
START=$SECONDS
STEP_START=$SECONDS
WORK=""
CONTAINERS=()
RUN_PID=""

step() {
    local now=$SECONDS
    if [[ -n "${STEP_NAME:-}" ]]; then
        printf 'docker-test: %-34s %4ds\n' "$STEP_NAME" $((now - STEP_START))
    fi
    STEP_NAME="$1"
    STEP_START=$now
}

fail() {
    echo "docker-test: FAIL: $*" >&2
    if [[ -n "$WORK" && -f "$WORK/run.log" ]]; then
        echo "--- last lines of the service's output ---" >&2
        tail -n 40 "$WORK/run.log" >&2
    fi
    exit 1
}

cleanup() {
    local status=$?
    if [[ -n "$RUN_PID" ]] && kill -0 "$RUN_PID" 2>/dev/null; then
        kill -KILL "$RUN_PID" 2>/dev/null || true
        wait "$RUN_PID" 2>/dev/null || true
    fi
    for ctr in "${CONTAINERS[@]}"; do
        "${BUILDAH[@]}" rm "$ctr" >/dev/null 2>&1 || true
    done
    if [[ -n "$WORK" && "${DOCKER_TEST_KEEP:-0}" != 1 ]]; then
        rm -rf "$WORK"
    elif [[ -n "$WORK" ]]; then
        echo "docker-test: kept $WORK"
    fi
    exit "$status"
}
trap cleanup EXIT

[[ "$(id -u)" == 0 ]] || fail "run as root (buildah with vfs storage and debootstrap need it)"

# --- 1. tools ---------------------------------------------------------------------------
step "tools"
missing=()
command -v buildah >/dev/null || missing+=(buildah)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if ((${#missing[@]})); then
    echo "docker-test: installing ${missing[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
fi

# --- 2. base image ----------------------------------------------------------------------
# The Debian mirror apt already uses here (so no host name is written in this repo).
debian_mirror() {
    local uri=""
    if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
        uri="$(awk '/^URIs:/ {for (i = 2; i <= NF; i++) if ($i !~ /security/) {print $i; exit}}' \
            /etc/apt/sources.list.d/debian.sources)"
    fi
    if [[ -z "$uri" && -f /etc/apt/sources.list ]]; then
        uri="$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) {print $i; exit}}' \
            /etc/apt/sources.list)"
    fi
    echo "$uri"
}

pip_setting() {  # the environment wins over pip's configuration files, as in pip itself
    local env_name="PIP_$(echo "$1" | tr 'a-z-' 'A-Z_')"
    if [[ -n "${!env_name:-}" ]]; then
        echo "${!env_name}"
    else
        python3 -m pip config get "global.$1" 2>/dev/null || true
    fi
}

CERT="$(pip_setting cert)"
CERT="${CERT:-/etc/ssl/certs/ca-certificates.crt}"
[[ -f "$CERT" ]] || fail "CA bundle $CERT (pip's global.cert / \$PIP_CERT) not found"

step "base rootfs (debootstrap)"
if [[ ! -x "$CACHE/rootfs/usr/bin/python3" || "${DOCKER_TEST_REBUILD_BASE:-0}" == 1 ]]; then
    mkdir -p "$CACHE"
    rm -rf "$CACHE/rootfs.tmp" "$CACHE/rootfs"
    mirror="$(debian_mirror)"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
        "$SUITE" "$CACHE/rootfs.tmp" ${mirror:+"$mirror"} >"$CACHE/debootstrap.log" 2>&1 \
        || { tail -n 20 "$CACHE/debootstrap.log" >&2; fail "debootstrap failed (log: $CACHE/debootstrap.log)"; }
    mv "$CACHE/rootfs.tmp" "$CACHE/rootfs"
    rm -f "$CACHE/base.stamp"
fi

step "base image"
stamp="$(sha256sum "$CERT" | cut -c1-16)-$(stat -c %Y "$CACHE/rootfs/usr/bin/python3")"
if ! "${BUILDAH[@]}" inspect --type image "$BASE_IMAGE" >/dev/null 2>&1 \
    || [[ "$(cat "$CACHE/base.stamp" 2>/dev/null)" != "$stamp" ]]; then
    tar -C "$CACHE/rootfs" --numeric-owner \
        --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' --exclude='./run/*' \
        --exclude='./var/cache/apt/*' --exclude='./var/lib/apt/lists/*' --exclude='./tmp/*' \
        -cf "$CACHE/rootfs.tar" .
    ctr="$("${BUILDAH[@]}" from scratch)"
    CONTAINERS+=("$ctr")
    "${BUILDAH[@]}" add "$ctr" "$CACHE/rootfs.tar" / >/dev/null
    # This machine's CA bundle (a superset of Debian's): only in this local base image.
    "${BUILDAH[@]}" copy "$ctr" "$CERT" /etc/ssl/certs/ca-certificates.crt >/dev/null
    "${BUILDAH[@]}" config \
        --env LANG=C.UTF-8 \
        --env PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
        --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
        --cmd /usr/bin/python3 "$ctr"
    "${BUILDAH[@]}" commit --quiet --rm "$ctr" "$BASE_IMAGE" >/dev/null
    CONTAINERS=()
    rm -f "$CACHE/rootfs.tar"
    echo "$stamp" >"$CACHE/base.stamp"
fi

# --- 3. build the real Dockerfile -------------------------------------------------------
step "build image"
build_args=(--build-arg "BASE_IMAGE=$BASE_IMAGE"
    --build-arg "REVISION=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    --build-arg "CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ)")
volumes=()
declare -A mounted=()
for key in index-url extra-index-url trusted-host find-links; do
    value="$(pip_setting "$key")"
    kept=()
    for item in $value; do
        path=""
        case "$item" in
            file://*) path="${item#file://}" ;;
            /*) path="$item" ;;
        esac
        if [[ -n "$path" ]]; then
            # A local index or wheel folder: only with DOCKER_TEST_LOCAL_INDEXES=1, then visible
            # in the build at the same path, read-only (a ".../simple" index with its parent,
            # where such indexes keep their files).
            [[ "${DOCKER_TEST_LOCAL_INDEXES:-0}" == 1 && -d "$path" ]] || continue
            path="${path%/}"
            [[ "$(basename "$path")" == simple ]] && path="$(dirname "$path")"
            if [[ -z "${mounted[$path]:-}" ]]; then
                volumes+=(--volume "$path:$path:ro")
                mounted[$path]=1
            fi
        fi
        kept+=("$item")
    done
    if ((${#kept[@]})); then
        build_args+=(--build-arg "PIP_$(echo "$key" | tr 'a-z-' 'A-Z_')=${kept[*]}")
    fi
done
for name in HTTP_PROXY HTTPS_PROXY NO_PROXY http_proxy https_proxy no_proxy; do
    [[ -n "${!name:-}" ]] && build_args+=(--build-arg "$name=${!name}")
done
previous="$("${BUILDAH[@]}" images --quiet --no-trunc "$IMAGE" 2>/dev/null || true)"
# vfs copies the whole file system for every cached step, which makes --layers slower than a
# full rebuild here (20 min against 4 min on a busy 2-core machine): off unless asked for.
layers=()
[[ "${DOCKER_TEST_LAYERS:-0}" == 1 ]] && layers=(--layers)
"${BUILDAH[@]}" bud --isolation chroot --format docker "${layers[@]}" --pull=false \
    "${volumes[@]}" "${build_args[@]}" -f "$REPO/Dockerfile" -t "$IMAGE" "$REPO" >"$CACHE/build.log" 2>&1 \
    || { tail -n 30 "$CACHE/build.log" >&2; fail "buildah bud failed (log: $CACHE/build.log)"; }

current="$("${BUILDAH[@]}" images --quiet --no-trunc "$IMAGE")"
if [[ -n "$previous" && "$previous" != "$current" ]]; then
    # vfs stores every layer in full: drop the image this build replaced (its cache layers stay).
    "${BUILDAH[@]}" rmi "$previous" >/dev/null 2>&1 || true
fi
if ((${#layers[@]} == 0)); then
    "${BUILDAH[@]}" rmi --prune >/dev/null 2>&1 || true  # the builder stage's untagged image
fi

step "inspect image"
"${BUILDAH[@]}" inspect --type image "$IMAGE" >"$CACHE/inspect.json"
entrypoint="$(python3 - "$CACHE/inspect.json" <<'EOF'
import json, sys
config = json.load(open(sys.argv[1]))["Docker"]["config"]
problems = []
if config.get("User") != "10001:10001":
    problems.append(f"user is {config.get('User')!r}, not 10001:10001")
if config.get("StopSignal") != "SIGTERM":
    problems.append("STOPSIGNAL is not SIGTERM")
if (config.get("Healthcheck") or {}).get("Test") != ["CMD", "convoywatch", "healthcheck"]:
    problems.append(f"HEALTHCHECK is {config.get('Healthcheck')!r}")
if "/data" not in (config.get("Volumes") or {}):
    problems.append("/data is not a volume")
if "org.opencontainers.image.title" not in (config.get("Labels") or {}):
    problems.append("no OCI labels")
if problems:
    sys.exit("; ".join(problems))
print(" ".join((config.get("Entrypoint") or []) + (config.get("Cmd") or [])))
EOF
)" || fail "the image's configuration is wrong"
[[ "$entrypoint" == "convoywatch run" ]] || fail "entrypoint + cmd is '$entrypoint', expected 'convoywatch run'"
image_size="$("${BUILDAH[@]}" images --json "$IMAGE" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["size"])')"

# --- 4. run it ------------------------------------------------------------------------------
step "run: start and healthy"
WORK="$(mktemp -d /var/tmp/convoywatch-docker-test.XXXXXX)"
mkdir -p "$WORK/data"
chown 10001:10001 "$WORK/data"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"

service="$("${BUILDAH[@]}" from --pull=false "$IMAGE")"
CONTAINERS+=("$service")
checker="$("${BUILDAH[@]}" from --pull=false "$IMAGE")"
CONTAINERS+=("$checker")
# Host networking (chroot isolation): bind loopback on a free port instead of 0.0.0.0:8080.
# `buildah run` mounts an image VOLUME itself and ignores --volume on the same path (unlike
# `docker run -v`), so the declaration is dropped from these working containers.
for ctr in "$service" "$checker"; do
    "${BUILDAH[@]}" config --env CONVOYWATCH_HEALTH_PORT="$port" --env CONVOYWATCH_HEALTH_HOST=127.0.0.1 \
        --volume /data- "$ctr"
done

# The image's own entrypoint and command, as `docker run IMAGE` would start them.
read -r -a command <<<"$entrypoint"
"${BUILDAH[@]}" run --isolation chroot --volume "$WORK/data:/data" "$service" -- "${command[@]}" \
    >"$WORK/run.log" 2>&1 &
RUN_PID=$!

healthy=0
for _ in $(seq 1 240); do
    kill -0 "$RUN_PID" 2>/dev/null || fail "the service exited before it became healthy"
    if python3 - "$port" <<'EOF' 2>/dev/null; then
import sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
with opener.open(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=2) as answer:
    sys.exit(0 if answer.status == 200 else 1)
EOF
        healthy=1
        break
    fi
    sleep 0.5
done
((healthy)) || fail "/healthz never answered 200"

step "run: healthcheck + metrics"
"${BUILDAH[@]}" run --isolation chroot "$checker" -- convoywatch healthcheck >"$WORK/healthcheck.log" 2>&1 \
    || { cat "$WORK/healthcheck.log" >&2; fail "'convoywatch healthcheck' in the image did not exit 0"; }
python3 - "$port" "$WORK/metrics.txt" <<'EOF' || fail "/metrics does not show the sample processed"
import re, sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
text = opener.open(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode()
open(sys.argv[2], "w").write(text)
def total(name):
    return sum(float(v) for v in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M))
posts, relevant = total("convoywatch_posts_ingested_total"), total("convoywatch_relevant_posts_total")
print(f"docker-test: metrics: {posts:.0f} posts ingested, {relevant:.0f} relevant, "
      f"{total('convoywatch_events_total'):.0f} events, {total('convoywatch_incidents_total'):.0f} incidents")
sys.exit(0 if posts > 0 and relevant > 0 else 1)
EOF

step "run: SIGTERM"
# The python process is a child of `buildah run` on this host (chroot isolation, no PID namespace).
descendants() {
    local child
    for child in $(ps -o pid= --ppid "$1"); do
        echo "$child"
        descendants "$child"
    done
}
target=""
for _ in $(seq 1 20); do
    for pid in $(descendants "$RUN_PID"); do
        if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'convoywatch run'; then
            target="$pid"
        fi
    done
    [[ -n "$target" ]] && break
    sleep 0.2
done
[[ -n "$target" ]] || fail "could not find the service's process under buildah run ($RUN_PID)"
kill -TERM "$target"
stopped=0
for _ in $(seq 1 60); do
    if ! kill -0 "$RUN_PID" 2>/dev/null; then stopped=1; break; fi
    sleep 0.5
done
((stopped)) || fail "the service did not stop within 30 s of SIGTERM"
set +e
wait "$RUN_PID"
code=$?
set -e
RUN_PID=""
((code == 0)) || fail "the service exited with $code after SIGTERM, expected 0"

step "run: database + logs"
[[ -z "$(find "$WORK/data" ! -uid 10001 -print -quit)" ]] || fail "files in /data not owned by UID 10001"
grep -q '"event": "service.stopped"' "$WORK/run.log" || fail "no service.stopped log line"
if grep -v '^{' "$WORK/run.log" | grep -qi 'traceback'; then fail "a traceback in the service's output"; fi
# Checked inside the image, as its user, like `docker run --rm -v VOLUME:/data IMAGE ...`.
"${BUILDAH[@]}" run --isolation chroot --volume "$WORK/data:/data" "$checker" -- python -c '
import sqlite3, sys
conn = sqlite3.connect("/data/convoywatch.db")
result = conn.execute("PRAGMA integrity_check").fetchall()
conn.close()
print("integrity_check:", result)
sys.exit(0 if result == [("ok",)] else 1)
' >"$WORK/integrity.log" 2>&1 || { cat "$WORK/integrity.log" >&2; fail "the database is not intact after the stop"; }
"${BUILDAH[@]}" run --isolation chroot --volume "$WORK/data:/data" "$checker" -- convoywatch stats --json \
    >"$WORK/stats.json" 2>"$WORK/stats.err" || { cat "$WORK/stats.err" >&2; fail "'convoywatch stats' in the image failed"; }
python3 - "$WORK/stats.json" "$WORK/metrics.txt" <<'EOF' || fail "the database does not hold what /metrics counted"
import json, re, sys
stats = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
counted = sum(float(v) for v in re.findall(r"^convoywatch_posts_ingested_total\{[^}]*\} (\S+)$", text, re.M))
print(f"docker-test: database: integrity ok, {stats['posts']} posts, {stats['incidents']} incidents")
sys.exit(0 if stats["posts"] == counted > 0 else 1)
EOF

step ""
printf 'docker-test: image %s: %s\n' "$IMAGE" "$image_size"
printf 'docker-test: PASS in %ds\n' $((SECONDS - START))
