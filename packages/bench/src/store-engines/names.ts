/** The engines the store-engines bench compares, and what each one's commit guarantees. */
export const ENGINES = [
  'sqlite',
  'lmdb-sync',
  'lmdb-async',
  'lmdb-sync-part',
  'lmdb-async-part',
  'none',
] as const;
export type EngineName = (typeof ENGINES)[number];

/** What each engine promises when its commit returns (the report prints it). */
export const GUARANTEES: Readonly<Record<EngineName, string>> = {
  sqlite:
    'the node Store: WAL, synchronous=FULL; Store.commit returns after COMMIT fsynced the WAL, on the calling thread',
  'lmdb-sync':
    'lmdb-js open({ overlappingSync: false }), transactionSync: mdb_txn_commit fsyncs data and meta page before it returns, on the calling thread',
  'lmdb-async':
    "lmdb-js defaults (overlappingSync: true): the batch's puts queued in one event turn = one transaction on lmdb-js's write thread; the commit resolves after db.flushed (fsynced)",
  'lmdb-sync-part':
    'as lmdb-sync, the id and replay keys prefixed by their partition (seq >> 16) as the node partitions its indexes, the node replay filter in memory in front of the replay keys',
  'lmdb-async-part': 'as lmdb-async, with the partitioned keys of lmdb-sync-part',
  none: "nothing stored: the commit's hashing and row building only (encoded hashes, row digests, replay keys, accept entries, leaves, chain, tree nodes), the part of every engine's commit that is not storage",
};
