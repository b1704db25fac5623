/** `commons-sync rotate-key`: rotate the node's own key (spec/AUDIT.md §5.4). */
import {
  BIN,
  type Command,
  cliSecrets,
  EXIT_OK,
  KEYSTORE_HELP,
  parseCommandLine,
  parseKeystoreFlag,
  required,
  writeLine,
} from './common.js';

export const rotateKeyCommand: Command = {
  name: 'rotate-key',
  summary: "rotate the node's own key (a stopped node)",
  usage: `Usage: ${BIN} rotate-key --data DIR [--keystore SPEC]

Gives the node of DIR a new key, for a planned rotation or after a compromise. Stop the node
first. The audit log records the handover in one entry signed by both keys over the log's size
and root, and the next checkpoints are signed by the new key; \`audit verify\` follows the
rotation. Prints the node's new DID. Peers that admit the node by its identity must admit the
new DID. The old key is left where it was: retire it (delete the file, destroy the token
object) as your policy says.

Options:
  --data DIR        the data directory (required)
  --keystore SPEC   make the new key in this keystore (default: a new vault file
                    DIR/node-N.key under the same passphrase)
  -h, --help        show this help

${KEYSTORE_HELP}`,
  async run(argv, io) {
    const { values } = parseCommandLine('rotate-key', {
      args: argv,
      options: {
        data: { type: 'string' },
        keystore: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    const dir = required('rotate-key', '--data', values.data);
    const keystore =
      values.keystore === undefined
        ? undefined
        : parseKeystoreFlag('rotate-key', '--keystore', values.keystore);
    const { rotateNodeKey } = await import('../node-key-rotation.js');
    const r = await rotateNodeKey({
      dataDir: dir,
      secrets: cliSecrets(io),
      ...(keystore === undefined ? {} : { keystore }),
    });
    io.log.info('node key rotated', { ...r });
    writeLine(
      io.stderr,
      `node key rotated: ${r.from} -> ${r.to} (audit entry ${r.entry}, checkpoint ${r.checkpoint})`,
    );
    writeLine(io.stdout, r.to);
    return EXIT_OK;
  },
};
