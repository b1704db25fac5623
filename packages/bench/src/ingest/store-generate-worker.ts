/**
 * A thread of the store generator (store-generate.ts): makes and signs the events of the
 * batches it is given with the bench's own factory and sends back what the bulk loader stores.
 */
import { parentPort, workerData } from 'node:worker_threads';

import { loadCore } from '@commons-sync/bindings';

import { type BatchRequest, EventFactory } from './events.js';

const core = await loadCore();
const factory = new EventFactory(core, (workerData as { label: string }).label);
const port = parentPort;
if (port === null) throw new Error('store-generate-worker runs in a worker thread');
port.on('message', (req: BatchRequest) => {
  port.postMessage({ seq: req.seq, events: factory.bulkEvents(req.first, req.count, req.now) });
});
