// The packed tarballs have the napi-rs shape: the addon only in its platform package (with
// os/cpu/libc), the bindings package with the wasm module and the platform package as an
// optional dependency, and the two bins. Prints `checks: N passed, N failed`.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const files = readdirSync(dir).filter((f) => f.endsWith('.tgz'));
const list = (f) => execFileSync('tar', ['-tzf', join(dir, f)], { encoding: 'utf8' }).split('\n');
const manifest = (f) =>
  JSON.parse(
    execFileSync('tar', ['-xzOf', join(dir, f), 'package/package.json'], { encoding: 'utf8' }),
  );
const find = (re) => files.find((f) => re.test(f));

let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  console.log(`tarball ${name}: ${ok ? 'ok' : `FAILED ${detail}`}`);
  ok ? passed++ : failed++;
}

const bindingsFile = find(/^commons-sync-bindings-\d/);
const platformFiles = files.filter((f) => /^commons-sync-bindings-[a-z]/.test(f));
const bindings = manifest(bindingsFile);
const bindingsFiles = list(bindingsFile);
check(
  'bindings ships no addon',
  !bindingsFiles.some((f) => f.endsWith('.node')),
  bindingsFiles.join(' '),
);
check(
  'bindings ships the wasm module, the browser entry and types',
  [
    'package/wasm/commons_sync_wasm_bg.wasm',
    'package/wasm/commons_sync_wasm.js',
    'package/dist/browser.js',
    'package/dist/index.d.ts',
  ].every((f) => bindingsFiles.includes(f)),
);
check(
  'bindings has a browser export condition',
  bindings.exports?.['.']?.browser?.default === './dist/browser.js',
);
check('there is a platform package', platformFiles.length > 0);
for (const f of platformFiles) {
  const m = manifest(f);
  const abi = m.name.replace('@commons-sync/bindings-', '');
  check(
    `${m.name} is an optional dependency of the same version`,
    bindings.optionalDependencies?.[m.name] === bindings.version,
    JSON.stringify(bindings.optionalDependencies),
  );
  check(
    `${m.name} names its os/cpu${abi.includes('linux') ? '/libc' : ''}`,
    m.os?.length === 1 && m.cpu?.length === 1 && (!abi.includes('linux') || m.libc?.length === 1),
  );
  check(
    `${m.name} holds its addon`,
    list(f).includes(`package/${m.main}`) && m.main.endsWith(`.${abi}.node`),
  );
}
const node = manifest(find(/^commons-sync-node-/));
const bench = manifest(find(/^commons-sync-bench-/));
check(
  '@commons-sync/node has the commons-sync bin',
  node.bin?.['commons-sync'] !== undefined && !node.private,
);
check(
  '@commons-sync/bench has the commons-sync-bench bin',
  bench.bin?.['commons-sync-bench'] !== undefined && !bench.private,
);
console.log(`checks: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
