/**
 * The longest stretch the event loop was held, measured two ways: wall time between two ticks of a
 * 1 ms timer, and the main thread's CPU time between them. On a loaded machine the wall figure also
 * counts the time the process was not scheduled at all; the CPU figure counts only work the loop
 * did, so a test can bound it without depending on how busy the machine is. On Linux it is the
 * main thread's own time (/proc/self/task/<pid>/stat, in clock ticks of 10 ms), so the WAL sync
 * thread and the garbage collector's helper threads are not in it; elsewhere the whole process's
 * (process.cpuUsage).
 */
import { readFileSync } from 'node:fs';

export interface LoopStall {
  maxWallMs: number;
  maxCpuMs: number;
}

const statPath = `/proc/self/task/${process.pid}/stat`;
/** USER_HZ: 100 on every Linux Node runs on. */
const TICK_MS = 10;

function mainThreadCpuMs(): number | undefined {
  try {
    const stat = readFileSync(statPath, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat(5) (utime, stime) are 12 and 13 after the command name and state.
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export function meterLoopStalls(): { stop(): LoopStall } {
  const cpuMs = mainThreadCpuMs() !== undefined ? (): number => mainThreadCpuMs()! : processCpuMs;
  let maxWallMs = 0;
  let maxCpuMs = 0;
  let wall = performance.now();
  let cpu = cpuMs();
  const timer = setInterval(() => {
    const nowWall = performance.now();
    const nowCpu = cpuMs();
    maxWallMs = Math.max(maxWallMs, nowWall - wall);
    // One thread cannot run longer than the time that passed (plus the clock's tick): a reading
    // above that is not this stretch's work (seen on a shared VM: 100 ms of CPU within 7 ms).
    maxCpuMs = Math.max(maxCpuMs, Math.min(nowCpu - cpu, nowWall - wall + TICK_MS));
    wall = nowWall;
    cpu = nowCpu;
  }, 1);
  return {
    stop() {
      clearInterval(timer);
      return { maxWallMs, maxCpuMs };
    },
  };
}
