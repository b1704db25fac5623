#!/usr/bin/env bash
# Runs the independent cross-check of the governance vectors (crosscheck.py). Its one dependency
# outside the standard library and `cryptography` (which `scripts/bootstrap.sh --test` installs)
# is cbor2, pinned, installed from PyPI under .cache/pydeps/governance the first time.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
DEPS="$ROOT/.cache/pydeps/governance"
CBOR2_VERSION=5.6.5
if ! PYTHONPATH="$DEPS" python3 -c "import importlib.metadata as m; assert m.version('cbor2') == '$CBOR2_VERSION'" 2>/dev/null; then
  echo "[commons-sync] installing cbor2 $CBOR2_VERSION for the governance cross-check (once)" >&2
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --target "$DEPS" "cbor2==$CBOR2_VERSION" >&2
fi
PYTHONPATH="$DEPS" exec python3 "$ROOT/spec/vectors/governance/crosscheck.py" "$@"
