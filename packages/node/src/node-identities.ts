/**
 * The node's {@link IdentityService}: key events in (JSON texts from the API, CBOR from peers),
 * identities and their key event logs out. A thin shell over the pipeline's identity stage;
 * `CommonsNode` owns it and counts its work with the rest of the node's.
 */
import type { Core } from '@commons-sync/bindings';

import {
  decodeKeyEvent,
  identityStateToJson,
  isIdentifier,
  type KeyEventJson,
  keyEventToJson,
  readKeyEventJson,
} from './identity/index.js';
import type { IdentityStage } from './pipeline/identity-stage.js';
import { ingestKeyEvents } from './pipeline/key-events.js';
import { batchSize, type EventTextBatch } from './protocol/index.js';
import type { IdentityJson, IdentityService, KeyEventResult } from './service.js';
import type { Store } from './storage/index.js';

export interface NodeIdentitiesOptions {
  readonly core: Core;
  readonly store: Store;
  readonly stage: IdentityStage;
  /** Unix milliseconds. */
  readonly now: () => number;
  readonly skewSeconds: number;
  /** Runs the work counted as the node's (overload, in-flight work awaited at close). */
  readonly admit: <T>(count: number, work: () => Promise<T>) => Promise<T>;
  /** Called after key events were judged (what reads identity states may turn). */
  readonly afterKeyEvents?: () => Promise<void> | void;
  /** Called with the canonical CBOR of the key events of each commit that attached some. */
  readonly onAttached?: (encoded: readonly Uint8Array[]) => void;
}

export class NodeIdentities implements IdentityService {
  constructor(private readonly opts: NodeIdentitiesOptions) {}

  ingestKeyEvents(batch: EventTextBatch): Promise<KeyEventResult[]> {
    return this.opts.admit(batchSize(batch), async () => {
      const { core } = this.opts;
      const inputs =
        batch.framingError === undefined
          ? Array.from({ length: batchSize(batch) }, (_, i) =>
              readKeyEventJson(
                core,
                batch.bytes,
                batch.spans[2 * i] as number,
                batch.spans[2 * i + 1] as number,
              ),
            )
          : Array.from({ length: batchSize(batch) }, () => ({
              ok: false as const,
              reason: 'ERR_MALFORMED' as const,
              detail: batch.framingError as string,
            }));
      return this.joined(await ingestKeyEvents(this.opts, inputs));
    });
  }

  private async joined(results: KeyEventResult[]): Promise<KeyEventResult[]> {
    if (results.some((r) => r.status === 'accepted')) await this.opts.afterKeyEvents?.();
    return results;
  }

  ingestKeyEventsCbor(items: readonly Uint8Array[]): Promise<KeyEventResult[]> {
    return this.opts.admit(items.length, async () =>
      this.joined(
        await ingestKeyEvents(
          this.opts,
          items.map((bytes) => decodeKeyEvent(this.opts.core, bytes)),
        ),
      ),
    );
  }

  identity(did: string): IdentityJson | undefined {
    if (!isIdentifier(did)) return undefined;
    const state = this.opts.stage.state(did);
    if (state === undefined) return undefined;
    const counts = this.opts.store.identity.counts(did);
    return {
      state: identityStateToJson(state),
      key_events: state.size,
      events: { stored: counts.events, invalidated: counts.invalidated },
    };
  }

  keyEventLog(did: string): { cbor: Uint8Array; json: KeyEventJson }[] | undefined {
    if (!isIdentifier(did)) return undefined;
    return this.opts.stage
      .keyEventLog(did)
      ?.map((e) => ({ cbor: e.encoded, json: keyEventToJson(e.event) }));
  }
}
