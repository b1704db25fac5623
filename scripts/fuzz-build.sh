#!/usr/bin/env bash
# Builds every cargo-fuzz target (running them long is separate work) and replays the
# regression inputs under fuzz/regressions/<target>/ through each target once.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT/fuzz"
# cargo-fuzz needs nightly flags (-Zsanitizer); use a nightly toolchain when present,
# otherwise let the stable compiler accept them.
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then TC=(+nightly); else TC=(); export RUSTC_BOOTSTRAP=1; fi
targets=$(cargo "${TC[@]}" fuzz list)
pass=0; fail=0
for t in $targets; do
  if cargo "${TC[@]}" fuzz build -O "$t" >/dev/null 2>"$ROOT/.cache/fuzz-build-$t.log" \
     && cargo "${TC[@]}" fuzz run -O "$t" "$ROOT/fuzz/regressions/$t" -- -runs=0 >/dev/null 2>&1; then
    pass=$((pass + 1)); echo "fuzz target $t: built, regressions replayed"
  else
    fail=$((fail + 1)); echo "fuzz target $t: FAILED"; tail -20 "$ROOT/.cache/fuzz-build-$t.log"
  fi
done
echo "checks: $pass passed, $fail failed"
[ $fail -eq 0 ]
