/**
 * `audit verify` for governance (spec/AUDIT.md §2.4): every stored governance record decodes, is
 * its id, carries the signer set its row names, verifies, and was recorded by a `held` critical
 * entry whose `encodedHash` is the hash of exactly these bytes. A row no entry recorded, or whose
 * bytes changed, is named. (Rows may leave the table when the held set drops a copy, so an entry
 * without a row is no finding.)
 */
import type { Core } from '@commons-sync/bindings';

import { decodeRecord, signerSetOf, verifyRecord } from '../governance/index.js';
import type { AuditEntry } from './entry.js';
import { type AuditData, fail, hex, isBlob, same } from './verify-common.js';

/** The `held` entries, by copy (`id signers`): the hashes recorded for it. */
export class HeldEntries {
  readonly #byCopy = new Map<string, string[]>();

  /** Called for every entry in log order. */
  note(e: AuditEntry): void {
    if (e.type !== 'critical' || e.eventId === null || !e.detail.startsWith('{"governance":"held"'))
      return;
    let detail: { signers?: unknown; encodedHash?: unknown };
    try {
      detail = JSON.parse(e.detail) as typeof detail;
    } catch {
      return;
    }
    if (!Array.isArray(detail.signers) || typeof detail.encodedHash !== 'string')
      fail('audit_entries', e.seq, 'governance entry without signers or encodedHash');
    const key = `${hex(e.eventId)} ${(detail.signers as string[]).join(' ')}`;
    const list = this.#byCopy.get(key);
    if (list === undefined) this.#byCopy.set(key, [detail.encodedHash]);
    else list.push(detail.encodedHash);
  }

  hashes(key: string): readonly string[] {
    return this.#byCopy.get(key) ?? [];
  }
}

/** Throws {@link Found} at the first governance row that breaks a rule. */
export function verifyGovernance(data: AuditData, core: Core, held: HeldEntries): void {
  for (const row of data.governanceRows?.() ?? []) {
    const { id, signers, encoded } = row;
    const name = isBlob(id, 32) ? `${hex(id)}` : '?';
    if (!isBlob(id, 32) || typeof signers !== 'string' || !isBlob(encoded))
      fail('governance_records', name, 'malformed column');
    const d = decodeRecord(core, encoded);
    if (!d.ok) fail('governance_records', name, `no longer decodes: ${d.reason} (${d.detail})`);
    if (!same(d.value.id, id)) fail('governance_records', name, 'id is not the hash of its body');
    if (signerSetOf(d.value) !== signers)
      fail('governance_records', name, "signers differ from the record's signatures");
    const v = verifyRecord(core, d.value);
    if (!v.ok) fail('governance_records', name, `no longer verifies: ${v.reason}`);
    const hashes = held.hashes(`${hex(id)} ${signers}`);
    if (hashes.length === 0) fail('governance_records', name, 'no audit entry records it');
    if (!hashes.includes(hex(core.sha256(encoded))))
      fail('governance_records', name, 'bytes differ from the audit entry that recorded it');
  }
}
