// A child process for store-engines-crash.test.ts: commits batches of 1,000 events to a store
// one after the other and prints `committed N` on stdout once the commit of event N returned
// (acknowledged, per the engine's guarantee), until it is killed.
import { loadCore } from '@commons-sync/bindings';

import { EventFactory } from '../src/ingest/events.js';
import { type EngineName, openEngine, toBenchEvents } from '../src/store-engines/engines.js';

const [dir, name, nowSecText] = process.argv.slice(2);
if (dir === undefined || name === undefined || nowSecText === undefined)
  throw new Error('usage: store-engines-commit-child DIR ENGINE NOW_SEC');
const core = await loadCore();
const factory = new EventFactory(core, 'store-engines-crash');
const engine = openEngine(name as EngineName, dir, core);
for (let b = 0; b < 1000; b++) {
  await engine.commit(toBenchEvents(factory.bulkEvents(b * 1000, 1000, Number(nowSecText))));
  process.stdout.write(`committed ${engine.count}\n`);
}
