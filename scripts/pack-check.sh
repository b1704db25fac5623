#!/usr/bin/env bash
# `npm pack` of @commons-sync/bindings installs and works in a clean folder outside the repo:
# every backend loads from the tarball and verifies RFC 8032 TEST 1.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
work=$(mktemp -d /tmp/commons-pack-XXXXXX)
trap 'rm -rf "$work"' EXIT
tarball=$(cd "$ROOT/packages/bindings" && npm pack --silent --pack-destination "$work")
cd "$work"
npm init -y >/dev/null
npm install --silent --no-audit --no-fund --prefer-offline "./$tarball" >/dev/null
cat > check.mjs <<'JS'
import { loadCore, BACKENDS } from '@commons-sync/bindings';
const h = (s) => Uint8Array.from(Buffer.from(s, 'hex'));
// RFC 8032 §7.1 TEST 1
const pk = h('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
const sig = h('e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b');
let passed = 0, failed = 0;
for (const backend of BACKENDS) {
  try {
    const core = await loadCore({ backend });
    const ok = core.ed25519Verify(pk, new Uint8Array(0), sig) && !core.ed25519Verify(pk, Uint8Array.of(1), sig);
    console.log(`packed ${backend}: ${ok ? 'ok' : 'WRONG VERDICT'}`);
    ok ? passed++ : failed++;
  } catch (e) { console.log(`packed ${backend}: ${e.message}`); failed++; }
}
const core = await loadCore();
if (core.backend === 'native') passed++; else { failed++; console.log(`default backend is ${core.backend}, want native`); }
console.log(`checks: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
JS
node check.mjs
