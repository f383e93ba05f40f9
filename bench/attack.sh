#!/usr/bin/env bash
# Every attack bench of issue 13, one after another, against one release build: the
# password-hashing flood, parallel huge uploads, the animated-GIF flood, and the probe flood
# with the HEAD/405 walk. Each prints its figures and PASS/FAIL lines; this script prints a
# summary of those lines at the end and exits non-zero if any target failed.
#
# Run from the crate root, as root on Debian (wrk is installed when missing):
#     bash bench/attack.sh
# Each script's own environment variables apply (see their headers in bench/attack/).
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

say "cargo build --release"
cargo build --release --quiet || die "the release build failed"

SUMMARY=$(mktemp)
OUTPUT=$(mktemp)
trap 'rm -f "$SUMMARY" "$OUTPUT"' EXIT
status=0
for script in passwords uploads animations probes; do
    say "bench/attack/$script.sh"
    bash "bench/attack/$script.sh" >"$OUTPUT" 2>&1
    code=$?
    cat "$OUTPUT"
    grep -E 'PASS|FAIL' "$OUTPUT" | sed "s|^|$script: |" >>"$SUMMARY"
    [ "$code" = 0 ] || printf '%s: exited with status %s\n' "$script" "$code" >>"$SUMMARY"
done
say "summary"
cat "$SUMMARY"
grep -q 'FAIL\|exited with status' "$SUMMARY" && status=1
exit "$status"
