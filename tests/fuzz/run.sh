#!/bin/sh
# Runs the libFuzzer targets: `make fuzz`, `make fuzz-long`, `make fuzz-regress`
# (tests/fuzz/README.md).
#
#   run.sh fuzz SECONDS TARGET...    fuzz each target for SECONDS, one after
#                                    the other, starting from its seed corpus
#   run.sh regress TARGET...         run each target once on every file of its
#                                    seed corpus (the regression inputs)
#
# Environment: top_srcdir, top_builddir (from make).  Exit status 1 if any
# target crashed, leaked or broke an invariant; the input that did it is left
# in $top_builddir/tests/fuzz/crashes/ and the log in tests/fuzz/TARGET.log.
set -u

mode=$1
shift
seconds=0
if [ "$mode" = fuzz ]; then
    seconds=$1
    shift
fi
srcdir=${top_srcdir:-.}/tests/fuzz
builddir=${top_builddir:-.}/tests/fuzz

# The largest input worth trying, per target.
max_len() {
    case $1 in
    chat_request) echo 16384 ;;
    messages_request) echo 16384 ;;
    gemini_request) echo 16384 ;;
    responses_request) echo 16384 ;;
    pipe_decoder) echo 4096 ;;
    fcgi_params) echo 8192 ;;
    stop_cutter) echo 512 ;;
    token_estimate) echo 4096 ;;
    *) echo 4096 ;;
    esac
}

status=0
for target in "$@"; do
    binary=$builddir/fuzz_$target
    seeds=$srcdir/corpus/$target
    if [ "$target" = fcgi_params ]; then
        # Its seeds are the golden tests' requests (tests/golden/*.golden),
        # cut before their expected response.
        seeds=$builddir/seeds-$target
        rm -rf "$seeds" && mkdir -p "$seeds"
        for golden in "${top_srcdir:-.}"/tests/golden/*.golden; do
            awk '/^#--- response/ { exit } { print }' "$golden" >"$seeds/$(basename "$golden" .golden)"
        done
    fi
    dict=$srcdir/dict/$target.dict
    log=$builddir/$target.log
    if [ ! -x "$binary" ]; then
        echo "fuzz: $binary is missing: configure with --enable-fuzzing CC=clang-14 and run make" >&2
        exit 2
    fi
    set --
    [ -f "$dict" ] && set -- -dict="$dict"
    case $mode in
    regress)
        inputs=$(find "$seeds" -type f | sort)
        if [ -z "$inputs" ]; then
            echo "fuzz $target: no corpus inputs in $seeds" >&2
            status=1
            continue
        fi
        # shellcheck disable=SC2086
        if "$binary" "$@" $inputs >"$log" 2>&1; then
            echo "fuzz $target: $(echo "$inputs" | wc -l) corpus inputs pass"
        else
            echo "fuzz $target: FAILED on a corpus input; see $log" >&2
            tail -n 40 "$log" >&2
            status=1
        fi
        ;;
    fuzz)
        # New inputs go to a work corpus in the build tree; the seed corpus
        # in the source tree is only read.
        work=$builddir/work/$target
        crashes=$builddir/crashes
        mkdir -p "$work" "$crashes"
        if "$binary" "$@" -max_total_time="$seconds" -max_len="$(max_len "$target")" \
            -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$crashes/$target-" "$work" "$seeds" >"$log" 2>&1; then
            stats=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -n 1)
            runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
            rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
            cov=$(echo "$stats" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
            ft=$(echo "$stats" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
            corp=$(echo "$stats" | sed -n 's/.*corp: \([0-9]*\).*/\1/p')
            echo "fuzz $target: ${seconds}s, $runs runs, $rate exec/s, cov $cov, ft $ft, corpus $corp: no crash"
        else
            echo "fuzz $target: CRASH (or leak, or broken invariant); see $log" >&2
            grep -E '^(==[0-9]+==ERROR|SUMMARY|.*invariant broken|artifact_prefix|Test unit written)' "$log" >&2
            status=1
        fi
        ;;
    *)
        echo "usage: run.sh fuzz SECONDS TARGET... | run.sh regress TARGET..." >&2
        exit 2
        ;;
    esac
done
exit $status
