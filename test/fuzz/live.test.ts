/**
 * The CI-sized live fuzz run: 100,000 generated and corrupted commands against a real server.
 * Longer runs: `npm run fuzz` (see package.json).
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { runLiveFuzz } from './live.js';

it('100,000 fuzzed commands: no crash, no unhandled rejection, no leak, bounded memory, still serving', async () => {
  const r = await runLiveFuzz({ commands: 100_000, seed: 20_261_122 });
  console.log(`# live fuzz: ${JSON.stringify(r)}`);
  assert.equal(r.commandsSent, 100_000);
  assert.deepEqual(r.unhandled, []);
  assert.deepEqual(r.leaks, []);
  assert.ok(r.stillServing, 'the server answers a fresh client afterwards');
  assert.ok(r.answered.ok > 10_000 && r.answered.bad > 10_000, `answers ${JSON.stringify(r.answered)}`);
  assert.ok(r.rssGrowthBytes < 256 * 1024 * 1024, `rss grew by ${r.rssGrowthBytes} bytes`);
  assert.ok(r.elapsedMs < 45_000, `took ${r.elapsedMs} ms`);
});
