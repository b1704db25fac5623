#!/usr/bin/env bash
# Static checks that tests cannot see: TypeScript types (vitest strips them, so the compile-time
# tests, such as the VerifiedEvent brand, live here), Biome (formatting, lint, sorted imports,
# no import cycle between files; biome.jsonc), the import graph (no cycle between files or
# folders, the layer rules; .dependency-cruiser.cjs) and a check that those rules still bite,
# clippy with warnings denied, rustfmt. `npm run format` fixes what Biome reports as formatting.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
pass=0; fail=0
check() { # name, command...
  local name=$1; shift
  if "$@" > "$ROOT/.cache/lint-$name.log" 2>&1; then pass=$((pass + 1)); echo "lint $name: ok"
  else fail=$((fail + 1)); echo "lint $name: FAILED"; tail -30 "$ROOT/.cache/lint-$name.log"; fi
}
for pkg in bindings node bench; do
  check "tsc-$pkg" npx tsc -p "$ROOT/packages/$pkg/tsconfig.json" --noEmit
done
check biome npx biome ci --error-on-warnings --colors=off .
check imports npx depcruise --config .dependency-cruiser.cjs packages/node/src packages/bindings/src packages/bench/src
check import-rules-bite node scripts/import-rules-bite.mjs
check clippy cargo clippy --workspace --all-targets --locked -- -D warnings
check rustfmt cargo fmt --all -- --check
echo "checks: $pass passed, $fail failed"
[ $fail -eq 0 ]
