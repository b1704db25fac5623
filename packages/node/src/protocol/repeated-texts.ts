/**
 * Short texts that repeat from event to event (authors, signers, kinds), turned into a string
 * and judged once, then found again by their bytes. A validator sees the same few hundred
 * authors over and over: decoding each author's 56 bytes into a fresh string (a call into the
 * TextDecoder), then hashing that string to find its parsed key in a map, was among the
 * worker's largest costs per event besides verification (its profiles). Here a
 * text is found by a number made of its last bytes and confirmed by comparing every byte, so
 * what comes back is exactly what `decode` and `judge` give for those bytes; the strings come
 * back as the same objects every time, so the maps further on find their hashes already made.
 *
 * Bounded whatever the input: a fixed number of slots, one entry each, in pairs. A text is
 * looked for in its slot and the other of the pair; a newcomer takes its slot and moves the
 * entry there to the other (whose entry leaves). Two texts that share a slot both stay (among
 * 200 dids in 4,096 slots some pairs do; when each evicted the other, each of their events
 * paid a decode and a judgement); three or more made to share one only evict one another
 * (each then costs what it costs without the table), never a search.
 */

/** A text as the table keeps it: its string and the verdict on it. */
export interface RepeatedText<T> {
  readonly text: string;
  readonly value: T;
  readonly bytes: Uint8Array;
}

/**
 * An entry (a class, not an object literal: V8 may decide a literal's allocation site
 * allocates in the old generation, and deoptimizes every function inlining it when it does;
 * see reasons.ts).
 */
class Entry<T> implements RepeatedText<T> {
  readonly text: string;
  readonly value: T;
  readonly bytes: Uint8Array;
  constructor(text: string, value: T, bytes: Uint8Array) {
    this.text = text;
    this.value = value;
    this.bytes = bytes;
  }
}

export class RepeatedTexts<T> {
  private readonly slots: (Entry<T> | undefined)[];
  private readonly mask: number;

  /**
   * `slotBits`: 2^slotBits slots. `decode`: the string of `bytes[start, end)`; `judge`: the
   * value kept with it (a pure function of the string).
   */
  constructor(
    slotBits: number,
    private readonly decode: (bytes: Uint8Array, start: number, end: number) => string,
    private readonly judge: (text: string) => T,
  ) {
    this.slots = new Array<Entry<T> | undefined>(Math.max(2, 1 << slotBits)).fill(undefined);
    this.mask = (1 << slotBits) - 1;
  }

  /** The entry for `bytes[start, end)`: found again, or made now (and kept in its slot). */
  get(bytes: Uint8Array, start: number, end: number): RepeatedText<T> {
    const n = end - start;
    // FNV-1a over the length and the last (up to) 8 bytes: where dids differ
    let h = 0x811c9dc5 ^ n;
    for (let i = Math.max(start, end - 8); i < end; i++)
      h = Math.imul(h ^ (bytes[i] as number), 0x01000193);
    const slot = (h ^ (h >>> 15)) & this.mask;
    const hit = this.slots[slot];
    if (hit !== undefined && sameBytes(hit.bytes, bytes, start, n)) return hit;
    const other = this.slots[slot ^ 1];
    if (other !== undefined && sameBytes(other.bytes, bytes, start, n)) return other;
    const text = this.decode(bytes, start, end);
    const entry = new Entry(text, this.judge(text), bytes.slice(start, end));
    if (hit !== undefined) this.slots[slot ^ 1] = hit;
    this.slots[slot] = entry;
    return entry;
  }
}

function sameBytes(kept: Uint8Array, bytes: Uint8Array, start: number, n: number): boolean {
  if (kept.length !== n) return false;
  for (let k = 0; k < n; k++) if (kept[k] !== bytes[start + k]) return false;
  return true;
}
