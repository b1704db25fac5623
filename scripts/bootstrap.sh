#!/usr/bin/env bash
# Installs what is missing and builds what changed; a second run does nothing but check.
#   scripts/bootstrap.sh          everything `npm start` needs
#   scripts/bootstrap.sh --test   plus the test-only tools (cargo-fuzz, Python cryptography,
#                                 Chromium, an unoptimized build of the addon for the bench test)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
FOR_TEST=0
[ "${1:-}" = "--test" ] && FOR_TEST=1
WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen crate version in Cargo.lock
WASM_PACK_VERSION=0.15.1

# --- Debian packages: WebAssembly std source and linker (see ../shared/TOOLCHAIN.md) ---
APT_PKGS=(rustc-web cargo-web rust-web-src lld-19 pkg-config python3-pip)
# SoftHSM2 (a PKCS#11 token in software) and OpenSC's pkcs11-tool: the HSM keystore's tests,
# and `npm start` when COMMONS_SYNC_KEYSTORE names the SoftHSM2 module. A real HSM brings its
# own PKCS#11 module; the pkcs11js binding itself comes with the npm dependencies.
if [ $FOR_TEST = 1 ] || [[ "${COMMONS_SYNC_KEYSTORE:-}" == pkcs11:*libsofthsm2* ]]; then
  APT_PKGS+=(softhsm2 opensc)
fi
# The browser suite drives Debian's Chromium; nothing downloads a browser.
[ $FOR_TEST = 1 ] && APT_PKGS+=(chromium)
missing=()
for p in "${APT_PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || die "apt-get not found; install ${missing[*]} by hand"
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Rust tools ---
command -v cargo >/dev/null || die "cargo not found (install rustup's stable toolchain)"
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  cargo install -q wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi
if ! wasm-pack --version 2>/dev/null | grep -q " $WASM_PACK_VERSION\$"; then
  log "installing wasm-pack $WASM_PACK_VERSION (a few minutes, once)"
  cargo install -q wasm-pack --version "$WASM_PACK_VERSION" --force
fi
if [ $FOR_TEST = 1 ] && ! cargo fuzz --version >/dev/null 2>&1; then
  log "installing cargo-fuzz (once)"
  cargo install -q cargo-fuzz --version 0.13.2
fi
if [ $FOR_TEST = 1 ] && ! python3 -c 'import cryptography' 2>/dev/null; then
  log "installing Python cryptography (second Fernet implementation for interop tests)"
  python3 -m pip install -q cryptography 2>/dev/null || python3 -m pip install -q --break-system-packages cryptography
fi
# cbor2, pinned, for the independent cross-check of the identity vectors
# (spec/vectors/identity/crosscheck.py), in its own folder: nothing else imports it.
CBOR2_VERSION=5.6.5
PYDEPS_IDENTITY="$ROOT/.cache/pydeps/identity"
if [ $FOR_TEST = 1 ] && ! PYTHONPATH="$PYDEPS_IDENTITY" python3 -c "import importlib.metadata as m; assert m.version('cbor2') == '$CBOR2_VERSION'" 2>/dev/null; then
  log "installing Python cbor2 $CBOR2_VERSION (the identity vectors' cross-check)"
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --target "$PYDEPS_IDENTITY" "cbor2==$CBOR2_VERSION"
fi

# --- npm dependencies ---
lock_hash=$(sha256sum "$ROOT/package-lock.json" | cut -c1-32)
if ! stamp_ok npm "$lock_hash" || [ ! -d "$ROOT/node_modules" ]; then
  log "installing npm dependencies (npm ci)"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
  stamp_set npm "$lock_hash"
fi
# `npx commons-sync` needs npm's link to the committed launcher (packages/node/bin). An install
# made before the bin pointed there (or a removed link) is mended without reinstalling.
if [ "$(readlink -f "$ROOT/node_modules/.bin/commons-sync" 2>/dev/null)" != "$ROOT/packages/node/bin/commons-sync.js" ]; then
  log "linking the commons-sync command (npm rebuild @commons-sync/node)"
  (cd "$ROOT" && npm rebuild @commons-sync/node --ignore-scripts --loglevel=error >/dev/null)
fi

# --- native addon (crates/core + crates/napi, built by @napi-rs/cli) ---
# The napi config (binary name, the platform table) is the bindings' package.json, as napi-rs
# expects; the addon lands in native/ (a checkout's own build) and is packed into its platform
# package by scripts/pack.sh. A recipe tag in the stamp rebuilds when this recipe changes.
BINDINGS="$ROOT/packages/bindings"
native_hash="napi-v2-$(tree_hash crates/core crates/napi Cargo.toml Cargo.lock .cargo)"
if ! stamp_ok native "$native_hash" || ! ls "$BINDINGS"/native/*.node >/dev/null 2>&1 \
   || [ ! -f "$BINDINGS/native/index.d.ts" ]; then
  log "building the native addon (release)"
  (cd "$ROOT" && npx napi build --manifest-path crates/napi/Cargo.toml \
     --package-json-path packages/bindings/package.json --output-dir packages/bindings/native \
     --platform --release --no-js --dts index.d.ts >/dev/null)
  stamp_set native "$native_hash"
fi

# The bench's regression test needs a genuinely slower addon: the same source compiled without
# optimisations (opt-level 0 for every crate), in its own target dir so it never mixes with the
# real build. Selected at run time through NAPI_RS_NATIVE_LIBRARY_PATH.
if [ $FOR_TEST = 1 ]; then
  slow_dir="$ROOT/target/unoptimized-addon"
  if ! stamp_ok unoptimized "$native_hash" || ! ls "$slow_dir"/*.node >/dev/null 2>&1; then
    log "building an unoptimized copy of the addon for the bench regression test (once)"
    (cd "$ROOT" && CARGO_TARGET_DIR="$ROOT/target/unoptimized" CARGO_PROFILE_RELEASE_OPT_LEVEL=0 \
       CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
       npx napi build --manifest-path crates/napi/Cargo.toml \
       --package-json-path packages/bindings/package.json --output-dir target/unoptimized-addon \
       --platform --release --no-js --dts index.d.ts >/dev/null)
    stamp_set unoptimized "$native_hash"
  fi
fi

# --- WebAssembly module (crates/core + crates/wasm, built by wasm-pack with build-std) ---
# One build, for the web (ES module, no Node built-ins): browsers fetch it, Node passes the
# file's bytes to initSync (packages/bindings/src/wasm.ts).
wasm_hash="web-v1-$(tree_hash crates/core crates/wasm Cargo.toml Cargo.lock)"
if ! stamp_ok wasm "$wasm_hash" || [ ! -f "$BINDINGS/wasm/commons_sync_wasm_bg.wasm" ]; then
  log "building the WebAssembly module (release, std built from source)"
  rm -rf "$BINDINGS/wasm"
  (cd "$ROOT" && RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
     CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-19 CARGO_TARGET_DIR="$ROOT/target/wasm" \
     wasm-pack --quiet build crates/wasm --release --target web --mode force --no-opt --no-pack \
       --out-dir ../../packages/bindings/wasm --out-name commons_sync_wasm \
       -- -Z build-std=std,panic_abort >/dev/null)
  rm -f "$BINDINGS/wasm/.gitignore"   # wasm-pack's '*' would hide the module from npm pack
  stamp_set wasm "$wasm_hash"
fi

# --- TypeScript packages (turbo caches unchanged ones) ---
(cd "$ROOT" && npx turbo run build --output-logs=errors-only --log-prefix=none >/dev/null) \
  || { (cd "$ROOT" && npx turbo run build --output-logs=errors-only); die "TypeScript build failed"; }
