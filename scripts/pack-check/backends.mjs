// Run inside a clean install: every backend loads through loadCore and agrees on RFC 8032
// TEST 1 and a tampered message and on a two-link SHA-256 chain (node:crypto gives the expected
// links); the default order gives `EXPECT` (argv[2]). Prints `checks: N passed, N failed`.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { BACKENDS, loadCore } from '@commons-sync/bindings';

const expect = process.argv[2];
const want = process.argv[3] === 'all' ? BACKENDS : [];
const h = (s) => Uint8Array.from(Buffer.from(s, 'hex'));
const pk = h('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
const sig = h(
  'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
);
let passed = 0;
let failed = 0;
const check = (name, ok, detail = '') => {
  console.log(`installed ${name}: ${ok ? 'ok' : `FAILED ${detail}`}`);
  ok ? passed++ : failed++;
};
for (const backend of want) {
  try {
    const core = await loadCore({ backend });
    const verdicts = core.ed25519VerifyBatch([
      { publicKey: pk, message: new Uint8Array(0), signature: sig },
      { publicKey: pk, message: Uint8Array.of(1), signature: sig },
    ]);
    check(
      `${backend} backend verifies`,
      core.ed25519Verify(pk, new Uint8Array(0), sig) && verdicts.join() === 'true,false',
      verdicts.join(),
    );
  } catch (e) {
    check(`${backend} backend verifies`, false, e.message);
  }
  try {
    const core = await loadCore({ backend });
    const leaves = Buffer.concat([pk, sig.subarray(0, 32)]);
    const c0 = createHash('sha256').update(sig.subarray(32)).update(pk).digest();
    const c1 = createHash('sha256').update(c0).update(sig.subarray(0, 32)).digest();
    const got = Buffer.from(core.sha256Chain(sig.subarray(32), leaves)).toString('hex');
    check(`${backend} backend chains`, got === Buffer.concat([c0, c1]).toString('hex'), got);
  } catch (e) {
    check(`${backend} backend chains`, false, e.message);
  }
}
const core = await loadCore();
check(`default backend is ${expect}`, core.backend === expect, `got ${core.backend}`);
if (expect === 'native') {
  // The addon must come from the platform package: the bindings package has none of its own.
  const require = createRequire(import.meta.url);
  const abi = `${process.platform}-${process.arch}-gnu`;
  let from = null;
  try {
    from = require.resolve(`@commons-sync/bindings-${abi}`);
  } catch {}
  check(
    'the addon comes from the platform package',
    from?.endsWith(`commons-sync.${abi}.node`),
    String(from),
  );
}
console.log(`checks: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
