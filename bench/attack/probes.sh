#!/usr/bin/env bash
# Issue 13, points 9 and 13, against a release build on loopback:
#  1. HEAD and 405: HEAD on the pages a load balancer or a crawler asks for, and a wrong
#     method on a form route (targets: HEAD answers 200 like GET; DELETE gets 405 + Allow).
#  2. A probe flood: FLOOD domain checks (/tools/check.json), CONCURRENCY at a time, from one
#     client, while a cached avatar is fetched every 10 ms (targets: exactly
#     outbound_probe_limit checks run, the rest get 429 + Retry-After; the cached avatar's
#     p99 stays under 50 ms; peak RSS under 100 MB).
#  3. The hot path through the route table and the HEAD middleware: wrk on one cached
#     avatar for WRK_DURATION at 32 connections (requests/s and p99, to set beside the same
#     run of another binary: BINARY=/path/to/old/cameo bash bench/attack/probes.sh).
#
# Run from the crate root (installs wrk with apt-get when missing, as root):
#     bash bench/attack/probes.sh
# Environment: FLOOD=300 CONCURRENCY=50 WRK_DURATION=10s BINARY=target/release/cameo
set -euo pipefail

FLOOD=${FLOOD:-300}
CONCURRENCY=${CONCURRENCY:-50}
WRK_DURATION=${WRK_DURATION:-10s}
LIMIT=30
RSS_LIMIT_KB=$((100 * 1024))

cd "$(dirname "$0")/../.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
need_tools wrk
if [ -n "${BINARY:-}" ]; then CAMEO=$BINARY; else build_release --quiet; fi

scratch_dir probes
offline_env
# Nothing answers DNS on 127.0.0.1:9: every check fails its lookups fast and touches no
# third party; what is measured is the budget, not the network.
export CAMEO_DNS_SERVERS=127.0.0.1:9 CAMEO_OUTBOUND_PROBE_LIMIT=$LIMIT

python3 bench/make_photo.py "$TMP/photo.png" 256
"$CAMEO" add bench@example.org --photo "$TMP/photo.png" >/dev/null
RUST_LOG=warn start_cameo "$PORT" "$TMP/server.log" serve
HASH=$(python3 -c 'import hashlib; print(hashlib.md5(b"bench@example.org").hexdigest())')
curl -fsS -o /dev/null "$BASE/avatar/$HASH?s=80"

say "1. HEAD and 405"
status=0
printf '%-34s %s\n' "request" "status (Allow)"
for path in / /healthz /readyz /metrics /tools/check /api/v1/providers /login /signup "/avatar/$HASH?s=80"; do
    code=$(curl -s -o /dev/null -w '%{http_code}' -I "$BASE$path")
    printf '%-34s %s\n' "HEAD ${path:0:28}" "$code"
    [ "$code" = 200 ] || status=1
done
allow=$(curl -s -o /dev/null -D - -X DELETE "$BASE/login" | awk 'tolower($1) == "allow:" { $1 = ""; print }' | tr -d '\r')
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$BASE/login")
printf '%-34s %s (%s)\n' "DELETE /login" "$code" "${allow# }"
[ "$code" = 405 ] && [ -n "$allow" ] || status=1

say "2. $FLOOD domain checks, $CONCURRENCY at a time, one client"
python3 - "$PORT" "$FLOOD" "$CONCURRENCY" "$HASH" >"$TMP/flood.txt" <<'EOF'
import asyncio, sys, time
port, flood, concurrency, digest = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]

async def get(path):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
    return int(head.split()[1]), "retry-after:" in head

async def main():
    statuses, retry_after = {}, 0
    gate = asyncio.Semaphore(concurrency)
    done = asyncio.Event()
    latencies = []

    async def check(i):
        nonlocal retry_after
        async with gate:
            code, has_retry = await get(f"/tools/check.json?q=n{i}.example.org")
            statuses[code] = statuses.get(code, 0) + 1
            retry_after += code == 429 and has_retry

    async def sample():
        while not done.is_set():
            started = time.perf_counter()
            await get(f"/avatar/{digest}?s=80")
            latencies.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.01)

    sampler = asyncio.create_task(sample())
    started = time.perf_counter()
    await asyncio.gather(*(check(i) for i in range(flood)))
    elapsed = time.perf_counter() - started
    done.set()
    await sampler
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"checks_200 {statuses.get(200, 0)}")
    print(f"checks_429 {statuses.get(429, 0)}")
    print(f"checks_other {sum(v for k, v in statuses.items() if k not in (200, 429))}")
    print(f"retry_after_on_429 {retry_after}")
    print(f"flood_seconds {elapsed:.2f}")
    print(f"avatar_samples {len(latencies)}")
    print(f"avatar_p50_ms {latencies[len(latencies) // 2]:.2f}")
    print(f"avatar_p99_ms {p99:.2f}")

asyncio.run(main())
EOF
value() { awk -v k="$1" '$1 == k { print $2 }' "$TMP/flood.txt"; }
OK=$(value checks_200)
REFUSED=$(value checks_429)
printf '%-34s %s\n' "checks run (200)" "$OK (target: exactly $LIMIT)"
printf '%-34s %s, %s with Retry-After\n' "checks refused (429)" "$REFUSED" "$(value retry_after_on_429)"
printf '%-34s %s\n' "other statuses" "$(value checks_other)"
printf '%-34s %s s\n' "flood took" "$(value flood_seconds)"
printf '%-34s %s / %s ms over %s samples\n' "cached avatar p50 / p99" \
    "$(value avatar_p50_ms)" "$(value avatar_p99_ms)" "$(value avatar_samples)"
[ "$OK" = "$LIMIT" ] && [ "$REFUSED" = $((FLOOD - LIMIT)) ] || status=1
awk -v p="$(value avatar_p99_ms)" 'BEGIN { exit !(p < 50) }' || status=1

say "3. wrk: one cached avatar, $WRK_DURATION at 32 connections"
cat >"$TMP/latency.lua" <<'EOF'
done = function(summary, latency, requests)
    io.write(string.format("latency_p99_ms %.2f\n", latency:percentile(99) / 1000))
end
EOF
wrk -t2 -c32 -d"$WRK_DURATION" -s "$TMP/latency.lua" "$BASE/avatar/$HASH?s=80" >"$TMP/wrk.txt"
printf '%-34s %s\n' "requests/s" "$(awk '/Requests\/sec/ { print $2 }' "$TMP/wrk.txt")"
printf '%-34s %s ms\n' "latency p99" "$(awk '/latency_p99_ms/ { print $2 }' "$TMP/wrk.txt")"

HWM=$(rss_kb "$CAMEO_PID" VmHWM)
printf '%-34s %s MB\n' "peak RSS (VmHWM)" "$((HWM / 1024))"
[ "$HWM" -lt "$RSS_LIMIT_KB" ] || status=1

if [ "$status" = 0 ]; then
    echo "PASS: HEAD 200 everywhere, 405 + Allow, exactly $LIMIT checks, avatar p99 < 50 ms, RSS < 100 MB"
else
    echo "FAIL: see the figures above"
fi
exit "$status"
