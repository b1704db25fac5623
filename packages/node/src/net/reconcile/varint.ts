/**
 * The unsigned varint of reconciliation payloads (spec/SYNC.md §5.2): base 128, most significant
 * group first, the high bit set on every byte but the last (as negentropy). One spelling per
 * value: a leading 0x80 byte is refused. Values stop at 2^53 (the largest bound timestamp,
 * 2^53 - 1, is written as 1 + itself), so that every value is an exact JavaScript number.
 */
import { NetCode, NetError } from '../errors.js';

const MAX_VARINT_BYTES = 8;
export const MAX_VARINT = 2 ** 53;

export function varintLength(value: number): number {
  let n = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    n++;
  }
  return n;
}

/** Appends the varint of `value` (an integer in 0..2^53) to `out`. */
export function writeVarint(out: number[], value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_VARINT)
    throw new RangeError(`varint of ${value}`);
  const groups: number[] = [];
  do {
    groups.push(value % 128);
    value = Math.floor(value / 128);
  } while (value > 0);
  for (let i = groups.length - 1; i >= 0; i--) out.push((groups[i] as number) | (i > 0 ? 0x80 : 0));
}

function malformed(detail: string): never {
  throw new NetError(NetCode.MALFORMED_RECONCILE, detail);
}

/** A cursor over a payload; every read checks the bounds and throws ERR_MALFORMED_RECONCILE. */
export class PayloadReader {
  pos = 0;

  constructor(readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.bytes.length;
  }

  byte(): number {
    if (this.pos >= this.bytes.length) malformed('unexpected end of payload');
    return this.bytes[this.pos++] as number;
  }

  varint(): number {
    let value = 0;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const b = this.byte();
      if (i === 0 && b === 0x80) malformed('varint with a leading zero group');
      const low = b & 0x7f;
      if (value > Math.floor((MAX_VARINT - low) / 128)) malformed('varint above 2^53');
      value = value * 128 + low;
      if ((b & 0x80) === 0) return value;
    }
    return malformed(`varint longer than ${MAX_VARINT_BYTES} bytes`);
  }

  take(n: number): Uint8Array {
    if (n > this.bytes.length - this.pos) malformed('unexpected end of payload');
    const out = this.bytes.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}
