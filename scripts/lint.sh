#!/usr/bin/env bash
# Static checks that tests cannot see: TypeScript types (vitest strips them, so the compile-time
# tests, such as the VerifiedEvent brand, live here), clippy with warnings denied, rustfmt.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
pass=0; fail=0
check() { # name, command...
  local name=$1; shift
  if "$@" > "$ROOT/.cache/lint-$name.log" 2>&1; then pass=$((pass + 1)); echo "lint $name: ok"
  else fail=$((fail + 1)); echo "lint $name: FAILED"; tail -30 "$ROOT/.cache/lint-$name.log"; fi
}
for pkg in bindings node bench; do
  check "tsc-$pkg" npx tsc -p "$ROOT/packages/$pkg/tsconfig.json" --noEmit
done
check clippy cargo clippy --workspace --all-targets --locked -- -D warnings
check rustfmt cargo fmt --all -- --check
echo "checks: $pass passed, $fail failed"
[ $fail -eq 0 ]
