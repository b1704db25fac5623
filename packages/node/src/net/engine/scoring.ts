/**
 * Peer scores and the bounded record of what a peer did wrong (spec/SYNC.md §8). Pure: time is
 * passed in. A score starts at 0, drops by a penalty per offence and recovers linearly toward 0;
 * below the graylist threshold the peer is rate-limited, at the disconnect threshold it is cut
 * and banned. The record keeps, per offence, a count, first and last time and a few samples,
 * so a hostile peer cannot make it (or the audit log it feeds) grow without bound.
 */
import type { Offence, ScoreConfig } from './config.js';

export const SAMPLES_PER_OFFENCE = 4;
const SAMPLE_DETAIL_CHARS = 200;

export interface OffenceRecord {
  count: number;
  firstMs: number;
  lastMs: number;
  /** The first few, each an event id (hex) or a short description. */
  readonly samples: string[];
}

export type ScoreState = 'ok' | 'graylisted' | 'banned';

export class PeerScore {
  private value = 0;
  private lastMs: number;
  private bannedUntil = -1;
  readonly offences = new Map<Offence, OffenceRecord>();

  constructor(
    private readonly config: ScoreConfig,
    nowMs: number,
  ) {
    this.lastMs = nowMs;
  }

  /** The score at `nowMs` (recovering since the last change). */
  score(nowMs: number): number {
    this.advance(nowMs);
    return this.value;
  }

  state(nowMs: number): ScoreState {
    this.advance(nowMs);
    if (nowMs < this.bannedUntil) return 'banned';
    return this.value < this.config.graylist ? 'graylisted' : 'ok';
  }

  bannedUntilMs(): number {
    return this.bannedUntil;
  }

  /**
   * Records an offence; returns true when it takes the score to the disconnect threshold (the
   * peer is then banned until `nowMs + banMs`).
   */
  penalize(offence: Offence, nowMs: number, sample: string, times = 1): boolean {
    this.advance(nowMs);
    const rec = this.offences.get(offence) ?? {
      count: 0,
      firstMs: nowMs,
      lastMs: nowMs,
      samples: [],
    };
    rec.count += times;
    rec.lastMs = nowMs;
    if (rec.samples.length < SAMPLES_PER_OFFENCE)
      rec.samples.push(sample.slice(0, SAMPLE_DETAIL_CHARS));
    this.offences.set(offence, rec);
    this.value -= this.config.penalties[offence] * times;
    if (this.value <= this.config.disconnect) {
      this.bannedUntil = nowMs + this.config.banMs;
      this.value = Math.max(this.value, -1e12); // an infinite penalty still recovers after the ban
      return true;
    }
    return false;
  }

  /** A plain-data summary for the audit log and `peers`. */
  summary(nowMs: number): {
    score: number;
    state: ScoreState;
    offences: Record<string, OffenceRecord>;
  } {
    const offences: Record<string, OffenceRecord> = {};
    for (const [k, v] of this.offences) offences[k] = { ...v, samples: [...v.samples] };
    return { score: Math.round(this.score(nowMs)), state: this.state(nowMs), offences };
  }

  private advance(nowMs: number): void {
    if (nowMs > this.lastMs && this.value < 0) {
      this.value = Math.min(
        0,
        this.value + ((nowMs - this.lastMs) / 1000) * this.config.recoveryPerSecond,
      );
    }
    if (nowMs > this.lastMs) this.lastMs = nowMs;
  }
}

/** A token bucket: `take` is false when the rate is exceeded. Pure (time passed in). */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.lastMs = nowMs;
  }

  take(nowMs: number, divisor = 1, n = 1): boolean {
    if (nowMs > this.lastMs) {
      this.tokens = Math.min(
        this.burst / divisor,
        this.tokens + ((nowMs - this.lastMs) / 1000) * (this.perSecond / divisor),
      );
      this.lastMs = nowMs;
    }
    this.tokens = Math.min(this.tokens, this.burst / divisor);
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }
}

/** A set of string keys that forgets the oldest beyond `capacity`. */
export class BoundedSet {
  private readonly keys = new Set<string>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.keys.size;
  }

  has(key: string): boolean {
    return this.keys.has(key);
  }

  add(key: string): void {
    if (this.keys.has(key)) return;
    this.keys.add(key);
    if (this.keys.size > this.capacity) {
      const oldest = this.keys.values().next();
      if (!oldest.done) this.keys.delete(oldest.value);
    }
  }

  delete(key: string): void {
    this.keys.delete(key);
  }
}
