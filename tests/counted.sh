#!/bin/sh
# counted.sh SUITE COMMAND [ARG]...: runs COMMAND, a run of node's test
# runner, with its output shown as it comes, and exits with COMMAND's status;
# or with 1, naming SUITE, when COMMAND passed but ran no test. node --test
# exits 0 then (a directory that holds no test file, test files left
# out of the release tarball, a filter that skipped everything), so without
# this a suite could pass by testing nothing.
#
# The count is the runner's closing summary: `# pass N` with the TAP
# reporter (node's default when stdout is not a terminal, as here) or
# `ℹ pass N` with the spec reporter. Used by tests/integration/run.sh,
# tests/extension/run.sh and tests/e2e/run.sh.
set -eu

if [ $# -lt 2 ]; then
    echo "usage: counted.sh SUITE COMMAND [ARG]..." >&2
    exit 2
fi
suite=$1
shift

out=$(mktemp "${TMPDIR:-/tmp}/counted.XXXXXX")
trap 'rm -f "$out" "$out.fifo"' EXIT

# COMMAND writes into a FIFO that tee copies to stdout and to $out. COMMAND
# runs in the background so that a signal sent to this script reaches it
# too (a shell runs its traps only once a foreground child has ended).
mkfifo "$out.fifo"
tee "$out" <"$out.fifo" &
tee_pid=$!
"$@" >"$out.fifo" &
pid=$!
trap 'kill -HUP "$pid" 2>/dev/null || :' HUP
trap 'kill -INT "$pid" 2>/dev/null || :' INT
trap 'kill -TERM "$pid" 2>/dev/null || :' TERM
status=0
wait "$pid" || status=$?
# A signal interrupted the wait: COMMAND got it too, wait for its end.
while kill -0 "$pid" 2>/dev/null; do
    status=0
    wait "$pid" || status=$?
done
wait "$tee_pid" || :
[ "$status" -eq 0 ] || exit "$status"

passed=$(sed -n 's/^\(# \|ℹ \)pass \([0-9][0-9]*\)$/\2/p' "$out" | tail -n 1)
if [ "${passed:-0}" -eq 0 ]; then
    printf '\ncounted.sh: FAILED: the %s suite ran no test (%s)\n' "$suite" "$*" >&2
    exit 1
fi
