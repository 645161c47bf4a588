/**
 * One command measured on a stall server (stall-server.ts): the longest event-loop stretch while it
 * ran, beside a bystander's NOOP round trips, printed as one `#` line, and bounded. Shared by the
 * issue-13 tests that bound a command's longest stretch (big-writes-slices, sort-thread-slices).
 */
import assert from 'node:assert/strict';
import type { RawClient } from './raw-client.js';
import { NoopProbe } from './latency.js';
import type { StallServer } from './stall-server.js';
import type { LoopStall } from './loop-stall.js';

/**
 * Sends `command` (tag `t`) on `client`, waits for OK, then `settle` (work the command leaves
 * running after its OK, measured too), and asserts the longest stretch beside GC pauses stayed
 * under `boundCpuMs` of CPU. `bystander`: another logged-in session, NOOPing all along.
 */
export async function measuredCommand(
  server: StallServer,
  client: RawClient,
  bystander: RawClient,
  command: string,
  boundCpuMs: number,
  settle?: () => Promise<void>,
): Promise<LoopStall> {
  const probe = new NoopProbe(bystander, 5);
  await server.meter();
  const started = Date.now();
  client.send(`t ${command}\r\n`);
  assert.match(await client.expect(/^t /, 120_000), /^t OK/);
  await settle?.();
  const stall = await server.stop();
  const latency = await probe.stop();
  console.log(
    `# ${command}: ${Date.now() - started} ms; longest stall ${stall.maxCpuMs.toFixed(0)} ms CPU (${stall.maxWallMs.toFixed(0)} ms wall), ${stall.maxCpuBesideGcMs.toFixed(0)} beside GC pauses (longest ${stall.maxGcMs.toFixed(0)} ms); ` +
      `bystander NOOP max ${latency.max.toFixed(0)} ms over ${latency.samples.length}` +
      // Where the longest stretch lies on the profile's clock (POSTROOM_STALL_PROFILE, scripts/stall-window.mjs).
      (stall.longestAtUs ? `; longest at ${stall.longestAtUs.from.toFixed(0)}-${stall.longestAtUs.to.toFixed(0)} µs` : ''),
  );
  assert.ok(stall.maxCpuBesideGcMs < boundCpuMs, `${command} held the event loop for ${stall.maxCpuBesideGcMs.toFixed(0)} ms of CPU beside GC pauses`);
  return stall;
}
