#!/usr/bin/env bash
# Scale bench: the avatar path with a million stored addresses, as a public avatar server
# sees it. Bulk-loads ADDRESSES confirmed addresses (MD5 + SHA-256 digests) over PHOTOS
# distinct photos, then measures with wrk (-t1 -c32, one run per scenario after a warm-up):
#   - a cached hit of one realistic photo (an 80 px JPEG rendition) from Cameo, from nginx
#     serving the same bytes as a file, and through nginx's proxy_cache in front of Cameo
#     (deploy/nginx.conf's avatar cache);
#   - random hits over the first 1,000 addresses and over all of them;
#   - random never-stored hashes with d=404, d=mp and d=identicon at 80 px;
#   - random hits over 1,000 addresses while `cameo add` writes ten times a second, and
#     while web sign-ups run;
# and prints start-up time, the index build time, RSS, and each target as PASS/FAIL.
#
# Run from the crate root, as root on Debian (installs wrk and nginx when missing):
#     bash bench/scale.sh
# Environment: ADDRESSES=1000000 PHOTOS=1000 DURATION=10s CONNECTIONS=32 KEEP_TMP=1
#   REUSE=DIR: start from the loaded data of an earlier run's kept scratch directory (a copy
#   of DIR/data and its hash lists), skipping the photos and the bulk load
#   STORE=postgres: move the loaded install into a PostgreSQL cluster started in the
#   scratch directory (Debian's postgresql, run as the postgres user) with
#   `cameo migrate-store`, timed, and measure Cameo on it (issue 15)
#   PHOTO_STORE=s3 (with STORE=postgres): move the photos' bytes into a Garage bucket started
#   in the scratch directory as well (`migrate-store --photos`)
set -euo pipefail

ADDRESSES=${ADDRESSES:-1000000}
PHOTOS=${PHOTOS:-1000}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
WARMUP=2s

cd "$(dirname "$0")/.."
ROOT=$(pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

need_tools wrk nginx curl python3
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

build_release --quiet

scratch_dir scale --keep-on-failure
chmod 755 "$TMP"

DATA="$TMP/data"
if [ -n "${REUSE:-}" ]; then
    say "reusing the data of $REUSE"
    cp -a "$REUSE/data" "$REUSE/photos" "$REUSE/hot.txt" "$REUSE/all.txt" "$TMP/"
else
    say "$PHOTOS distinct photos through cameo import"
    mkdir -p "$TMP/photos"
    for n in $(seq 0 $((PHOTOS - 1))); do
        python3 "$ROOT/bench/make_photo.py" "$TMP/photos/photo$n@photos.scale.example.png" 160 "$n"
    done
    "$CAMEO" --data-dir "$DATA" import "$TMP/photos" >/dev/null

    say "bulk-loading $ADDRESSES addresses"
    load_started=$(date +%s.%N)
    python3 "$ROOT/bench/scale_load.py" "$DATA/cameo.db" "$ADDRESSES" "$TMP"
    printf '  loaded in %.1f s; database %s MB\n' "$(echo "$(date +%s.%N) - $load_started" | bc)" \
        "$(($(stat -c %s "$DATA/cameo.db") / 1000000))" >&2
fi

# The store Cameo runs on: the loaded SQLite file, or PostgreSQL it is moved into.
STORE_FLAGS=()
if [ "${STORE:-sqlite}" = postgres ]; then
    start_postgres
    PHOTO_FLAGS=()
    if [ "${PHOTO_STORE:-database}" = s3 ]; then
        start_garage
        PHOTO_FLAGS=(--photos "$PHOTOS_URL")
    fi
    say "moving the install into PostgreSQL (cameo migrate-store ${PHOTO_FLAGS[*]})"
    moved=$(date +%s.%N)
    "$CAMEO" --data-dir "$DATA" migrate-store --to "$PG_URL" "${PHOTO_FLAGS[@]}" \
        >"$TMP/migrate.txt" 2>"$TMP/migrate.log" ||
        die "migrate-store failed: $(tail -3 "$TMP/migrate.log")"
    MIGRATE_SECS=$(echo "$(date +%s.%N) - $moved" | bc)
    printf '  moved and verified in %.0f s\n' "$MIGRATE_SECS" >&2
    STORE_FLAGS=(--set "database_url=$PG_URL")
    [ "${PHOTO_STORE:-database}" = s3 ] && STORE_FLAGS+=(--set "photo_store=$PHOTOS_URL")
fi

CAMEO_PORT=$(free_port)
CAMEO_URL="http://127.0.0.1:$CAMEO_PORT"
say "starting Cameo on $CAMEO_URL"
started=$(date +%s.%N)
RUST_LOG=info "$CAMEO" --data-dir "$DATA" "${STORE_FLAGS[@]}" --bind "127.0.0.1:$CAMEO_PORT" \
    --set gravatar_mode=off --set libravatar_fallback= \
    --set trusted_proxies=127.0.0.1 >"$TMP/cameo.log" 2>&1 &
CAMEO_PID=$!
kill_on_exit "$CAMEO_PID"
wait_http "$CAMEO_URL/readyz" "$CAMEO_PID" 400 || die "Cameo did not start: $(tail -5 "$TMP/cameo.log")"
STARTUP=$(echo "$(date +%s.%N) - $started" | bc)
for _ in $(seq 1 600); do
    bytes=$(curl -fsS "$CAMEO_URL/metrics" | awk '$1 == "cameo_lookup_index_bytes" { print $2 }')
    [ "${bytes:-0}" != 0 ] && break
    sleep 0.05
done
INDEX_READY=$(echo "$(date +%s.%N) - $started" | bc)
INDEX_LOG=$(grep -o 'index of served digests built.*' "$TMP/cameo.log" | head -1)
INDEX_DIGESTS=$(curl -fsS "$CAMEO_URL/metrics" | awk '$1 == "cameo_lookup_index_digests" { print $2 }')
printf '  ready (/readyz) after %.2f s; index of %s digests, %s bytes, after %.2f s\n' \
    "$STARTUP" "$INDEX_DIGESTS" "$bytes" "$INDEX_READY" >&2

HOT=$(head -1 "$TMP/hot.txt")
PHOTO_PATH="/avatar/$HOT.jpg?s=80"
mkdir -p "$TMP/www/avatar"
curl -fsS -o "$TMP/www/avatar/$HOT.jpg" "$CAMEO_URL$PHOTO_PATH"
PHOTO_BYTES=$(stat -c %s "$TMP/www/avatar/$HOT.jpg")

NGINX_PORT=$(free_port)
PROXY_PORT=$(free_port)
say "starting nginx: static file on $NGINX_PORT, proxy_cache in front of Cameo on $PROXY_PORT"
mkdir -p "$TMP/nginx/cache"
{
    nginx_preamble
    cat <<EOF
    types { image/jpeg jpg; }
    upstream cameo { server 127.0.0.1:$CAMEO_PORT; keepalive 32; }
    # The avatar cache of deploy/nginx.conf.
    proxy_cache_path $TMP/nginx/cache levels=1:2 keys_zone=cameo_avatars:10m max_size=1g inactive=1d use_temp_path=off;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $TMP/www;
        location /avatar/ { }
    }
    server {
        listen 127.0.0.1:$PROXY_PORT;
        location /avatar/ {
            proxy_pass http://cameo;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_cache cameo_avatars;
            proxy_cache_key \$host\$request_uri;
            proxy_cache_revalidate on;
            proxy_cache_use_stale updating error timeout http_500 http_502 http_503 http_504;
            proxy_cache_background_update on;
            proxy_cache_lock on;
            add_header X-Cache-Status \$upstream_cache_status always;
        }
    }
}
EOF
} >"$TMP/nginx/nginx.conf"
start_nginx
NGINX_URL="http://127.0.0.1:$NGINX_PORT"
PROXY_URL="http://127.0.0.1:$PROXY_PORT"
wait_http "$NGINX_URL$PHOTO_PATH" "$NGINX_PID" || die "nginx did not start"
curl -fsS -o /dev/null "$PROXY_URL$PHOTO_PATH"
cmp -s <(curl -fsS "$CAMEO_URL$PHOTO_PATH") <(curl -fsS "$NGINX_URL$PHOTO_PATH") ||
    die "nginx and Cameo serve different bytes"
[ "$(curl -fsS -o /dev/null -D - "$PROXY_URL$PHOTO_PATH" | tr -d '\r' | awk 'tolower($1) == "x-cache-status:" { print $2 }')" = HIT ] ||
    die "nginx's proxy_cache does not keep the avatar"

# Random picks from a hash list (args: file, path suffix); random new hashes (args: suffix).
cat >"$TMP/list.lua" <<'EOF'
local hashes, suffix = {}, ""
function init(args)
    for line in io.lines(args[1]) do hashes[#hashes + 1] = line end
    suffix = args[2] or ""
    math.randomseed(os.time() + #hashes)
end
function request()
    return wrk.format("GET", "/avatar/" .. hashes[math.random(#hashes)] .. suffix)
end
EOF
cat >"$TMP/miss.lua" <<'EOF'
local suffix = ""
function init(args) suffix = args[1] or ""; math.randomseed(os.time()) end
function request()
    local hash = string.format("%08x%08x%08x%08x", math.random(0, 0x7fffffff),
        math.random(0, 0x7fffffff), math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
    return wrk.format("GET", "/avatar/" .. hash .. suffix)
end
EOF

RESULTS="$TMP/results.tsv"
: >"$RESULTS"
WRK=(wrk -t1 -c"$CONNECTIONS" --latency)
# measure NAME URL [SCRIPT [SCRIPT ARGUMENTS...]]
measure() {
    local name=$1 url=$2 out="$TMP/wrk-$RANDOM.txt" script=()
    shift 2
    if [ $# -gt 0 ]; then
        script=(-s "$1")
        shift
    fi
    "${WRK[@]}" -d"$WARMUP" "${script[@]}" "$url" -- "$@" >/dev/null
    "${WRK[@]}" -d"$DURATION" "${script[@]}" "$url" -- "$@" >"$out"
    record "$name" "$out" "$RESULTS"
}

say "wrk -t1 -c$CONNECTIONS -d$DURATION (after a $WARMUP warm-up each)"
measure "nginx static file" "$NGINX_URL$PHOTO_PATH"
measure "cached hit" "$CAMEO_URL$PHOTO_PATH"
measure "nginx proxy_cache hit" "$PROXY_URL$PHOTO_PATH"
measure "hits over 1k" "$CAMEO_URL" "$TMP/list.lua" "$TMP/hot.txt" ".jpg?s=80"
measure "hits over all" "$CAMEO_URL" "$TMP/list.lua" "$TMP/all.txt" ".jpg?s=80"
measure "misses d=404" "$CAMEO_URL" "$TMP/miss.lua" "?s=80&d=404"
measure "misses d=mp" "$CAMEO_URL" "$TMP/miss.lua" "?s=80&d=mp"
measure "misses d=identicon" "$CAMEO_URL" "$TMP/miss.lua" "?s=80&d=identicon"

say "hits over 1k while cameo add writes ten times a second"
(
    n=0
    while true; do
        n=$((n + 1))
        "$CAMEO" --data-dir "$DATA" "${STORE_FLAGS[@]}" add "writer$n@scale.example" \
            --photo "$TMP/photos/photo$((n % PHOTOS))@photos.scale.example.png" >/dev/null 2>&1 || true
        sleep 0.1
    done
) &
WRITER_PID=$!
kill_on_exit "$WRITER_PID"
sleep 1
measure "hits over 1k, cameo add 10/s" "$CAMEO_URL" "$TMP/list.lua" "$TMP/hot.txt" ".jpg?s=80"
kill "$WRITER_PID" 2>/dev/null; wait "$WRITER_PID" 2>/dev/null || true
WRITES=$(curl -fsS "$CAMEO_URL/metrics" | awk '$1 == "cameo_feed_applied_digests_total" { print $2 }')

say "hits over 1k while web sign-ups run (2 a second, each from its own client address)"
python3 - "$CAMEO_URL" >"$TMP/signups.log" 2>&1 <<'EOF' &
import http.cookiejar, re, sys, time, urllib.parse, urllib.request
base, n = sys.argv[1], 0
while True:
    n += 1
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    client = {"X-Forwarded-For": f"198.51.{n // 250 % 250}.{n % 250 + 1}"}
    page = opener.open(urllib.request.Request(base + "/signup", headers=client)).read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrf": csrf, "email": f"signup{n}.{time.time_ns()}@scale.example",
                                   "password": "a long enough password",
                                   "password_again": "a long enough password"}).encode()
    try:
        opener.open(urllib.request.Request(base + "/signup", data=form, headers=client))
    except Exception as error:
        print(error, flush=True)
    time.sleep(0.5)
EOF
SIGNUPS_PID=$!
kill_on_exit "$SIGNUPS_PID"
sleep 1
measure "hits over 1k, sign-ups 2/s" "$CAMEO_URL" "$TMP/list.lua" "$TMP/hot.txt" ".jpg?s=80"
kill "$SIGNUPS_PID" 2>/dev/null; wait "$SIGNUPS_PID" 2>/dev/null || true
SIGNUPS=$(grep -c . "$TMP/signups.log" || true)

alive "$CAMEO_PID" || die "Cameo died: $(tail -20 "$TMP/cameo.log")"
RSS=$(rss_kb "$CAMEO_PID" VmRSS)
HWM=$(rss_kb "$CAMEO_PID" VmHWM)
READS=$(curl -fsS "$CAMEO_URL/metrics" | awk '$1 == "cameo_lookup_database_reads_total" { print $2 }')
FROM_MEMORY=$(curl -fsS "$CAMEO_URL/metrics" | awk '$1 == "cameo_lookup_memory_answers_total" { print $2 }')

say "summary (${STORE:-sqlite}, photos in ${PHOTO_STORE:-database}, $ADDRESSES addresses, $PHOTOS photos, $(nproc) cores, wrk -t1 -c$CONNECTIONS -d$DURATION)"
[ -n "${MIGRATE_SECS:-}" ] && printf 'cameo migrate-store into PostgreSQL: %.0f s\n\n' "$MIGRATE_SECS"
printf '%-40s %12s %10s %8s\n' scenario "requests/s" "p99 (ms)" errors
awk -F'\t' '{ printf "%-40s %12.0f %10s %8s\n", $1, $2, $3, $4 }' "$RESULTS"
p99() { awk -F'\t' -v n="$1" '$1 == n { print $3 }' "$RESULTS"; }
target() { printf '%-58s %6s  (target %s %s)  %s\n' "$1" "$2" "$3" "$4" "$(verdict "$2" "$3" "$4")"; }
echo
target "hits over all / hits over 1k" "$(ratio "$RESULTS" "hits over all" "hits over 1k")" ">=" 0.8
for style in 404 mp identicon; do
    target "misses d=$style / cached hit" "$(ratio "$RESULTS" "misses d=$style" "cached hit")" ">=" 0.8
done
target "hits while cameo add 10/s / hits over 1k" \
    "$(ratio "$RESULTS" "hits over 1k, cameo add 10/s" "hits over 1k")" ">=" 0.8
target "hits while sign-ups run / hits over 1k" \
    "$(ratio "$RESULTS" "hits over 1k, sign-ups 2/s" "hits over 1k")" ">=" 0.8
target "cached hit / nginx static file" "$(ratio "$RESULTS" "cached hit" "nginx static file")" ">=" 1.0
printf '%-58s %6s  (nginx %s ms)\n' "cached hit p99 (ms)" "$(p99 "cached hit")" "$(p99 "nginx static file")"
target "RSS at the end (MB)" "$((RSS / 1024))" "<" 150
target "start-up to /readyz (s)" "$(printf '%.2f' "$STARTUP")" "<" 2
echo
printf 'peak RSS %s MB; index of %s digests (%s bytes) ready after %.2f s (%s)\n' \
    "$((HWM / 1024))" "$INDEX_DIGESTS" "$bytes" "$INDEX_READY" "$INDEX_LOG"
printf 'photo rendition %s bytes (JPEG, 80 px); lookups from the database %s, from memory %s\n' \
    "$PHOTO_BYTES" "$READS" "$FROM_MEMORY"
printf 'digests the feed named (all runs): %s; sign-up errors logged: %s\n' "${WRITES:-0}" "$SIGNUPS"
