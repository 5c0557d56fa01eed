#!/bin/sh
# run.sh: what `make bench` runs (tests/bench/README.md).  Makes sure the
# tools are there -- wrk (installed from Debian with apt-get when missing),
# nginx, node -- then runs bench.mjs, which prints the table.
#
# `make bench` sets: top_srcdir top_builddir LITELLMCTL LITELLM_FCGI
# LITELLM_TEMPLATES BENCH_BIN_DIR NODE.  Knobs (environment): BENCH_ROUNDS,
# BENCH_DURATION, BENCH_CONNECTIONS, BENCH_CHUNKS, BENCH_PACE_US, BENCH_SCALE,
# BENCH_LIBFCGI, BENCH_CANDIDATE, BENCH_JSON, BENCH_NODE_WORKER,
# BENCH_NODE_WORKER_PROF, BENCH_NODE_WORKER_BASELINE (see bench.mjs).
#
# The real-worker row (BENCH_NODE_WORKER, on unless 0) runs the extension's
# harness bundle, extension/out/harness.mjs: built here when missing or older
# than its sources (tests/worker/build-harness.sh: `npm ci`, `npm run
# build:harness`), unless LITELLM_EXTENSION_HARNESS names one.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
NODE=${NODE:-node}
[ -n "$NODE" ] || NODE=node

apt_install() {
    if [ "$(id -u)" -eq 0 ]; then
        apt-get install -y --no-install-recommends "$@" >&2 ||
            { apt-get update >&2 && apt-get install -y --no-install-recommends "$@" >&2; }
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo -n apt-get install -y --no-install-recommends "$@" >&2 ||
            { sudo -n apt-get update >&2 && sudo -n apt-get install -y --no-install-recommends "$@" >&2; }
    else
        echo "bench: $* missing; install it (apt-get install $*) or run as root" >&2
        return 1
    fi
}

WRK=${WRK:-wrk}
if ! command -v "$WRK" >/dev/null 2>&1; then
    echo "bench: installing wrk (Debian package)" >&2
    apt_install wrk
    WRK=wrk
fi
nginx=${LITELLM_NGINX:-nginx}
if ! command -v "$nginx" >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
    echo "bench: installing nginx-light (Debian package)" >&2
    apt_install nginx-light
fi
command -v "$nginx" >/dev/null 2>&1 || LITELLM_NGINX=/usr/sbin/nginx
command -v "$NODE" >/dev/null 2>&1 || { echo "bench: node (20 or later) is required" >&2; exit 1; }

if [ "${BENCH_NODE_WORKER:-1}" != 0 ] && [ -z "${LITELLM_EXTENSION_HARNESS:-}" ]; then
    top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
    copy_dir=$(cd "${top_builddir:-.}" && pwd)/bench-extension
    LITELLM_EXTENSION_HARNESS=$(top_srcdir=$top_srcdir sh "$top_srcdir/tests/worker/build-harness.sh" "$copy_dir") || {
        echo "bench: could not build the extension's harness bundle (npm ci && npm run build:harness in extension/);" \
            "BENCH_NODE_WORKER=0 skips the real-worker row" >&2
        exit 1
    }
    export LITELLM_EXTENSION_HARNESS
fi

# A sanitizer build measures the sanitizer.
if [ -n "${LITELLM_FCGI:-}" ] && ldd "$LITELLM_FCGI" 2>/dev/null | grep -q 'lib[at]san'; then
    echo "bench: warning: $LITELLM_FCGI is a sanitizer build; its figures say little" >&2
fi

export WRK ${LITELLM_NGINX:+LITELLM_NGINX}
exec "$NODE" "$here/bench.mjs" "$@"
