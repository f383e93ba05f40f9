#!/usr/bin/env bash
# Soak test: 60 s of mixed traffic at 64 connections against a release build, as a busy
# site would send it: photo hits at several sizes, misses that draw generated defaults (new
# hashes, every style), and revalidations answered with 304. Prints requests/s, p50/p99
# latency, errors, and Cameo's resident memory (sampled every second), then PASS/FAIL for the
# targets: zero errors and RSS under 100 MB with the default cache size.
#
# Run from the crate root, as root on Debian (it installs wrk with apt-get when missing):
#     bash bench/soak.sh
# Environment:
#     DURATION=60s  CONNECTIONS=64  THREADS=2  PHOTOS=50  KEEP_TMP=1 (keep logs and data)
set -euo pipefail

DURATION=${DURATION:-60s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
PHOTOS=${PHOTOS:-50}
RSS_LIMIT_KB=$((100 * 1024))

cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

need_tools wrk
require_tools curl python3 awk
build_release --quiet
scratch_dir soak
offline_env

say "adding $PHOTOS photos"
mkdir -p "$TMP/photos"
python3 bench/make_photo.py "$TMP/photo.png" 512
for n in $(seq "$PHOTOS"); do cp "$TMP/photo.png" "$TMP/photos/user$n@example.org.png"; done
"$CAMEO" import "$TMP/photos" >/dev/null

say "starting Cameo on $BASE"
RUST_LOG=warn start_cameo "$PORT" "$TMP/server.log" serve

# The hashes of the imported addresses, and the ETag of one rendition for the 304 share.
python3 - "$TMP/photos" >"$TMP/hashes.txt" <<'EOF'
import hashlib, os, sys
for name in sorted(os.listdir(sys.argv[1])):
    address = name.rsplit(".", 1)[0].strip().lower()
    print(hashlib.md5(address.encode()).hexdigest())
EOF
FIRST=$(head -n1 "$TMP/hashes.txt")
ETAG=$(curl -fsS -D - -o /dev/null "$BASE/avatar/$FIRST?s=80" | awk 'tolower($1) == "etag:" { print $2 }' | tr -d '\r')
[ -n "$ETAG" ] || die "no ETag on a photo"

# The mix, per request: 60 % photo hits (sizes 32..256), 25 % misses with a new hash drawing
# a default, 15 % revalidations of one photo with its ETag (304).
cat >"$TMP/mix.lua" <<EOF
local hashes = {}
for line in io.lines("$TMP/hashes.txt") do hashes[#hashes + 1] = line end
local sizes = { 32, 48, 64, 80, 128, 256 }
local styles = { "identicon", "monsterid", "wavatar", "retro", "robohash", "pagan", "mp", "initials&name=Load+Test" }
local counter = 0
local statuses = {}
function setup(thread) thread:set("id", math.random(1, 1000000)) end
request = function()
    counter = counter + 1
    local pick = math.random(100)
    if pick <= 60 then
        local hash = hashes[math.random(#hashes)]
        return wrk.format("GET", "/avatar/" .. hash .. "?s=" .. sizes[math.random(#sizes)])
    elseif pick <= 85 then
        local hash = string.format("%08x%08x%08x%08x", id, counter, math.random(0, 0x7fffffff), pick)
        return wrk.format("GET", "/avatar/" .. hash .. "?s=80&d=" .. styles[math.random(#styles)])
    else
        return wrk.format("GET", "/avatar/$FIRST?s=80", { ["If-None-Match"] = '$ETAG' })
    end
end
response = function(status)
    statuses[status] = (statuses[status] or 0) + 1
end
done = function(summary, latency, requests)
    io.write(string.format("latency_p50_ms %.2f\n", latency:percentile(50) / 1000))
    io.write(string.format("latency_p99_ms %.2f\n", latency:percentile(99) / 1000))
    io.write(string.format("latency_max_ms %.2f\n", latency.max / 1000))
end
EOF

# Resident memory, once a second, for the whole run.
sample_rss "$CAMEO_PID" 1 "$TMP/rss.txt"

say "running $DURATION at $CONNECTIONS connections"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$TMP/mix.lua" "$BASE" >"$TMP/wrk.txt"
kill "$SAMPLER_PID" 2>/dev/null || true
CACHE_BYTES=$(curl -fsS "$BASE/metrics" | awk '$1 == "cameo_render_cache_bytes" { printf "%d", $2 }')

RPS=$(awk '/Requests\/sec/ { print $2 }' "$TMP/wrk.txt")
TOTAL=$(awk '/requests in/ { print $1 }' "$TMP/wrk.txt")
NON2XX=$(awk '/Non-2xx or 3xx/ { print $5 }' "$TMP/wrk.txt")
SOCKET=$(awk '/Socket errors/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' "$TMP/wrk.txt")
P50=$(awk '/latency_p50_ms/ { print $2 }' "$TMP/wrk.txt")
P99=$(awk '/latency_p99_ms/ { print $2 }' "$TMP/wrk.txt")
MAX=$(awk '/latency_max_ms/ { print $2 }' "$TMP/wrk.txt")
RSS_PEAK=$(sort -n "$TMP/rss.txt" | tail -n1)
RSS_END=$(tail -n1 "$TMP/rss.txt")
HWM=$(rss_kb "$CAMEO_PID" VmHWM)
ERRORS=$(( ${NON2XX:-0} + ${SOCKET:-0} ))

printf '\n%-28s %s\n' "requests" "$TOTAL"
printf '%-28s %s\n' "requests/s" "$RPS"
printf '%-28s %s / %s / %s\n' "latency p50 / p99 / max ms" "$P50" "$P99" "$MAX"
printf '%-28s %s\n' "errors (non-2xx/3xx, socket)" "$ERRORS"
printf '%-28s %s MB (end %s MB, VmHWM %s MB)\n' "RSS peak (1 s samples)" \
    "$((RSS_PEAK / 1024))" "$((RSS_END / 1024))" "$((HWM / 1024))"
printf '%-28s %s MB\n' "render cache held at the end" "$(( ${CACHE_BYTES:-0} / 1048576 ))"

status=0
if [ "$ERRORS" -ne 0 ]; then echo "FAIL: $ERRORS errors"; status=1; fi
if [ "$HWM" -ge "$RSS_LIMIT_KB" ]; then echo "FAIL: peak RSS ${HWM} kB >= 100 MB"; status=1; fi
[ "$status" = 0 ] && echo "PASS: zero errors, RSS under 100 MB"
exit "$status"
