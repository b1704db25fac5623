/**
 * A bench interrupted (Ctrl-C, or SIGTERM from a CI job) while it has node processes running and
 * stores on disk: `cleanup` stops the nodes and removes the stores, then the process exits 130
 * (SIGINT) or 143 (SIGTERM). Without it the bench dies by the signal and its node processes,
 * which are not children that die with their parent, keep running.
 */
const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

/** Installs the handlers; the function returned removes them (call it in `finally`). */
export function onInterrupt(
  what: string,
  cleanup: () => Promise<void> | void,
  note: (message: string) => void,
): () => void {
  const handler = (signal: keyof typeof EXIT_CODES): void => {
    note(`${signal}: stopping ${what}`);
    void (async () => {
      try {
        await cleanup();
      } finally {
        process.exit(EXIT_CODES[signal]);
      }
    })();
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
