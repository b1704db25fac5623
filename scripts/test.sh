#!/usr/bin/env bash
# `npm test`: bootstrap, then every suite (cargo, fuzz build, vitest per package, npm pack check).
# Ends with one line `N passed, N failed` summing all suites; exits non-zero if anything failed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bash "$ROOT/scripts/bootstrap.sh" --test
REPORTS="$ROOT/.cache/reports"
rm -rf "$REPORTS" && mkdir -p "$REPORTS"
status=0

run_suite() { # name, command...: runs a suite, keeps its output for the summary
  local name=$1; shift
  log "suite: $name"
  if ! "$@" 2>&1 | tee "$REPORTS/$name.log"; then status=1; echo "suite-failed $name" >> "$REPORTS/failed-suites"; fi
}

run_suite lint bash "$ROOT/scripts/lint.sh"
run_suite cargo cargo test --workspace --locked
run_suite fuzz-build bash "$ROOT/scripts/fuzz-build.sh"
run_suite tla-sync bash "$ROOT/scripts/tla-sync.sh"
for pkg in bindings node; do
  run_suite "vitest-$pkg" bash -c "cd '$ROOT/packages/$pkg' && npx vitest run --reporter=default --reporter=json --outputFile='$REPORTS/vitest-$pkg.json'"
done
run_suite pack bash "$ROOT/scripts/pack-check.sh"

node "$ROOT/scripts/summarize.mjs" "$REPORTS" || status=1
exit $status
