#!/usr/bin/env bash
# Cross-node bench (issue 15): two Cameo nodes on one PostgreSQL (and, with the default
# PHOTO_STORE=s3, one Garage bucket), and the time from a write reported done to its being
# served by each node: WRITES times, `cameo add` (run as an operator would, in a process of
# its own) stores a new address with a photo, then both nodes are asked for it every 2 ms.
# Prints the median, p90, p99 and largest delay per node. Nodes learn of other processes'
# writes through the change feed, which they poll every 200 ms on PostgreSQL.
#
# Run from the crate root, as root on Debian with postgresql installed (and Garage, `cargo
# install garage --version 2.5.0 --locked`, unless PHOTO_STORE=database):
#     bash bench/cross_node.sh
# Environment: WRITES=200 PHOTO_STORE=s3|database KEEP_TMP=1
set -euo pipefail

WRITES=${WRITES:-200}
cd "$(dirname "$0")/.."
ROOT=$(pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

need_tools curl python3
build_release --quiet
scratch_dir cross-node --keep-on-failure
chmod 755 "$TMP"

start_postgres
FLAGS=(--data-dir "$TMP/data" --set "database_url=$PG_URL" --set gravatar_mode=off
    --set libravatar_fallback=)
if [ "${PHOTO_STORE:-s3}" = s3 ]; then
    start_garage
    FLAGS+=(--set "photo_store=$PHOTOS_URL")
fi
python3 "$ROOT/bench/make_photo.py" "$TMP/photo.png" 160 7

NODES=()
for n in 1 2; do
    port=$(free_port)
    RUST_LOG=info start_cameo "$port" "$TMP/node$n.log" "${FLAGS[@]}"
    wait_http "http://127.0.0.1:$port/readyz" "$CAMEO_PID" || die "node $n is not ready"
    NODES+=("http://127.0.0.1:$port")
done

say "$WRITES writes with cameo add, each asked for on both nodes (photos in ${PHOTO_STORE:-s3})"
python3 "$ROOT/bench/cross_node.py" "$CAMEO" "$TMP/photo.png" "$WRITES" "${NODES[@]}" -- "${FLAGS[@]}"
