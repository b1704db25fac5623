#!/usr/bin/env node
// The `commons-sync` command that npm links into node_modules/.bin (`npx commons-sync`).
// npm links a workspace's bin when it installs, before anything is built, and skips a bin
// whose file does not exist yet; this small file is committed, so the link is always made. It
// starts the built CLI, or says how to build it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write(
    'commons-sync is not built yet: run `npm run build` (or `npm start`, `npm test`) at the root of the repository.\n',
  );
  process.exit(1);
}
await import(cli.href);
