/**
 * Framing and messages (spec/SYNC.md §2, §4): the vectors in spec/vectors/sync/wire.json decode
 * and re-encode byte for byte, malformed messages are refused with ERR_MALFORMED_MESSAGE, frames
 * survive any chunking, an oversized frame is refused from its header alone, and random input
 * never escapes as anything but a typed error.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { NetError } from '../src/net/errors.js';
import { encodeFrame, FrameDecoder, MAX_FRAME_BYTES } from '../src/net/wire/frame.js';
import { decodeMessage, encodeMessage } from '../src/net/wire/messages.js';
import { fromHex, toHex } from '../src/protocol/bytes.js';

const path = fileURLToPath(new URL('../../../spec/vectors/sync/wire.json', import.meta.url));
const doc = JSON.parse(readFileSync(path, 'utf8')) as {
  messages: Array<{ name: string; cbor: string; frame: string }>;
  malformed: Array<{ description: string; cbor: string }>;
};
const bytes = (hex: string) => fromHex(hex) as Uint8Array;

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof NetError) return e.code;
    throw e;
  }
  return 'no error';
}

describe('message vectors', () => {
  it.each(doc.messages.map((m) => [m.name, m]))(
    '%s decodes and re-encodes byte for byte',
    (_, m) => {
      const decoded = decodeMessage(bytes(m.cbor));
      expect(toHex(encodeMessage(decoded))).toBe(m.cbor);
      expect(toHex(encodeFrame(bytes(m.cbor)))).toBe(m.frame);
    },
  );

  it.each(doc.malformed.map((m) => [m.description, m.cbor]))('refuses %s', (_, cbor) => {
    expect(codeOf(() => decodeMessage(bytes(cbor)))).toBe('ERR_MALFORMED_MESSAGE');
  });

  it('random bytes are a typed error or a message, never a crash', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (input) => {
        try {
          const m = decodeMessage(input);
          expect(encodeMessage(m)).toEqual(input); // what decodes is canonical
        } catch (e) {
          expect(e).toBeInstanceOf(NetError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('frames', () => {
  it('come out whole whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 3000 }), { minLength: 1, maxLength: 10 }),
        fc.array(fc.integer({ min: 1, max: 4000 }), { minLength: 1, maxLength: 20 }),
        (messages, cuts) => {
          const stream = Buffer.concat(messages.map((m) => encodeFrame(m)));
          const d = new FrameDecoder();
          const out: Uint8Array[] = [];
          let at = 0;
          for (let i = 0; at < stream.length; i++) {
            const n = cuts[i % cuts.length] as number;
            out.push(...d.push(new Uint8Array(stream.subarray(at, at + n))));
            at += n;
          }
          expect(out.map(toHex)).toEqual(messages.map(toHex));
          expect(d.pending).toBe(0);
        },
      ),
    );
  });

  it('an oversized frame is refused from its 4-byte header, before its body is buffered', () => {
    const d = new FrameDecoder();
    const header = new Uint8Array(4);
    new DataView(header.buffer).setUint32(0, MAX_FRAME_BYTES + 1);
    expect(codeOf(() => d.push(header))).toBe('ERR_FRAME_TOO_LARGE');
    expect(codeOf(() => new FrameDecoder().push(new Uint8Array(4)))).toBe('ERR_MALFORMED_MESSAGE'); // empty frame
    expect(codeOf(() => encodeFrame(new Uint8Array(MAX_FRAME_BYTES + 1)))).toBe(
      'ERR_FRAME_TOO_LARGE',
    );
  });

  it('a maximal frame passes', () => {
    const d = new FrameDecoder();
    const frames = d.push(encodeFrame(new Uint8Array(MAX_FRAME_BYTES)));
    expect(frames[0]?.length).toBe(MAX_FRAME_BYTES);
  });
});
