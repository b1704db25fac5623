// Sums every suite's results into the one closing line `N passed, N failed`.
// Reads the reports that scripts/test.sh left: cargo logs, vitest JSON, and `checks:` lines.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
let passed = 0;
let failed = 0;
const rows = [];
for (const file of readdirSync(dir).sort()) {
  const path = join(dir, file);
  let p = 0;
  let f = 0;
  if (file.endsWith('.json')) {
    const r = JSON.parse(readFileSync(path, 'utf8'));
    p = r.numPassedTests;
    f = r.numFailedTests;
    // a test file that failed to load holds no failed test but must still count
    if (r.numFailedTestSuites > 0 && f === 0) f = r.numFailedTestSuites;
  } else if (file.endsWith('.log') && existsSync(path.replace(/\.log$/, '.json'))) {
    continue; // a vitest run: its JSON report counts, its log is for people
  } else if (file.endsWith('.log')) {
    const text = readFileSync(path, 'utf8');
    for (const m of text.matchAll(/test result: \w+\. (\d+) passed; (\d+) failed/g)) {
      p += Number(m[1]);
      f += Number(m[2]);
    }
    for (const m of text.matchAll(/^checks: (\d+) passed, (\d+) failed$/gm)) {
      p += Number(m[1]);
      f += Number(m[2]);
    }
  } else continue;
  rows.push(
    `  ${file.replace(/\.(json|log)$/, '').padEnd(20)} ${String(p).padStart(5)} passed ${String(f).padStart(4)} failed`,
  );
  passed += p;
  failed += f;
}
const failedSuites = existsSync(join(dir, 'failed-suites'))
  ? readFileSync(join(dir, 'failed-suites'), 'utf8').trim().split('\n')
  : [];
// A suite that exited non-zero without a counted failure (a build error, say) still fails.
for (const line of failedSuites) {
  const name = line.replace('suite-failed ', '');
  const counted = rows.some((r) => r.includes(name) && !/ 0 failed$/.test(r));
  if (!counted) {
    failed += 1;
    rows.push(`  ${name.padEnd(20)} exited non-zero`);
  }
}
console.log('\nSummary by suite:');
console.log(rows.join('\n'));
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
