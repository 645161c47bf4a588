/**
 * The CI-sized live fuzz run: 120,000 generated and corrupted commands (100,000 IMAP, 20,000
 * POP3) against a real server process, with the hostile shapes alongside and a bystander's NOOPs
 * timed throughout. Longer runs: `npm run fuzz` (1,000,000 commands, see package.json).
 *
 * The NOOP bound holds for what the server made the bystander wait: each round trip less the time
 * the server's and the bystander's threads were runnable but had no CPU (probe.mjs). On a shared 2-core
 * machine the raw round trips also carry other processes' load; they get a loose bound of their own.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { NOOP_P99_MS, runLiveFuzz } from './live.js';

it('120,000 fuzzed IMAP and POP3 commands and hostile shapes: no crash, no leak, bounded memory, NOOP p99 under 100 ms', async () => {
  const r = await runLiveFuzz({ commands: 120_000, pop3Share: 1 / 6, seed: 20_261_122 });
  console.log(`# live fuzz: ${JSON.stringify({ ...r, shapeFailures: r.shapeFailures.slice(0, 3) })}`);
  assert.equal(r.commandsSent, 100_000);
  assert.equal(r.pop3CommandsSent, 20_000);
  assert.deepEqual(r.unhandled, []);
  assert.deepEqual(r.leaks, []);
  assert.deepEqual(r.shapeFailures, []);
  for (const shape of ['manyLiterals', 'preauthFlood', 'deepCriteria', 'brackets', 'pop3Flood']) {
    assert.ok((r.shapes[shape] ?? 0) >= 1, `shape ${shape} ran ${r.shapes[shape] ?? 0} times`);
  }
  assert.ok(r.stillServing, 'the server answers a fresh client afterwards');
  assert.ok(r.answered.ok > 10_000 && r.answered.bad > 10_000, `answers ${JSON.stringify(r.answered)}`);
  assert.ok(r.pop3Answered.ok > 2_000 && r.pop3Answered.err > 2_000, `POP3 answers ${JSON.stringify(r.pop3Answered)}`);
  assert.ok(r.rssGrowthBytes < 256 * 1024 * 1024, `the server's RSS grew by ${r.rssGrowthBytes} bytes`);
  assert.ok(r.noop.count >= 50, `only ${r.noop.count} bystander NOOPs`);
  assert.ok(r.noop.p99 < NOOP_P99_MS, `bystander NOOP p99 ${r.noop.p99.toFixed(1)} ms (max ${r.noop.max.toFixed(0)} ms)`);
  assert.ok(r.noop.wallP99 < 20 * NOOP_P99_MS, `bystander NOOP p99 as seen ${r.noop.wallP99.toFixed(1)} ms`);
  assert.ok(r.elapsedMs < 120_000, `took ${r.elapsedMs} ms`);
});
