# Shared pieces of the bench scripts (sourced, not run): messages, tools, ports, servers,
# wrk runs and their parsing. A script sets TMP before calling the server helpers.

say() { printf '\n== %s\n' "$*" >&2; }
die() {
    printf '%s: %s\n' "$(basename "$0")" "$*" >&2
    exit 1
}

# need_tools TOOL...: installs missing wrk/nginx from Debian packages (as root).
need_tools() {
    local missing=() tool packages=()
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || missing+=("$tool")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" = 0 ] || die "need root to apt-get install ${missing[*]}"
    for tool in "${missing[@]}"; do
        if [ "$tool" = nginx ] && apt-cache show nginx-light >/dev/null 2>&1; then
            packages+=(nginx-light)
        else
            packages+=("$tool")
        fi
    done
    say "installing ${packages[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

alive() { kill -0 "$1" 2>/dev/null; }

# wait_http URL PID [TRIES]: waits (0.05 s steps) until URL answers 2xx while PID lives.
wait_http() {
    local url=$1 pid=$2 tries=${3:-200}
    for _ in $(seq 1 "$tries"); do
        curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
        alive "$pid" || return 1
        sleep 0.05
    done
    return 1
}

# rss_kb PID FIELD: VmRSS or VmHWM of a process, in kB.
rss_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# to_ms 1.23ms|850.00us|1.02s -> milliseconds
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
        else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.3f", v * 60000 }
        else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
        else printf "?" }'
}

# record NAME WRK_OUTPUT RESULTS: appends "name, req/s, p99 ms, errors" to RESULTS.
record() {
    local name=$1 out=$2 results=$3 rps p99 errors
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
    p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
    errors=$(awk '/Non-2xx or 3xx responses:/ { n += $NF }
        /Socket errors:/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 }
        END { print n + 0 }' "$out")
    printf '%s\t%s\t%s\t%s\n' "$name" "$rps" "$p99" "$errors" >>"$results"
    printf '  %-40s %10s req/s  p99 %8s ms  errors %s\n' "$name" "$rps" "$p99" "$errors" >&2
}

# rate RESULTS NAME: requests/s recorded for NAME.
rate() { awk -F'\t' -v n="$2" '$1 == n { print $2 }' "$1"; }

# ratio RESULTS A B: rate(A) / rate(B), two decimals.
ratio() {
    awk -F'\t' -v a="$2" -v b="$3" '$1 == a { x = $2 } $1 == b { y = $2 }
        END { if (y > 0) printf "%.2f", x / y; else print "?" }' "$1"
}

# verdict VALUE OP TARGET: PASS or FAIL (OP is >= or <).
verdict() {
    awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
        ok = (op == ">=") ? (v + 0 >= t + 0) : (v + 0 < t + 0)
        print (v == "?" ? "FAIL" : (ok ? "PASS" : "FAIL")) }'
}
