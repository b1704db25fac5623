/**
 * Framing (spec/SYNC.md §2): every message is a 4-byte big-endian length N, then N bytes of
 * CBOR. 1 <= N <= {@link MAX_FRAME_BYTES}. The decoder refuses an oversized frame as soon as its
 * header arrives, so a peer can never make this node buffer more than one maximal frame.
 */
import { NetCode, NetError } from '../errors.js';

export const MAX_FRAME_BYTES = 1024 * 1024;
export const FRAME_HEADER_BYTES = 4;

export function encodeFrame(message: Uint8Array): Uint8Array {
  if (message.length === 0 || message.length > MAX_FRAME_BYTES) {
    throw new NetError(
      NetCode.FRAME_TOO_LARGE,
      `a message of ${message.length} bytes cannot be framed`,
    );
  }
  const out = new Uint8Array(FRAME_HEADER_BYTES + message.length);
  new DataView(out.buffer).setUint32(0, message.length);
  out.set(message, FRAME_HEADER_BYTES);
  return out;
}

/** Incremental, sans-I/O: give it bytes as they arrive, take whole frames out. */
export class FrameDecoder {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  /** The length of the frame being read, once its header is in. */
  private need = -1;

  constructor(private readonly maxFrameBytes = MAX_FRAME_BYTES) {}

  /** Bytes held that are not yet a whole frame (never more than one frame and a header). */
  get pending(): number {
    return this.buffered;
  }

  /** Adds bytes; returns the frames they complete. Throws {@link NetError} on a bad header. */
  push(bytes: Uint8Array): Uint8Array[] {
    if (bytes.length > 0) {
      this.chunks.push(bytes);
      this.buffered += bytes.length;
    }
    const frames: Uint8Array[] = [];
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < FRAME_HEADER_BYTES) break;
        const header = this.take(FRAME_HEADER_BYTES);
        const n = new DataView(header.buffer, header.byteOffset, 4).getUint32(0);
        if (n === 0) throw new NetError(NetCode.MALFORMED_MESSAGE, 'an empty frame');
        if (n > this.maxFrameBytes) {
          throw new NetError(
            NetCode.FRAME_TOO_LARGE,
            `a frame of ${n} bytes (limit ${this.maxFrameBytes})`,
          );
        }
        this.need = n;
      }
      if (this.buffered < this.need) break;
      frames.push(this.take(this.need));
      this.need = -1;
    }
    return frames;
  }

  private take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const head = this.chunks[0] as Uint8Array;
      const k = Math.min(head.length, n - at);
      out.set(head.subarray(0, k), at);
      at += k;
      if (k === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(k);
    }
    this.buffered -= n;
    return out;
  }
}
