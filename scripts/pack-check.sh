#!/usr/bin/env bash
# A new user's first install, tried as one: the packed packages (scripts/pack.sh) install into a
# clean folder where no Rust toolchain can be reached, then every backend loads through loadCore,
# `npx commons-sync` initializes and starts a node that accepts one event, and
# `npx commons-sync-bench --quick` runs (with a shorter time per case). Prints timings and
# `checks: N passed, N failed`.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
work=$(mktemp -d /tmp/commons-pack-XXXXXX)
node_group=""
cleanup() {
  if [ -n "$node_group" ]; then kill -TERM -- "-$node_group" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "pack $1: ok"; }
bad() { fail=$((fail + 1)); echo "pack $1: FAILED${2:+ ($2)}"; }
counts() { # adds the `checks:` line of a helper's output, shows the rest
  local out=$1
  grep -v '^checks:' "$out" || true
  local line; line=$(grep '^checks:' "$out" | tail -1 || true)
  if [ -z "$line" ]; then fail=$((fail + 1)); echo "pack: a helper printed no result"; tail -20 "$out"; return; fi
  pass=$((pass + $(echo "$line" | awk '{print $2}'))); fail=$((fail + $(echo "$line" | awk '{print $4}')))
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# --- pack ---
t=$(now)
bash "$ROOT/scripts/pack.sh" "$work/tarballs" > "$work/tarballs.txt"
pack_s=$(since "$t")
node "$ROOT/scripts/pack-check/tarballs.mjs" "$work/tarballs" > "$work/tarballs.log" 2>&1 || true
counts "$work/tarballs.log"

# --- a PATH without Rust: node, npm, a shell, the coreutils used below, and a C/C++ toolchain
# (better-sqlite3 compiles from source where its GitHub prebuilt cannot be downloaded) ---
bin="$work/bin"; mkdir "$bin"
for tool in node npm npx sh bash env cat cp mv rm ln mkdir rmdir ls chmod touch sed grep awk \
            head tail tr sort uname dirname basename readlink realpath mktemp tar gzip printf \
            test expr find xargs wc cut date true false tee install which \
            python3 make cc gcc g++ c++ cpp as ld ar ranlib strip; do
  path=$(type -P "$tool") && ln -s "$path" "$bin/$tool"
done
PREBUILDS="$ROOT/.cache/prebuilds"
mkdir -p "$PREBUILDS"
clean() { # runs a command in the clean folder with nothing but the PATH above
  (cd "$app" && env -i PATH="$bin" HOME="$HOME" TMPDIR="${TMPDIR:-/tmp}" LANG=C.UTF-8 \
     COMMONS_SYNC_PASSPHRASE='pack check passphrase' \
     npm_config_better_sqlite3_local_prebuilds="$PREBUILDS" "$@")
}
app="$work/app"; mkdir "$app"
if clean sh -c 'command -v cargo || command -v rustc || command -v rustup' >/dev/null; then
  bad "no cargo, rustc or rustup on the clean PATH" "$(clean sh -c 'command -v cargo rustc rustup')"
else ok "no cargo, rustc or rustup on the clean PATH"; fi

# --- install: the platform package is reachable only as the bindings' optional dependency (the
# override stands in for the registry, which would serve it under that name) ---
tgz() { ls "$work/tarballs/"commons-sync-"$1"-0*.tgz; }
platform_tgz=$(ls "$work/tarballs/"commons-sync-bindings-*-*.tgz | grep -v 'bindings-0' | head -1)
platform_name=$(tar -xzOf "$platform_tgz" package/package.json | node -p 'JSON.parse(require("fs").readFileSync(0)).name')
cat > "$app/package.json" <<JSON
{ "name": "pack-check", "version": "1.0.0", "private": true, "type": "module",
  "overrides": { "$platform_name": "file:$platform_tgz" } }
JSON
t=$(now)
if clean npm install --no-audit --no-fund --prefer-offline --loglevel=error \
     "$(tgz bindings)" "$(tgz node)" "$(tgz bench)" > "$work/install.log" 2>&1; then
  ok "npm install of the tarballs"
else bad "npm install of the tarballs"; tail -30 "$work/install.log"; fi
install_s=$(since "$t")
# Keep better-sqlite3's build as a local prebuild (prebuild-install's documented
# <name>_local_prebuilds), so the next run does not compile it again.
sqlite="$app/node_modules/better-sqlite3"
if [ -f "$sqlite/build/Release/better_sqlite3.node" ]; then
  name=$(cd "$sqlite" && node -p '`better-sqlite3-v${require("./package.json").version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`')
  [ -f "$PREBUILDS/$name" ] || (cd "$sqlite" && tar -czf "$PREBUILDS/$name" build/Release/better_sqlite3.node)
fi

# --- every backend through loadCore, native from the platform package ---
cp "$ROOT/scripts/pack-check/backends.mjs" "$app/"
clean node backends.mjs native all > "$work/backends.log" 2>&1 || true
counts "$work/backends.log"
# Where npm skips the platform package (another cpu), wasm is the default; without
# WebAssembly (node --jitless), js.
other="$work/other"; mkdir "$other"; cp "$app/package.json" "$app/backends.mjs" "$other/"
(app="$other" clean npm install --no-audit --no-fund --prefer-offline --loglevel=error --cpu=arm64 \
   "$(tgz bindings)" > "$work/other.log" 2>&1) || { bad "npm install --cpu=arm64"; tail -20 "$work/other.log"; }
if [ -e "$other/node_modules/$platform_name" ]; then bad "npm skips $platform_name on another cpu"
else ok "npm skips $platform_name on another cpu"; fi
(app="$other" clean node backends.mjs wasm > "$work/wasm.log" 2>&1) || true
counts "$work/wasm.log"
(app="$other" clean node --jitless --no-warnings backends.mjs js > "$work/js.log" 2>&1) || true
counts "$work/js.log"

# --- the CLI as the README spells it: init, start, keygen, event create, submit ---
t=$(now)
clean npx commons-sync init --data ./data > "$work/init.log" 2>&1 && grep -q '^did:key:' "$work/init.log" \
  && ok "npx commons-sync init" || { bad "npx commons-sync init"; cat "$work/init.log"; }
# The node runs in a session of its own, so that npx, its shell and the node stop together; the
# shell writes its pid (the session's process group) before it becomes npx. Nothing of it keeps
# this script's output open.
setsid env -i PATH="$bin" HOME="$HOME" COMMONS_SYNC_PASSPHRASE='pack check passphrase' \
  sh -c 'echo $$ > "$1" && cd "$2" && exec npx commons-sync start --data ./data --port 0' \
  sh "$work/start.pid" "$app" > "$work/start.log" 2>&1 < /dev/null &
for _ in $(seq 1 50); do [ -s "$work/start.pid" ] && break; sleep 0.1; done
node_group=$(cat "$work/start.pid")
url=""
for _ in $(seq 1 120); do
  url=$(grep -o 'listening on http://127\.0\.0\.1:[0-9]*' "$work/start.log" | sed 's/listening on //' || true)
  [ -n "$url" ] && break
  sleep 0.5
done
[ -n "$url" ] && ok "npx commons-sync start" || { bad "npx commons-sync start"; cat "$work/start.log"; }
clean npx commons-sync keygen --out alice.key > "$work/keygen.log" 2>&1 \
  && clean sh -c "npx commons-sync event create --key alice.key --kind note --payload '{\"hello\":\"world\"}' > e.json" 2> "$work/event.log" \
  && ok "npx commons-sync keygen and event create" || { bad "npx commons-sync keygen and event create"; cat "$work/keygen.log" "$work/event.log"; }
if [ -n "$url" ] && clean npx commons-sync submit --url "$url" --json e.json > "$work/submit.log" 2>&1 \
   && grep -q '"accepted":1' "$work/submit.log"; then ok "npx commons-sync submit: the event is accepted"
else bad "npx commons-sync submit: the event is accepted"; cat "$work/submit.log"; fi
kill -TERM -- "-$node_group" 2>/dev/null || true
for _ in $(seq 1 40); do kill -0 -- "-$node_group" 2>/dev/null || break; sleep 0.25; done
if kill -0 -- "-$node_group" 2>/dev/null; then bad "the node stops on SIGTERM"; kill -KILL -- "-$node_group"
else ok "the node stops on SIGTERM"; fi
node_group=""
clean npx commons-sync audit verify --data ./data > "$work/audit.log" 2>&1 && grep -q 'audit log intact' "$work/audit.log" \
  && ok "npx commons-sync audit verify" || { bad "npx commons-sync audit verify"; cat "$work/audit.log"; }
cli_s=$(since "$t")

# --- the bench's quick mode, with a shorter time per case (the real one is under 2 minutes) ---
t=$(now)
if clean npx commons-sync-bench --quick --time 0.02 --rounds 2 --json bench.json --markdown bench.md > "$work/bench.log" 2>&1 \
   && node -e '
     const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
     const ours = new Set(r.comparisons.map((c) => c.impl));
     process.exit(["native", "wasm", "js"].every((b) => ours.has(b)) && r.mode === "quick" ? 0 : 1);
   ' "$app/bench.json"; then ok "npx commons-sync-bench --quick"
else bad "npx commons-sync-bench --quick"; tail -30 "$work/bench.log"; fi
bench_s=$(since "$t")

echo "pack-check timings: pack ${pack_s} s, npm install ${install_s} s, CLI ${cli_s} s, bench quick (--time 0.02 --rounds 2) ${bench_s} s"
echo "checks: $pass passed, $fail failed"
[ $fail -eq 0 ]
