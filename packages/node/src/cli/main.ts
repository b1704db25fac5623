#!/usr/bin/env node
/** The `commons-sync` executable. Everything is in run.ts; this file only starts it. */
import { runCli } from './run.js';

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
// Every command has finished its work here. If a stray handle (a socket, a worker) still holds
// the event loop, do not hang forever: the timer is unref'd, so it only fires in that case.
setTimeout(() => process.exit(code), 5_000).unref();
