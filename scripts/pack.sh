#!/usr/bin/env bash
# Packs every publishable package into one folder, the napi-rs way:
#   - @commons-sync/bindings-<abi>: one per native addon built on this machine (the folder
#     packages/bindings/npm/<abi>/ plus the addon), with os/cpu/libc so npm installs it only there;
#   - @commons-sync/bindings: JavaScript, types and the WebAssembly module, no addon, with the
#     platform packages as optionalDependencies (what `napi pre-publish` writes at release time;
#     the repository's package.json has none, so `npm ci` here never asks the registry for them);
#   - @commons-sync/node (the `commons-sync` CLI) and @commons-sync/bench (`commons-sync-bench`).
# A release runs this on each platform's machine and publishes the platform packages first.
#   scripts/pack.sh OUT_DIR     prints the tarball names, one per line
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
OUT=$(mkdir -p "${1:?usage: scripts/pack.sh OUT_DIR}" && cd "$1" && pwd)
bash "$ROOT/scripts/bootstrap.sh" >&2
BINDINGS="$ROOT/packages/bindings"
stage=$(mktemp -d /tmp/commons-stage-XXXXXX)
trap 'rm -rf "$stage"' EXIT
version=$(node -p "require('$BINDINGS/package.json').version")

optional=()
for dir in "$BINDINGS"/npm/*/; do
  abi=$(basename "$dir")
  addon="$BINDINGS/native/commons-sync.$abi.node"
  [ -f "$addon" ] || continue   # built on its own machine, not here
  cp -r "$dir" "$stage/$abi" && cp "$addon" "$stage/$abi/"
  (cd "$stage/$abi" && npm pack --silent --pack-destination "$OUT")
  optional+=("@commons-sync/bindings-$abi")
done
[ ${#optional[@]} -gt 0 ] || die "no native addon is built here (run npm run build)"

mkdir "$stage/bindings"
cp -r "$BINDINGS/package.json" "$BINDINGS/README.md" "$BINDINGS/dist" "$BINDINGS/wasm" "$stage/bindings/"
OPTIONAL="${optional[*]}" VERSION="$version" node -e '
  const fs = require("node:fs");
  const file = process.argv[1];
  const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
  pkg.optionalDependencies = Object.fromEntries(
    process.env.OPTIONAL.split(" ").map((name) => [name, process.env.VERSION]));
  fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + "\n");
' "$stage/bindings/package.json"
(cd "$stage/bindings" && npm pack --silent --pack-destination "$OUT")

for pkg in node bench; do
  (cd "$ROOT/packages/$pkg" && npm pack --silent --pack-destination "$OUT")
done
