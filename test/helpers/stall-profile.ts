/**
 * What a measured stretch ran: with POSTROOM_STALL_PROFILE=<dir> in its environment, the stall
 * server's child (stall-server-child.ts) records a V8 CPU profile from meter() to stop() and writes
 * it to <dir>/stall-<pid>-<n>.cpuprofile (node:inspector, since --cpu-prof is refused in
 * NODE_OPTIONS). The meter's longestAtUs is on the profile's clock: scripts/stall-window.mjs
 * sums the samples in that window by function. Off unless asked: the profiler's sampling costs CPU
 * the bounds would count.
 */
import { Session } from 'node:inspector/promises';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

let count = 0;

export async function startProfile(): Promise<{ stop(): Promise<void> } | undefined> {
  const dir = process.env.POSTROOM_STALL_PROFILE;
  if (!dir) return undefined;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, `stall-${process.pid}-${++count}.cpuprofile`), JSON.stringify(profile));
    },
  };
}
