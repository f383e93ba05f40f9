#!/usr/bin/env bash
# Load test: Cameo's hot path against nginx serving the same bytes as a static file.
#
# Run from the crate root, as root (it may install nginx and wrk from Debian's mirror):
#     bash bench/load.sh
# Environment:
#     DURATION=10s     length of each measured wrk run (warm-ups are 2 s)
#     CONNECTIONS=32   wrk connections (one wrk thread, as both servers share the machine)
#     THREADS=1        wrk threads
#     CAMEO_PORT, NGINX_PORT  default: free ports picked at start
#     GRAVATAR_MODE=off  Cameo's gravatar_mode; "off" keeps misses off the network
#     KEEP_TMP=1       keep the temporary directory (logs, configs, data) after the run
# See bench/README.md for what each scenario measures and the targets.
set -euo pipefail

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
GRAVATAR_MODE=${GRAVATAR_MODE:-off}
WARMUP=2s

cd "$(dirname "$0")/.."
ROOT=$(pwd)
# shellcheck source=bench/lib.sh
. bench/lib.sh

# --- tools --------------------------------------------------------------------------------
# nginx-light (or nginx) and wrk from Debian packages when missing. The package may start a
# system nginx on port 80; it is not ours to stop, and it does not interfere with the
# instance below (own config, own port).
need_tools nginx wrk
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
require_tools curl python3 md5sum awk

# Ports nothing listens on right now (another Cameo on a fixed port would answer instead).
CAMEO_PORT=${CAMEO_PORT:-$(free_port)}
NGINX_PORT=${NGINX_PORT:-$(free_port)}
[ "$CAMEO_PORT" != "$NGINX_PORT" ] || die "CAMEO_PORT and NGINX_PORT are the same"

# --- build --------------------------------------------------------------------------------
build_release

# --- scratch space and servers ------------------------------------------------------------
scratch_dir load --keep-on-failure
chmod 755 "$TMP" # nginx workers may run as another user

say "preparing a photo and the data directory in $TMP"
python3 "$ROOT/bench/make_photo.py" "$TMP/photo.png" 512
"$CAMEO" --data-dir "$TMP/data" add alice@example.org --photo "$TMP/photo.png"
HASH=$(printf '%s' alice@example.org | md5sum | cut -d' ' -f1)
OTHER=$(printf '%s' nobody@example.org | md5sum | cut -d' ' -f1)

say "starting Cameo on 127.0.0.1:$CAMEO_PORT"
RUST_LOG=warn start_cameo "$CAMEO_PORT" "$TMP/cameo.log" \
    --data-dir "$TMP/data" --set "gravatar_mode=$GRAVATAR_MODE"
CAMEO_URL="http://127.0.0.1:$CAMEO_PORT"

PHOTO_PATH="/avatar/$HASH?s=80"
DEFAULT_PATH="/avatar/$OTHER?s=80&d=identicon"
mkdir -p "$TMP/www/avatar"
# The first fetch renders and caches the rendition; nginx serves exactly those bytes.
curl -fsS -D "$TMP/photo.headers" -o "$TMP/www/avatar/$HASH" "$CAMEO_URL$PHOTO_PATH"
ETAG=$(awk 'tolower($1) == "etag:" { sub(/\r$/, ""); print $2 }' "$TMP/photo.headers")
[ -n "$ETAG" ] || die "no ETag on $PHOTO_PATH"
curl -fsS -o /dev/null "$CAMEO_URL$DEFAULT_PATH" # the default's miss happens here

say "starting nginx on 127.0.0.1:$NGINX_PORT"
mkdir -p "$TMP/nginx"
{
    nginx_preamble
    cat <<EOF
    types { }
    default_type image/png;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $TMP/www;
        # /avatar/HASH (any query string) is the file Cameo rendered for that URL.
        location /avatar/ { default_type image/png; }
    }
}
EOF
} >"$TMP/nginx/nginx.conf"
start_nginx
NGINX_URL="http://127.0.0.1:$NGINX_PORT"
wait_http "$NGINX_URL$PHOTO_PATH" "$NGINX_PID" 100 || alive "$NGINX_PID" ||
    die "nginx exited: $(cat "$TMP/nginx/error.log")"

# --- sanity checks: each scenario answers what it should ----------------------------------
status_of() { curl -sS -o /dev/null -w '%{http_code} %{size_download}' "$@"; }
check() {
    local name=$1 want=$2
    shift 2
    local got
    got=$(status_of "$@")
    [ "${got%% *}" = "$want" ] || die "$name: expected HTTP $want, got '$got'"
    printf '  %-28s HTTP %s, %s bytes\n' "$name" "${got%% *}" "${got#* }" >&2
}
say "sanity checks"
check "cameo photo hit" 200 "$CAMEO_URL$PHOTO_PATH"
check "nginx static file" 200 "$NGINX_URL$PHOTO_PATH"
check "cameo If-None-Match" 304 -H "If-None-Match: $ETAG" "$CAMEO_URL$PHOTO_PATH"
check "cameo identicon default" 200 "$CAMEO_URL$DEFAULT_PATH"
cmp -s <(curl -fsS "$CAMEO_URL$PHOTO_PATH") <(curl -fsS "$NGINX_URL$PHOTO_PATH") ||
    die "nginx and Cameo serve different bytes"
alive "$CAMEO_PID" && alive "$NGINX_PID" || die "a server exited (is another process on its port?)"

# A new hash on every request: a lookup miss plus a drawn identicon each time.
cat >"$TMP/miss.lua" <<'EOF'
-- args[1] is one hex digit, so warm-up and measured runs use different hashes.
local prefix, n = "0", 0
function init(args) prefix = args[1] or "0" end
function request()
    n = n + 1
    local path = string.format("/avatar/%s%031x?s=80&d=identicon", prefix, n)
    return wrk.format("GET", path)
end
EOF

# --- load ---------------------------------------------------------------------------------
WRK=(wrk -t"$THREADS" -c"$CONNECTIONS" --latency)
RESULTS="$TMP/results.tsv"
: >"$RESULTS"

# measure NAME URL [wrk options...]: a warm-up run, then the measured run.
measure() {
    local name=$1 url=$2
    shift 2
    local out="$TMP/wrk-${name//[^a-zA-Z0-9]/_}.txt"
    "${WRK[@]}" -d"$WARMUP" "$@" "$url" >/dev/null
    "${WRK[@]}" -d"$DURATION" "$@" "$url" >"$out"
    record "$name" "$out" "$RESULTS"
}

rustc_before=$(pgrep -c rustc || true)
say "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency (after a $WARMUP warm-up each)"
measure "a) nginx static file" "$NGINX_URL$PHOTO_PATH"
measure "a) cameo photo hit" "$CAMEO_URL$PHOTO_PATH"
measure "b) cameo If-None-Match 304" "$CAMEO_URL$PHOTO_PATH" -H "If-None-Match: $ETAG"
measure "c) cameo identicon, cached" "$CAMEO_URL$DEFAULT_PATH"
alive "$CAMEO_PID" || die "Cameo died under load: $(tail -20 "$TMP/cameo.log")"
RSS_CACHED="$(rss_kb "$CAMEO_PID" VmRSS) kB"
# The warm-up uses its own hash prefix, so the measured run misses on every request.
"${WRK[@]}" -d"$WARMUP" -s "$TMP/miss.lua" "$CAMEO_URL/" -- 1 >/dev/null
"${WRK[@]}" -d"$DURATION" -s "$TMP/miss.lua" "$CAMEO_URL/" -- 2 >"$TMP/wrk-d.txt"
record "d) cameo identicon, new hash each" "$TMP/wrk-d.txt" "$RESULTS"
rustc_after=$(pgrep -c rustc || true)

alive "$CAMEO_PID" || die "Cameo died under load: $(tail -20 "$TMP/cameo.log")"
RSS_END="$(rss_kb "$CAMEO_PID" VmRSS) kB"
HWM_END="$(rss_kb "$CAMEO_PID" VmHWM) kB"

# --- summary ------------------------------------------------------------------------------
say "summary"
printf '%-36s %12s %12s %8s\n' scenario "requests/s" "p99 (ms)" errors
awk -F'\t' '{ printf "%-36s %12.0f %12s %8s\n", $1, $2, $3, $4 }' "$RESULTS"
ratio=$(ratio "$RESULTS" "a) cameo photo hit" "a) nginx static file")
printf '\ncached photo hit, Cameo/nginx throughput: %s (target >= 1.00)\n' "$ratio"
printf 'Cameo RSS after a)-c): %s; after d): %s (peak %s)\n' "$RSS_CACHED" "$RSS_END" "$HWM_END"
printf 'rendition bytes: %s; wrk settings: -t%s -c%s -d%s; %s cores\n' \
    "$(stat -c %s "$TMP/www/avatar/$HASH")" "$THREADS" "$CONNECTIONS" "$DURATION" "$(nproc)"
if [ "$rustc_before" != 0 ] || [ "$rustc_after" != 0 ]; then
    printf 'note: rustc was running during the measurements (%s before, %s after): figures are noisy\n' \
        "$rustc_before" "$rustc_after"
fi
warnings=$(grep -c -E 'WARN|ERROR' "$TMP/cameo.log" || true)
if [ "$warnings" != 0 ]; then
    printf 'Cameo logged %s warning/error line(s), first ones:\n' "$warnings"
    grep -E 'WARN|ERROR' "$TMP/cameo.log" | head -5
fi
