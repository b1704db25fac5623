#!/usr/bin/env bash
# `npm test`: bootstrap, then every suite (lint, cargo, fuzz build, the vector cross-check, TLA+
# models, vitest per package, the browser suite in Chromium, and the packed packages installed in
# a clean folder).
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
# The event vectors against a second implementation of the spec that shares no code with ours
# (cbor2, bs58, @noble/curves from the root devDependencies); it prints `checks: N passed, M failed`.
run_suite crosscheck bash -c "cd '$ROOT' && CROSSCHECK_DEPS='$ROOT' node spec/vectors/events/crosscheck.mjs"
# TLA+ models checked by TLC: each model must hold, each *Broken model must be refuted.
run_suite tla bash "$ROOT/scripts/tla.sh"
for pkg in bindings node bench; do
  run_suite "vitest-$pkg" bash -c "cd '$ROOT/packages/$pkg' && npx vitest run --reporter=default --reporter=json --outputFile='$REPORTS/vitest-$pkg.json'"
done
# The browser entry in headless Chromium (Debian's, installed by the bootstrap in --test mode).
run_suite browser bash -c "cd '$ROOT/packages/bindings' && npx vitest run --config vitest.browser.config.ts --reporter=default --reporter=json --outputFile='$REPORTS/browser.json'"
run_suite pack bash "$ROOT/scripts/pack-check.sh"

node "$ROOT/scripts/summarize.mjs" "$REPORTS" || status=1
exit $status
