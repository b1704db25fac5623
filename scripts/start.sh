#!/usr/bin/env bash
# `npm start`: bootstrap what is missing, then run a node on the embedded default store.
# The data dir defaults to ./data (COMMONS_SYNC_DATA overrides) and is initialized on first
# run. The node key's passphrase comes from COMMONS_SYNC_PASSPHRASE, or is asked for on a TTY.
# COMMONS_SYNC_KEYSTORE (a --keystore spec, e.g. pkcs11:module=...;token=...;key=node) puts a
# new node's identity there instead; its PIN comes from COMMONS_SYNC_PKCS11_PIN or a prompt.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bash "$ROOT/scripts/bootstrap.sh"
DATA="${COMMONS_SYNC_DATA:-$ROOT/data}"
CLI="$ROOT/packages/node/dist/cli/main.js"
if [ ! -f "$DATA/node.key" ] && [ ! -f "$DATA/node.keystore" ]; then
  node "$CLI" init --data "$DATA" ${COMMONS_SYNC_KEYSTORE:+--keystore "$COMMONS_SYNC_KEYSTORE"}
fi
exec node "$CLI" start --data "$DATA" "$@"
