/**
 * The longest stretch the event loop was held, measured two ways: wall time between two ticks of a
 * 1 ms timer, and the main thread's CPU time between them. On a loaded machine the wall figure also
 * counts the time the process was not scheduled at all; the CPU figure counts only work the loop
 * did, so a test can bound it without depending on how busy the machine is. On Linux it is the
 * main thread's own time (/proc/self/task/<pid>/schedstat, in nanoseconds; stat's 10 ms clock
 * ticks where schedstat is missing), so the WAL sync
 * thread and the garbage collector's helper threads are not in it; elsewhere the whole process's
 * (process.cpuUsage).
 */
import { readFileSync } from 'node:fs';
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

export interface LoopStall {
  maxWallMs: number;
  maxCpuMs: number;
  /**
   * The longest stretch's CPU time with the garbage collector's pauses taken out, where that can
   * be done without hiding code: per stretch, the smaller of its CPU time and its wall time less
   * the pauses within it (so an upper bound of the time code ran). That is what a bound on "no
   * command holds the loop" is about: a major GC of the heap a large maildrop fills is one pause
   * of about 15 ms on a quiet machine and 50-170 ms under a load of 15 on 2 cores (--trace-gc),
   * on whichever command it lands; it is reported beside (maxGcMs). On an idle machine, where a
   * stretch's wall time is its CPU time, this is the stretch less its pauses.
   */
  maxCpuBesideGcMs: number;
  /** The longest garbage-collection pause while metered (PerformanceObserver 'gc' entries). */
  maxGcMs: number;
  /**
   * Where the stretch of maxCpuMs lies on the monotonic clock (process.hrtime, in µs): the clock of
   * a --cpu-prof profile's timestamps, so its samples in that window say what the stretch ran.
   */
  longestAtUs?: { from: number; to: number };
}

const statPath = `/proc/self/task/${process.pid}/stat`;
const schedstatPath = `/proc/self/task/${process.pid}/schedstat`;
/** USER_HZ: 100 on every Linux Node runs on. */
const TICK_MS = 10;
/**
 * How stale schedstat's figure can be: the kernel brings a running thread's sum up to date at its
 * scheduler tick (CONFIG_HZ 250 or more: 4 ms) and when it leaves the CPU.
 */
const SCHED_TICK_MS = 4;

/**
 * The main thread's CPU time: schedstat's first field (nanoseconds on the CPU, what the scheduler
 * charged it) where the kernel has it; else stat's utime + stime, in 10 ms ticks that sample
 * whatever was running at each tick, so one stretch could read 10 ms more or less than it ran.
 */
function mainThreadCpu(): { read: () => number; tickMs: number } | undefined {
  try {
    const ns = (): number => Number(readFileSync(schedstatPath, 'latin1').split(' ')[0]) / 1e6;
    if (Number.isFinite(ns()) && ns() > 0) return { read: ns, tickMs: SCHED_TICK_MS };
  } catch {
    // no schedstat (CONFIG_SCHED_INFO off): the stat ticks
  }
  if (mainThreadCpuMs() === undefined) return undefined;
  return { read: () => mainThreadCpuMs()!, tickMs: TICK_MS };
}

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

/** A stretch long enough to look at again once the GC entries are in. */
interface Stretch {
  from: number;
  to: number;
  cpuMs: number;
}

export function meterLoopStalls(): { stop(): LoopStall } {
  const thread = mainThreadCpu();
  const cpuMs = thread?.read ?? processCpuMs;
  const tickMs = thread?.tickMs ?? TICK_MS;
  let maxWallMs = 0;
  let maxCpuMs = 0;
  // The longest few stretches by CPU: one of them is the longest once GC pauses are taken out.
  const longest: Stretch[] = [];
  const gcs: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  let wall = performance.now();
  let cpu = cpuMs();
  const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);
  let mono = nowUs();
  let longestAtUs: { from: number; to: number } | undefined;
  const timer = setInterval(() => {
    const nowWall = performance.now();
    const nowCpu = cpuMs();
    maxWallMs = Math.max(maxWallMs, nowWall - wall);
    // One thread cannot run longer than the time that passed (plus the clock's tick): a reading
    // above that is not this stretch's work (seen on a shared VM: 100 ms of CPU within 7 ms).
    const stretchCpu = Math.min(nowCpu - cpu, nowWall - wall + tickMs);
    const nowMono = nowUs();
    if (stretchCpu > maxCpuMs) longestAtUs = { from: mono, to: nowMono };
    maxCpuMs = Math.max(maxCpuMs, stretchCpu);
    mono = nowMono;
    if (stretchCpu >= 1) {
      longest.push({ from: wall, to: nowWall, cpuMs: stretchCpu });
      if (longest.length > 64) {
        longest.sort((a, b) => b.cpuMs - a.cpuMs);
        longest.length = 32;
      }
    }
    wall = nowWall;
    cpu = nowCpu;
  }, 1);
  return {
    stop() {
      clearInterval(timer);
      // Entries not yet delivered to the callback are still in the observer's buffer.
      gcs.push(...observer.takeRecords());
      observer.disconnect();
      let maxCpuBesideGcMs = 0;
      for (const s of longest) {
        // An upper bound of the CPU the code took, never less: the code's CPU is at most the
        // stretch's CPU, and at most its wall time outside the pauses inside it (a pause's
        // duration is wall time; under load it is longer than the CPU the pause took, so it is
        // not subtracted from the CPU figure — that could hide code that ran beside it).
        const paused = gcs.filter((g) => g.startTime >= s.from && g.startTime + g.duration <= s.to).reduce((n, g) => n + g.duration, 0);
        maxCpuBesideGcMs = Math.max(maxCpuBesideGcMs, Math.min(s.cpuMs, s.to - s.from - paused + tickMs));
      }
      const maxGcMs = gcs.reduce((n, g) => Math.max(n, g.duration), 0);
      return { maxWallMs, maxCpuMs, maxCpuBesideGcMs, maxGcMs, longestAtUs };
    },
  };
}
