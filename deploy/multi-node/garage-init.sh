#!/bin/sh
# Once, after `docker compose … up`: gives the Garage node a layout, imports Cameo's key
# (CAMEO_S3_ACCESS_KEY_ID / CAMEO_S3_SECRET_ACCESS_KEY, as exported for compose) and makes
# the bucket Cameo's photo_store names. Safe to run again: steps already done fail softly.
# The same steps start the test clusters in tests/api/garage.rs.
set -u
compose="docker compose -f $(dirname "$0")/compose.yaml"
garage() { $compose exec -T garage /garage "$@"; }
node=$(garage node id -q | cut -d@ -f1)
garage layout assign -z dc1 -c 10G "$node" || true
garage layout apply --version 1 || true
garage key import --yes -n cameo "$CAMEO_S3_ACCESS_KEY_ID" "$CAMEO_S3_SECRET_ACCESS_KEY" || true
garage bucket create cameo-photos || true
garage bucket allow --read --write --owner cameo-photos --key "$CAMEO_S3_ACCESS_KEY_ID"
