/**
 * A node's service with its network part attached: what the HTTP API serves when the node has
 * peers. Everything is the node's (its identities included), except `peers()` and the per-peer series appended to
 * `metrics()`; closing it closes the network first (a GOODBYE to every peer), then the node.
 */
import type { NodeService } from '../service.js';
import type { NodeNetwork } from './node-network.js';

export function serviceWithNetwork(service: NodeService, network: NodeNetwork): NodeService {
  const consistency = service.consistencyProof?.bind(service);
  return {
    did: service.did,
    ingest: (batch) => service.ingest(batch),
    getEvent: (id) => service.getEvent(id),
    checkpoint: () => service.checkpoint(),
    auditProof: (id) => service.auditProof(id),
    ...(consistency === undefined ? {} : { consistencyProof: consistency }),
    // the node's governance: records, state, explain (spec/GOVERNANCE.md)
    ...(service.governance === undefined ? {} : { governance: service.governance }),
    health: () => service.health(),
    // the node's identities: their key events travel with the rest (spec/SYNC.md §6.5)
    ...(service.identities === undefined ? {} : { identities: service.identities }),
    metrics: () => `${service.metrics()}${network.metrics()}`,
    peers: () => network.peers(),
    close: async () => {
      try {
        await network.close();
      } finally {
        await service.close();
      }
    },
  };
}
