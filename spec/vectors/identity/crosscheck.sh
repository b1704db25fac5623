#!/usr/bin/env bash
# Runs the independent cross-check of the identity vectors (crosscheck.py). Its dependencies
# outside the standard library are `cryptography` and cbor2 5.6.5 (pinned, under
# .cache/pydeps/identity): `scripts/bootstrap.sh --test` (run by `npm test`) installs both.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
DEPS="$ROOT/.cache/pydeps/identity"
CBOR2_VERSION=5.6.5
if ! PYTHONPATH="$DEPS" python3 -c "import importlib.metadata as m; assert m.version('cbor2') == '$CBOR2_VERSION'" 2>/dev/null; then
  echo "crosscheck: cbor2 $CBOR2_VERSION is not installed under .cache/pydeps/identity: run scripts/bootstrap.sh --test" >&2
  exit 1
fi
PYTHONPATH="$DEPS" exec python3 "$ROOT/spec/vectors/identity/crosscheck.py" "$@"
