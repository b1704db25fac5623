# Shared helpers for the bootstrap and test scripts. Sourced, not run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STAMPS="$ROOT/.cache/stamps"
mkdir -p "$STAMPS"
export PATH="$HOME/.cargo/bin:$PATH"
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 NEXT_TELEMETRY_DISABLED=1

log() { printf '\033[1m[commons-sync]\033[0m %s\n' "$*" >&2; }
die() { printf '[commons-sync] error: %s\n' "$*" >&2; exit 1; }

# Hash of the given files and directories (contents and names), for rebuild stamps.
tree_hash() {
  (cd "$ROOT" && find "$@" -type f \( -path '*/node_modules/*' -o -path '*/target/*' \) -prune -o -type f -print 2>/dev/null \
    | LC_ALL=C sort | xargs -d '\n' sha256sum 2>/dev/null | sha256sum | cut -c1-32)
}

# stamp_ok NAME HASH: true when step NAME already ran with these inputs.
stamp_ok() { [ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$2" ]; }
stamp_set() { printf '%s' "$2" > "$STAMPS/$1"; }
