# shellcheck shell=sh
# tree.sh: sourced by the test runners (tests/integration/run.sh,
# tests/extension/run.sh, tests/worker/build-harness.sh), which install npm
# packages and build bundles in the source tree, except when it is
# read-only (distcheck's `chmod a-w`): then they work on a copy.

# Writable for us, judged by the mode bits too: root may write anywhere, but
# a tree made read-only must be left alone.
writable() {
    [ -w "$1" ] && [ -n "$(find "$1" -maxdepth 0 -perm -u+w -print)" ]
}

# Does anything in $1 (relative paths $3...) have an mtime newer than file $1/$2?
newer_than() {
    dir=$1 ref=$2
    shift 2
    [ -n "$(cd "$dir" && find "$@" -newer "$ref" -print 2>/dev/null | head -n 1)" ]
}

# Copies $3... (relative to $1) into a fresh writable directory $2.
copy_tree() {
    src=$1 dest=$2
    shift 2
    rm -rf "$dest"
    mkdir -p "$dest"
    (cd "$src" && cp -R "$@" "$dest/")
    chmod -R u+w "$dest"
}
