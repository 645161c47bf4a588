/**
 * The longest stretch the event loop was held, measured two ways: wall time between two ticks of a
 * 1 ms timer, and the process's CPU time between them. On a loaded machine the wall figure also
 * counts the time the process was not scheduled at all; the CPU figure counts only work done, so
 * a test can bound it tightly without depending on how busy the machine is. (Other threads' CPU —
 * the WAL sync thread, GC helpers — is in it too, a little.)
 */
export interface LoopStall {
  maxWallMs: number;
  maxCpuMs: number;
}

export function meterLoopStalls(): { stop(): LoopStall } {
  let maxWallMs = 0;
  let maxCpuMs = 0;
  let wall = performance.now();
  let cpu = process.cpuUsage();
  const timer = setInterval(() => {
    const nowWall = performance.now();
    const used = process.cpuUsage(cpu);
    maxWallMs = Math.max(maxWallMs, nowWall - wall);
    maxCpuMs = Math.max(maxCpuMs, (used.user + used.system) / 1000);
    wall = nowWall;
    cpu = process.cpuUsage();
  }, 1);
  return {
    stop() {
      clearInterval(timer);
      return { maxWallMs, maxCpuMs };
    },
  };
}
