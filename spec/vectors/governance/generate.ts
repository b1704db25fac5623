/**
 * Generates the governance vectors of this folder (spec/GOVERNANCE.md) from fixed seeds and times.
 * Run from the repository root:  npx tsx spec/vectors/governance/generate.ts   (--check: compare only)
 *
 * Every expected verdict, outcome, state and trust answer is stated by hand from the spec; the
 * writers refuse to write a file when the governance code disagrees (in every form and order
 * given). Derived fields (ids, encodings) come from the code and are checked independently by
 * crosscheck.py. Deterministic: a rerun reproduces the files byte for byte.
 */
import { writeChains } from './chains.js';
import { writeRecords } from './records.js';
import { writeTrust } from './trust.js';

writeRecords();
writeChains();
writeTrust();
