/**
 * The wire form of a signature batch between the pipeline and the verify workers: one
 * ArrayBuffer holding [public keys | signatures | message bytes | offsets], so a batch crosses
 * the thread boundary as a single transfer.
 */
import type { PackedSignatureBatch } from '@commons-sync/bindings';

export interface VerifyTask {
  buffer: ArrayBuffer;
  count: number;
  messageBytes: number;
}

/** Lays out `count` items; `messageBytes` is the total message length. */
export class TaskBuilder {
  readonly task: VerifyTask;
  private readonly keys: Uint8Array;
  private readonly sigs: Uint8Array;
  private readonly data: Uint8Array;
  private readonly offsets: Uint32Array;
  private n = 0;
  private at = 0;

  constructor(count: number, messageBytes: number) {
    // offsets first (4-byte aligned), then keys, signatures and message bytes
    const offsetsBytes = 4 * (count + 1);
    const buffer = new ArrayBuffer(offsetsBytes + 96 * count + messageBytes);
    this.offsets = new Uint32Array(buffer, 0, count + 1);
    this.keys = new Uint8Array(buffer, offsetsBytes, 32 * count);
    this.sigs = new Uint8Array(buffer, offsetsBytes + 32 * count, 64 * count);
    this.data = new Uint8Array(buffer, offsetsBytes + 96 * count, messageBytes);
    this.task = { buffer, count, messageBytes };
  }

  add(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): void {
    this.keys.set(publicKey, 32 * this.n);
    this.sigs.set(signature, 64 * this.n);
    this.data.set(message, this.at);
    this.at += message.length;
    this.n += 1;
    this.offsets[this.n] = this.at;
  }
}

export function unpackTask({ buffer, count, messageBytes }: VerifyTask): PackedSignatureBatch {
  const offsetsBytes = 4 * (count + 1);
  return {
    publicKeys: new Uint8Array(buffer, offsetsBytes, 32 * count),
    signatures: new Uint8Array(buffer, offsetsBytes + 32 * count, 64 * count),
    messages: {
      data: new Uint8Array(buffer, offsetsBytes + 96 * count, messageBytes),
      offsets: new Uint32Array(buffer, 0, count + 1),
    },
  };
}
