#!/usr/bin/env bash
# Attack bench (issue 13, point 3): 8 anonymous clients ask for an animated GIF at random
# sizes (1..512) for 15 s while one client fetches identicons of new hashes. Before the
# animation ladder, a 300-frame 360×360 upload rendered to 20–24 MB per size at ~3.3 s of a
# worker each; the flood pushed a new identicon to 2.8–8 s and RSS to 1.9 GB, sending 483 MB.
#
# The 300-frame 360×360 GIF (38.9 M frame-pixels) is now refused at intake, so the flood runs
# against the largest animation still accepted: 154 frames of 360×360 (20.0 M frame-pixels).
# Prints the identicon latency p50/p99, peak RSS, bytes sent and animated renditions drawn,
# then PASS/FAIL for the targets: identicon p99 under 50 ms and RSS under 300 MB.
#
# Run from the crate root:  bash bench/attack/animations.sh
# Environment:  DURATION=15 (seconds)  CLIENTS=8  KEEP_TMP=1 (keep logs and data)
set -euo pipefail

DURATION=${DURATION:-15}
CLIENTS=${CLIENTS:-8}
RSS_LIMIT_KB=$((300 * 1024))
P99_LIMIT_MS=50

cd "$(dirname "$0")/../.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
require_tools curl python3 awk
build_release --quiet
scratch_dir animations
offline_env

say "writing the animations"
# A GIF writer with its own LZW encoder (no imaging tools here): 8 distinct 360×360 frames,
# a moving pattern of tiles (6.9 MB for 300 frames, like the 7.2 MB attack file), repeated.
python3 - "$TMP" <<'EOF'
import struct, sys

out, side = sys.argv[1], 360


def lzw(indices):
    table = {bytes([i]): i for i in range(256)}
    clear, end, next_code, width = 256, 257, 258, 9
    bits = bit_count = 0
    out = bytearray()

    def emit(code):
        nonlocal bits, bit_count
        bits |= code << bit_count
        bit_count += width
        while bit_count >= 8:
            out.append(bits & 0xFF)
            bits >>= 8
            bit_count -= 8

    emit(clear)
    prefix = b""
    for value in indices:
        candidate = prefix + bytes([value])
        if candidate in table:
            prefix = candidate
            continue
        emit(table[prefix])
        if next_code == 4096:
            emit(clear)
            table = {bytes([i]): i for i in range(256)}
            next_code, width = 258, 9
        else:
            table[candidate] = next_code
            next_code += 1
            if next_code > (1 << width) and width < 12:
                width += 1
        prefix = bytes([value])
    emit(table[prefix])
    emit(end)
    if bit_count:
        out.append(bits & 0xFF)
    return bytes(out)


def frame_data(k):
    pixels = bytearray()
    for y in range(side):
        for x in range(side):
            pixels.append((x // 10 + (y // 12) * 7 + k * 5) % 256)
    data = lzw(pixels)
    blocks = b"".join(bytes([len(data[i:i + 255])]) + data[i:i + 255]
                      for i in range(0, len(data), 255))
    return b"\x08" + blocks + b"\x00"


palette = b"".join(bytes([(i * 3) % 256, (i * 5 + 60) % 256, 255 - i]) for i in range(256))
frames = [frame_data(k) for k in range(8)]


def gif(count):
    data = bytearray(b"GIF89a" + struct.pack("<HH", side, side) + b"\xf7\x00\x00" + palette)
    data += b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    for n in range(count):
        data += b"\x21\xf9\x04\x04\x04\x00\x00\x00"  # 40 ms, do not dispose
        data += b"\x2c" + struct.pack("<HHHH", 0, 0, side, side) + b"\x00" + frames[n % 8]
    return bytes(data + b"\x3b")


open(f"{out}/attack-300.gif", "wb").write(gif(300))
open(f"{out}/accepted-154.gif", "wb").write(gif(154))
EOF
ls -l "$TMP"/*.gif | awk '{ print "file", $NF, $5, "bytes" }'
if "$CAMEO" add attack@example.org --photo "$TMP/attack-300.gif" 2>"$TMP/refused.txt"; then
    echo "attack_upload accepted (expected a refusal)"
else
    echo "attack_upload refused: $(cat "$TMP/refused.txt")"
fi
"$CAMEO" add animated@example.org --photo "$TMP/accepted-154.gif" >/dev/null

say "starting Cameo on $BASE"
RUST_LOG=warn start_cameo "$PORT" "$TMP/server.log" serve
sample_rss "$CAMEO_PID" 0.5 "$TMP/rss.txt"

say "flooding for ${DURATION}s with $CLIENTS clients"
python3 - "$PORT" "$DURATION" "$CLIENTS" >"$TMP/result.txt" <<'EOF'
import hashlib, http.client, multiprocessing, random, sys, threading, time

port, duration, clients = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
animated = hashlib.md5(b"animated@example.org").hexdigest()


def flood(seed, totals, lock):
    rng = random.Random(seed)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    sent = answered = largest = 0
    statuses = {}
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        connection.request("GET", f"/avatar/{animated}?s={rng.randint(1, 512)}")
        response = connection.getresponse()
        body = response.read()
        sent += len(body)
        largest = max(largest, len(body))
        answered += 1
        statuses[response.status] = statuses.get(response.status, 0) + 1
    with lock:
        totals["bytes"] += sent
        totals["answers"] += answered
        totals["largest"] = max(totals["largest"], largest)
        for status, count in statuses.items():
            totals[status] = totals.get(status, 0) + count


def probe_identicons(queue):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    latencies, failures, n = [], 0, 0
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        n += 1
        digest = hashlib.md5(f"new-{n}-{time.time()}@example.org".encode()).hexdigest()
        started = time.monotonic()
        connection.request("GET", f"/avatar/{digest}?d=identicon&s=80")
        response = connection.getresponse()
        response.read()
        latencies.append((time.monotonic() - started) * 1000)
        failures += response.status != 200
        time.sleep(0.02)
    queue.put((latencies, failures))


queue = multiprocessing.Queue()
prober = multiprocessing.Process(target=probe_identicons, args=(queue,))
prober.start()
totals, lock = {"bytes": 0, "answers": 0, "largest": 0}, threading.Lock()
threads = [threading.Thread(target=flood, args=(seed, totals, lock)) for seed in range(clients)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
latencies, failures = queue.get()
prober.join()
latencies.sort()
pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
print(f"flood_answers {totals['answers']}")
print("flood_statuses " + " ".join(f"{k}:{v}" for k, v in totals.items() if isinstance(k, int)))
print(f"flood_bytes_sent_mb {totals['bytes'] / 1e6:.1f}   (before: 483 in 15 s)")
print(f"flood_bytes_per_answer_kb {totals['bytes'] / max(1, totals['answers']) / 1e3:.1f}"
      f"   largest answer {totals['largest'] / 1e6:.2f} MB   (before: 20-24 MB per animated size)")
print(f"identicons {len(latencies)} failures {failures}")
print(f"identicon_p50_ms {pick(0.50):.1f}")
print(f"identicon_p99_ms {pick(0.99):.1f}   (target < 50; before: 2800-8000)")
EOF

PEAK_KB=$(rss_kb "$CAMEO_PID" VmHWM)
MAX_RSS_KB=$(sort -n "$TMP/rss.txt" | tail -n1)
cat "$TMP/result.txt"
curl -fsS "$BASE/metrics" | awk '/^cameo_render_animations_total|^cameo_render_cache_(misses_total|bytes)/ { print $1, $2 }'
echo "rss_sampled_max_mb $((MAX_RSS_KB / 1024))"
echo "rss_peak_mb $((PEAK_KB / 1024))   (target < $((RSS_LIMIT_KB / 1024)); before: 1900)"
P99=$(awk '$1 == "identicon_p99_ms" { print $2 }' "$TMP/result.txt")
FAILURES=$(awk '$1 == "identicons" { print $4 }' "$TMP/result.txt")
if awk -v p99="$P99" -v limit="$P99_LIMIT_MS" 'BEGIN { exit !(p99 < limit) }' \
    && [ "$PEAK_KB" -lt "$RSS_LIMIT_KB" ] && [ "$FAILURES" = 0 ]; then
    echo "PASS"
else
    echo "FAIL"
    exit 1
fi
