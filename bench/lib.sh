# shellcheck shell=bash
# Shared pieces of the bench scripts (sourced, not run): messages, tools, the release build,
# the scratch directory and its clean-up, ports, servers, memory samples, wrk runs and their
# parsing. Scripts cd to the repository root before sourcing it.

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

# require_tools TOOL...: dies unless every TOOL is on PATH (tools the scripts do not install).
require_tools() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || die "$tool is required"
    done
}

# build_release [CARGO OPTIONS...]: cargo build --release; sets CAMEO to the binary.
# shellcheck disable=SC2120 # the options are optional
build_release() {
    say "building the release binary"
    cargo build --release "$@"
    CAMEO="$(pwd)/target/release/cameo"
}

# kill_on_exit PID [SIGNAL]: has the exit trap of scratch_dir send PID SIGNAL (TERM by default)
# and wait for it; the last registered goes first.
EXIT_PIDS=()
kill_on_exit() { EXIT_PIDS+=("$1:${2:-TERM}"); }

# scratch_dir NAME [--keep-on-failure]: makes the scratch directory TMP (cameo-NAME.XXXXXX in
# TMPDIR or /tmp) and sets the traps. At exit the processes given to kill_on_exit are stopped,
# and TMP is removed unless KEEP_TMP=1 or (with --keep-on-failure) the script failed.
scratch_dir() {
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/cameo-$1.XXXXXX")
    KEEP_ON_FAILURE=0
    [ "${2:-}" = --keep-on-failure ] && KEEP_ON_FAILURE=1
    trap scratch_cleanup EXIT
    trap 'exit 130' INT TERM
}
scratch_cleanup() {
    local status=$? i pid
    set +e
    for ((i = ${#EXIT_PIDS[@]} - 1; i >= 0; i--)); do
        pid=${EXIT_PIDS[i]%%:*}
        kill -"${EXIT_PIDS[i]#*:}" "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    if [ "${KEEP_TMP:-0}" = 1 ] || { [ "$KEEP_ON_FAILURE" = 1 ] && [ "$status" != 0 ]; }; then
        printf 'scratch directory kept: %s\n' "$TMP" >&2
    else
        rm -rf "$TMP"
    fi
    exit "$status"
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

# offline_env: sets PORT (a free port) and BASE, and points Cameo at $TMP/data with no Gravatar
# and no Libravatar fallback, through exported CAMEO_* variables.
offline_env() {
    PORT=$(free_port)
    # shellcheck disable=SC2034 # for the scripts
    BASE="http://127.0.0.1:$PORT"
    export CAMEO_DATA_DIR="$TMP/data" CAMEO_GRAVATAR_MODE=off CAMEO_LIBRAVATAR_FALLBACK=""
}

# start_cameo PORT LOG [ARGUMENTS...]: runs "$CAMEO --bind 127.0.0.1:PORT ARGUMENTS" in the
# background (RUST_LOG as the caller sets it) with its output in LOG, stopped at exit; sets
# CAMEO_PID and waits up to 10 s for /healthz, or dies with the end of LOG.
start_cameo() {
    local port=$1 log=$2
    shift 2
    "$CAMEO" --bind "127.0.0.1:$port" "$@" >"$log" 2>&1 &
    CAMEO_PID=$!
    kill_on_exit "$CAMEO_PID"
    wait_http "http://127.0.0.1:$port/healthz" "$CAMEO_PID" ||
        die "Cameo did not answer /healthz on port $port: $(tail -20 "$log")"
}

# rss_kb PID FIELD: VmRSS or VmHWM of a process, in kB.
rss_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# sample_rss PID SECONDS FILE: in the background, appends PID's VmRSS (kB) to FILE every
# SECONDS while PID lives; sets SAMPLER_PID (stopped at exit).
sample_rss() {
    local pid=$1 every=$2
    (
        while alive "$pid"; do
            rss_kb "$pid" VmRSS 2>/dev/null || true
            sleep "$every"
        done
    ) >"$3" &
    SAMPLER_PID=$!
    kill_on_exit "$SAMPLER_PID"
}

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

# start_postgres: a PostgreSQL cluster of Debian's newest installed version in $TMP/pg (run as
# the postgres user, on a free loopback port), stopped at exit, with an empty database
# `cameo`; sets PG_URL.
start_postgres() {
    local bin port
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -x "$bin/initdb" ] || die "PostgreSQL is needed (apt-get install postgresql)"
    port=$(free_port)
    install -d -o postgres -g postgres "$TMP/pg"
    runuser -u postgres -- "$bin/initdb" -D "$TMP/pg/data" -A trust -U postgres -E UTF8 >/dev/null
    runuser -u postgres -- "$bin/pg_ctl" -D "$TMP/pg/data" -l "$TMP/pg/log" -w start \
        -o "-p $port -k $TMP/pg -c listen_addresses=127.0.0.1 -c shared_buffers=256MB" >/dev/null
    # SIGINT is PostgreSQL's fast shutdown.
    kill_on_exit "$(head -1 "$TMP/pg/data/postmaster.pid")" INT
    runuser -u postgres -- "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE cameo"
    PG_URL="postgres://postgres@127.0.0.1:$port/cameo"
}

# start_garage: a single-node Garage (the S3-compatible store the tests use; `cargo install
# garage --version 2.5.0 --locked`) in $TMP/garage on free loopback ports, stopped at exit,
# with the bucket cameo-photos and a key for it; exports the CAMEO_S3_* settings and sets
# PHOTOS_URL (s3://cameo-photos/photos).
start_garage() {
    local garage port rpc node
    garage=$(command -v garage || echo "${CARGO_HOME:-$HOME/.cargo}/bin/garage")
    [ -x "$garage" ] || die "Garage is needed (cargo install garage --version 2.5.0 --locked)"
    port=$(free_port)
    rpc=$(free_port)
    mkdir -p "$TMP/garage"
    cat >"$TMP/garage/garage.toml" <<TOML
metadata_dir = "$TMP/garage/meta"
data_dir = "$TMP/garage/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$rpc"
rpc_public_addr = "127.0.0.1:$rpc"
rpc_secret = "$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$port"
root_domain = ".s3.garage.localhost"
TOML
    g() { RUST_LOG=warn "$garage" -c "$TMP/garage/garage.toml" "$@"; }
    RUST_LOG=warn "$garage" -c "$TMP/garage/garage.toml" server >/dev/null 2>"$TMP/garage/log" &
    kill_on_exit $!
    for _ in $(seq 1 150); do g status >/dev/null 2>&1 && break; sleep 0.1; done
    node=$(g node id -q | cut -d@ -f1)
    export CAMEO_S3_ACCESS_KEY_ID=GK$(python3 -c 'import secrets; print(secrets.token_hex(12))')
    export CAMEO_S3_SECRET_ACCESS_KEY
    CAMEO_S3_SECRET_ACCESS_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
    {
        g layout assign -z dc1 -c 10G "$node"
        g layout apply --version 1
        g key import --yes -n cameo "$CAMEO_S3_ACCESS_KEY_ID" "$CAMEO_S3_SECRET_ACCESS_KEY"
        g bucket create cameo-photos
        g bucket allow --read --write --owner cameo-photos --key "$CAMEO_S3_ACCESS_KEY_ID"
    } >"$TMP/garage/setup.log" 2>&1 || die "setting Garage up failed: $(tail -3 "$TMP/garage/setup.log")"
    export CAMEO_S3_ENDPOINT="http://127.0.0.1:$port" CAMEO_S3_REGION=garage
    PHOTOS_URL="s3://cameo-photos/photos"
}

# nginx_preamble: the top of a bench nginx.conf for $TMP/nginx, up to the inside of `http {`:
# a worker per core, no access log, and keep-alive for wrk's whole run (nginx would close a
# connection every 1000 requests; Cameo's actix-web has no such limit).
nginx_preamble() {
    cat <<CONF
worker_processes auto;
daemon off;
user root;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 1000000;
    client_body_temp_path $TMP/nginx/body;
    proxy_temp_path $TMP/nginx/proxy;
CONF
}

# start_nginx: checks $TMP/nginx/nginx.conf and runs nginx on it in the background, stopped
# gracefully at exit; sets NGINX_PID.
start_nginx() {
    "$NGINX" -t -q -p "$TMP/nginx" -e "$TMP/nginx/error.log" -c "$TMP/nginx/nginx.conf"
    "$NGINX" -p "$TMP/nginx" -e "$TMP/nginx/error.log" -c "$TMP/nginx/nginx.conf" &
    NGINX_PID=$!
    kill_on_exit "$NGINX_PID" QUIT
}
