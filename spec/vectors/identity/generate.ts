/**
 * Generates the identity vectors of this folder (spec/IDENTITY.md) from fixed seeds and times.
 * Run from the repository root:  npx tsx spec/vectors/identity/generate.ts   (--check: compare only)
 *
 * Every expected verdict, chain and outcome below is stated by hand from the spec; the writers
 * refuse to write a file when the identity code disagrees (in every form given). Derived
 * fields (ids, encodings, windows) come from the code and are checked independently by
 * crosscheck.py. Deterministic: a rerun reproduces the files byte for byte.
 */

import { writeEvents } from './events.js';
import { writeLogs } from './logs.js';
import { writeIdentifiers, writeKeyEvents } from './single.js';

writeIdentifiers();
writeKeyEvents();
writeLogs();
writeEvents();
