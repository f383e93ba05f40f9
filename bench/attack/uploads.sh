#!/usr/bin/env bash
# Attack bench (issue 13, point 2): 12 parallel web uploads of a small PNG that declares
# 6320×6320 RGB pixels (just under the 40 M pixel limit) for one account that already holds
# 9 photos. Before the memory budget this took Cameo to 4.25 GB and the account to 13 photos
# of 10. Prints the answers, the server's peak RSS (VmHWM) and the budget's peak from
# /metrics, the photos held afterwards, then PASS/FAIL for the targets: peak RSS under 1 GB
# and exactly 10 photos.
#
# Run from the crate root:  bash bench/attack/uploads.sh
# Environment:  IMAGE_MEMORY_BUDGET=512MiB (the server's budget)  KEEP_TMP=1 (keep logs)
set -euo pipefail

BUDGET=${IMAGE_MEMORY_BUDGET:-512MiB}
RSS_LIMIT_KB=$((1024 * 1024))

cd "$(dirname "$0")/../.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
require_tools curl python3
build_release --quiet
scratch_dir uploads
offline_env
export CAMEO_IMAGE_MEMORY_BUDGET="$BUDGET"

say "starting Cameo on $BASE (image_memory_budget $BUDGET)"
# info level: with no smtp_url, confirmation links are written to the log.
RUST_LOG=info start_cameo "$PORT" "$TMP/server.log" serve
BASELINE_KB=$(rss_kb "$CAMEO_PID" VmRSS)

python3 - "$BASE" "$TMP/server.log" "$CAMEO_DATA_DIR/cameo.db" >"$TMP/result.txt" <<'EOF'
import concurrent.futures, http.cookiejar, re, sqlite3, struct, sys, time, urllib.error
import urllib.parse, urllib.request, uuid, zlib

base, server_log, database = sys.argv[1:4]
PASSWORD = "a long enough password"


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def png(side, rows):
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def solid_png(shade):
    return png(8, (b"\x00" + bytes([shade, 0, 0]) * 8) * 8)


def csrf_of(html):
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def session():
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


def get(opener, path):
    with opener.open(base + path) as response:
        return response.read().decode()


def post_form(opener, path, fields):
    data = urllib.parse.urlencode(fields).encode()
    with opener.open(base + path, data) as response:
        return response.status, response.read().decode()


def create_account(email):
    """Signs up, confirms from the log mail transport's link, and makes sure the session is
    logged in (sign-up may or may not log in at once). The one place accounts are made."""
    opener = session()
    post_form(opener, "/signup", {"csrf": csrf_of(get(opener, "/signup")), "email": email,
                                  "password": PASSWORD, "password_again": PASSWORD})
    link = None
    for _ in range(50):
        text = open(server_log, encoding="utf-8", errors="replace").read()
        found = re.findall(r"/confirm/[A-Za-z0-9_-]+", text)
        if found:
            link = found[-1]
            break
        time.sleep(0.1)
    if link is None:
        raise SystemExit("no confirmation link in the server log")
    post_form(opener, link, {"csrf": csrf_of(get(opener, link))})
    if "/account/photos" not in get(opener, "/account"):
        post_form(opener, "/login", {"csrf": csrf_of(get(opener, "/login")), "email": email,
                                     "password": PASSWORD})
    return opener


def upload(opener, csrf, photo):
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; "
            f"filename=\"photo.png\"\r\nContent-Type: image/png\r\n\r\n").encode()
    body += photo + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(base + "/account/photos", body, {
        "Content-Type": f"multipart/form-data; boundary={boundary}"})
    started = time.monotonic()
    try:
        with opener.open(request) as response:
            response.read()
            status = 303  # urllib followed the redirect back to /account
    except urllib.error.HTTPError as error:
        status = error.code
    return status, time.monotonic() - started


opener = create_account("flood@example.org")
csrf = csrf_of(get(opener, "/account"))
for shade in range(9):
    upload(opener, csrf, solid_png(shade * 20))
side = 6320
huge = png(side, b"\x00" * ((1 + side * 3) * side))
print(f"forged_png_bytes {len(huge)}")
with concurrent.futures.ThreadPoolExecutor(12) as pool:
    answers = list(pool.map(lambda _: upload(opener, csrf, huge), range(12)))
for status in sorted({s for s, _ in answers}):
    print(f"answers_{status} {sum(1 for s, _ in answers if s == status)}")
print(f"slowest_answer_s {max(t for _, t in answers):.2f}")
metrics = urllib.request.urlopen(base + "/metrics").read().decode()
for line in metrics.splitlines():
    if line.startswith("cameo_image_budget"):
        print(line.replace('{state="', "_").replace('"}', ""))
count = sqlite3.connect(database).execute("SELECT COUNT(*) FROM photos").fetchone()[0]
print(f"photos_held {count}")
EOF

PEAK_KB=$(rss_kb "$CAMEO_PID" VmHWM)
cat "$TMP/result.txt"
PHOTOS=$(awk '$1 == "photos_held" { print $2 }' "$TMP/result.txt")
echo "rss_baseline_mb $((BASELINE_KB / 1024))"
echo "rss_peak_mb $((PEAK_KB / 1024))   (target < $((RSS_LIMIT_KB / 1024)); before the budget: 4250)"
echo "photos_held $PHOTOS of 10   (before the transactional check: 13)"
if [ "$PEAK_KB" -lt "$RSS_LIMIT_KB" ] && [ "$PHOTOS" = 10 ]; then
    echo "PASS"
else
    echo "FAIL"
    exit 1
fi
