/**
 * The import graph's rules (scripts/lint.sh runs them; ARCHITECTURE.md draws the layers).
 * Biome's noImportCycles sees cycles between files; this also sees cycles between folders,
 * which are layers here, and the few layer rules the architecture rests on.
 */
const { join } = require('node:path');

const NODE = '^packages/node/src/';

module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      comment: 'A module must not import itself through others (type-only imports count).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-folder-cycle',
      comment: 'Folders are layers: two folders must not import each other, however indirectly.',
      severity: 'error',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
    {
      name: 'protocol-is-a-leaf',
      comment: 'The protocol (formats and pure rules) depends on nothing else of the node.',
      severity: 'error',
      from: { path: `${NODE}protocol/` },
      to: { path: NODE, pathNot: [`${NODE}protocol/`, `${NODE}errors\\.ts$`] },
    },
    {
      name: 'audit-is-pure',
      comment:
        'audit/ holds encodings, the tree and checking; reading and writing the database is storage/.',
      severity: 'error',
      from: { path: `${NODE}audit/` },
      to: {
        path: [
          `${NODE}(storage|pipeline|pool|api|cli)/`,
          `${NODE}(node|service)\\.ts$`,
          '(^|/)node_modules/better-sqlite3/',
          '^(node:)?fs(/|$)',
        ],
      },
    },
    {
      name: 'pool-is-generic',
      comment: 'The worker pool runs any worker module; what the workers do lives with its caller.',
      severity: 'error',
      from: { path: `${NODE}pool/` },
      to: { path: NODE, pathNot: `${NODE}pool/` },
    },
    {
      name: 'sql-in-storage',
      comment: 'Only storage/ opens SQLite.',
      severity: 'error',
      from: { path: NODE, pathNot: `${NODE}storage/` },
      to: { path: '(^|/)node_modules/better-sqlite3/' },
    },
    {
      name: 'shells-on-top',
      comment: 'The HTTP API and the CLI are shells: nothing below them imports them.',
      severity: 'error',
      from: { path: NODE, pathNot: [`${NODE}(api|cli)/`, `${NODE}index\\.ts$`] },
      to: { path: `${NODE}(api|cli)/` },
    },
  ],
  options: {
    // type-only imports are edges too
    tsPreCompilationDeps: true,
    tsConfig: { fileName: join(__dirname, 'tsconfig.base.json') },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '/dist/' },
  },
};
