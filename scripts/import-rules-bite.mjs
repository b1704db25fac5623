// Shows that the import rules can fail: the fixture under scripts/fixtures/import-rules breaks
// each rule of .dependency-cruiser.cjs once (a file cycle, a folder cycle, each layer rule), and
// Biome's noImportCycles must flag its file cycle. A rule that stopped matching (a renamed
// folder, a changed path pattern, a tool upgrade) would let the real check pass on anything;
// this check fails instead. Prints `checks: N passed, M failed` (scripts/summarize.mjs counts it).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const FIXTURE = join(ROOT, 'scripts/fixtures/import-rules');
const bin = (name) => join(ROOT, 'node_modules/.bin', name);
let passed = 0;
let failed = 0;
const check = (what, ok, detail = '') => {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${ok || detail === '' ? '' : `: ${detail}`}`);
};

// dependency-cruiser: every rule of the configuration is broken by the fixture
const config = createRequire(import.meta.url)(join(ROOT, '.dependency-cruiser.cjs'));
const depcruise = (...args) =>
  spawnSync(bin('depcruise'), ['--config', join(ROOT, '.dependency-cruiser.cjs'), ...args], {
    cwd: FIXTURE,
    encoding: 'utf8',
  });
// the way scripts/lint.sh runs it: a violation is a non-zero exit
const plain = depcruise('packages/node/src');
check('depcruise exits non-zero on the fixture', plain.status !== 0, `exit ${plain.status}`);
const report = JSON.parse(depcruise('--output-type', 'json', 'packages/node/src').stdout);
const broken = new Set(report.summary.violations.map((v) => v.rule.name));
for (const rule of config.forbidden) {
  check(`depcruise rule ${rule.name} flags the fixture`, broken.has(rule.name));
}

// Biome: the fixture's file cycle is an error
const biome = spawnSync(
  bin('biome'),
  [
    'lint',
    '--colors=off',
    `--config-path=${join(FIXTURE, 'biome-fixture.json')}`,
    '--only=suspicious/noImportCycles',
    join(FIXTURE, 'packages'),
  ],
  { cwd: ROOT, encoding: 'utf8' },
);
const flagged = (biome.stdout + biome.stderr).match(/lint\/suspicious\/noImportCycles/g) ?? [];
check(
  'biome noImportCycles flags protocol/a.ts <-> b.ts',
  biome.status !== 0 && flagged.length === 2,
);

console.log(`checks: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
