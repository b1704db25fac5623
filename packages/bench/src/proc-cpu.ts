/** CPU time of processes and threads from Linux /proc, for the benches' per-event figures. */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's utime and stime (USER_HZ: 100 on Linux, whatever HZ is). */
const USER_HZ = 100;

/**
 * CPU seconds (user + system) from a /proc stat file: `/proc/PID/stat` (every thread of the
 * process), `/proc/PID/task/TID/stat` or `/proc/thread-self/stat` (one thread). Ticks of 10 ms.
 */
export function statCpuSeconds(statFile: string): number {
  const text = readFileSync(statFile, 'utf8');
  // the fields after the command name, which may hold spaces and parentheses
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
}

/**
 * CPU seconds of a thread, from its /proc/PID/task/TID folder: `schedstat`'s time on a CPU
 * (nanoseconds), or, where the kernel has no schedstat, `stat`'s ticks (too coarse for the
 * quarter-second segments of the ingest bench's identity case).
 */
export function threadCpuSeconds(taskDir: string): number {
  try {
    return Number(readFileSync(`${taskDir}/schedstat`, 'utf8').split(' ')[0]) / 1e9;
  } catch {
    return statCpuSeconds(`${taskDir}/stat`);
  }
}
