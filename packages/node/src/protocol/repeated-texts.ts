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
  declare readonly text: string;
  declare readonly value: T;
  declare readonly bytes: Uint8Array;
  /** `bytes`, read 4 at a time. */
  declare readonly view: DataView;
  constructor(text: string, value: T, bytes: Uint8Array) {
    this.text = text;
    this.value = value;
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
}

const NO_BYTES = new Uint8Array(0);

export class RepeatedTexts<T> {
  private readonly slots: (Entry<T> | undefined)[];
  private readonly mask: number;
  /**
   * The last buffer looked into and a view of it: the JSON reader's output buffer, the same
   * from one event to the next, so a lookup reads it 4 bytes at a time without making a view
   * (a reference to that buffer is kept until another is looked into).
   */
  private seen: Uint8Array = NO_BYTES;
  private seenView: DataView = new DataView(NO_BYTES.buffer);

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
    if (bytes !== this.seen) {
      this.seen = bytes;
      this.seenView = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    const view = this.seenView;
    // a hash of the length and the last (up to) 8 bytes: where dids differ
    let h = 0x811c9dc5 ^ n;
    if (n >= 8)
      h = Math.imul(
        Math.imul(h ^ view.getInt32(end - 8, true), 0x01000193) ^ view.getInt32(end - 4, true),
        0x01000193,
      );
    else for (let i = start; i < end; i++) h = Math.imul(h ^ (bytes[i] as number), 0x01000193);
    const slot = (h ^ (h >>> 15)) & this.mask;
    const hit = this.slots[slot];
    if (hit !== undefined && sameBytes(hit, view, bytes, start, n)) return hit;
    const other = this.slots[slot ^ 1];
    if (other !== undefined && sameBytes(other, view, bytes, start, n)) return other;
    const text = this.decode(bytes, start, end);
    const entry = new Entry(text, this.judge(text), bytes.slice(start, end));
    if (hit !== undefined) this.slots[slot ^ 1] = hit;
    this.slots[slot] = entry;
    return entry;
  }
}

/** Whether `bytes[start, start + n)` are the entry's bytes (`view` is a view of `bytes`). */
function sameBytes(
  kept: Entry<unknown>,
  view: DataView,
  bytes: Uint8Array,
  start: number,
  n: number,
): boolean {
  if (kept.bytes.length !== n) return false;
  // 4 bytes at a time (a 56-byte did: ~30 ns instead of ~90), then the last few
  const words = n & ~3;
  for (let k = 0; k < words; k += 4)
    if (kept.view.getInt32(k, true) !== view.getInt32(start + k, true)) return false;
  for (let k = words; k < n; k++) if (kept.bytes[k] !== bytes[start + k]) return false;
  return true;
}
