// Verifies a batch of Ed25519 signatures in the browser and shows the speed. Everything runs
// locally; keys come from crypto.getRandomValues.
import { loadCore, packSignatureBatch } from '@commons-sync/bindings';

const out = document.querySelector('#out');
const size = Math.min(
  Math.max(Number(new URLSearchParams(location.search).get('n')) || 256, 2),
  4096,
);
const CORRUPTED = 7; // this item's message is altered after signing: it must be the one rejected

/** `n` signed 100-byte messages from `n` signers, with item CORRUPTED's message altered. */
function makeBatch(core, n) {
  const items = [];
  for (let i = 0; i < n; i++) {
    const seed = crypto.getRandomValues(new Uint8Array(32));
    const message = crypto.getRandomValues(new Uint8Array(100));
    items.push({
      publicKey: core.ed25519PublicKey(seed),
      message,
      signature: core.ed25519Sign(seed, message),
    });
  }
  items[CORRUPTED % n].message[0] ^= 1;
  return items;
}

/**
 * Microseconds per item: repeats `f` (which handles `items` items) for about 300 ms, after 300 ms
 * of warm-up (browsers first run WebAssembly through a baseline compiler, then tier up).
 */
function time(f, items) {
  for (const warm = performance.now(); performance.now() - warm < 300; ) f();
  let runs = 0;
  const start = performance.now();
  while (performance.now() - start < 300) {
    f();
    runs++;
  }
  return ((performance.now() - start) * 1000) / (runs * items);
}

async function run() {
  out.dataset.state = 'running';
  out.textContent = `verifying a batch of ${size}…`;
  await new Promise((r) => setTimeout(r, 0)); // let the page paint
  const core = await loadCore(); // WebAssembly, or pure JS where WebAssembly is unavailable
  const js = await loadCore({ backend: 'js' });
  const items = makeBatch(core, size);
  const { batch } = packSignatureBatch(items);
  const verdicts = core.ed25519VerifyBatchPacked(batch);
  const rejected = [...verdicts.keys()].filter((i) => verdicts[i] === 0);
  const batchUs = time(() => core.ed25519VerifyBatchPacked(batch), size);
  const few = items.slice(0, 32);
  const singleUs = time(() => {
    for (const it of few) core.ed25519Verify(it.publicKey, it.message, it.signature);
  }, few.length);
  const jsUs = time(() => {
    for (const it of few) js.ed25519Verify(it.publicKey, it.message, it.signature);
  }, few.length);
  const rate = (us) =>
    `${Math.round(1e6 / us).toLocaleString('en-US')} signatures/s (${us.toFixed(1)} µs each)`;
  out.textContent = [
    `backend: ${core.backend}`,
    `batch of ${size}: ${size - rejected.length} valid, rejected: ${rejected.join(', ') || 'none'} ` +
      `(item ${CORRUPTED % size} was corrupted on purpose)`,
    '',
    `${core.backend} batch verify:  ${rate(batchUs)}`,
    `${core.backend} single verify: ${rate(singleUs)}`,
    `js single verify:   ${rate(jsUs)}`,
  ].join('\n');
  Object.assign(out.dataset, {
    state: 'done',
    backend: core.backend,
    valid: String(size - rejected.length),
    rejected: rejected.join(','),
    batchUs: batchUs.toFixed(3),
  });
}

document.querySelector('#run').addEventListener('click', () => run().catch(fail));
function fail(error) {
  out.dataset.state = 'error';
  out.textContent = `error: ${error?.stack ?? error}`;
}
run().catch(fail);
