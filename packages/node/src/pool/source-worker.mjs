// The worker entry for a worker module run from TypeScript source (tests, tsx): registers tsx's
// loader in this thread, imports the module named by the pool, and calls the export each task
// names. Node 20 gives a worker thread no ESM loader hooks through `execArgv` (nodejs/node#47747),
// but a thread may register them itself. Plain JavaScript because it must load before tsx.
// Never used from dist/: compiled worker modules are loaded by piscina directly.
import { workerData } from 'piscina';
import { register } from 'tsx/esm/api';

register();
const module = await import(workerData.source);

/** `{ name, task }` from WorkerPool.run: the task for the module's export `name`. */
export default function dispatch({ name, task }) {
  const handler = module[name];
  if (typeof handler !== 'function')
    throw new TypeError(`${workerData.source} exports no function ${name}`);
  return handler(task);
}
