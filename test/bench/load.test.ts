/** The load generator's own checks: a wrong answer must be caught, a right one accepted. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchMessage, verifyEnvelope, verifyWholeMessage } from '../../bench/load/messages.js';
import { checkBody, checkStore, CheckError } from '../../bench/load/checks.js';
import { Recorder, merge, percentile } from '../../bench/load/stats.js';
import type { Completion } from '../../bench/load/wire-client.js';

test('bench messages are deterministic, varied and verify themselves', () => {
  assert.deepEqual(benchMessage(5, 'x'), benchMessage(5, 'x'));
  const sizes = Array.from({ length: 200 }, (_, i) => benchMessage(i, 'x').length);
  assert.ok(Math.min(...sizes) < 10_000 && Math.max(...sizes) > 20_000, 'small and large messages');
  const m = benchMessage(42, 'seeded');
  assert.equal(verifyWholeMessage(m), null);
  const flipped = Buffer.from(m);
  flipped[flipped.length - 3] ^= 1;
  assert.match(verifyWholeMessage(flipped) ?? '', /checksum/);
  assert.match(verifyWholeMessage(m.subarray(0, m.length - 1)) ?? '', /length/);
});

test('an envelope must name a bench Message-ID whose subject matches', () => {
  const id = /<42\.\d{8}\.[0-9a-f]{8}@bench\.example>/.exec(benchMessage(42, 'seeded').toString())![0];
  assert.equal(verifyEnvelope(`ENVELOPE ("date" "seeded 42 a b c" NIL NIL NIL NIL NIL NIL NIL "${id}")`), null);
  assert.notEqual(verifyEnvelope(`ENVELOPE ("date" "seeded 43 a b c" NIL NIL NIL NIL NIL NIL NIL "${id}")`), null);
});

const completion = (untagged: string[], literals: Buffer[] = []): Completion => ({
  untagged: untagged.map((text) => ({ text, literals })),
  tagged: 'a1 OK done',
  status: 'OK',
});

test('FETCH BODY[] and STORE answers are checked', () => {
  const m = benchMessage(7, 'x');
  assert.equal(checkBody(completion(['* 3 FETCH (UID 9 BODY[] {#0})'], [m]), 9), true);
  assert.throws(() => checkBody(completion(['* 3 FETCH (UID 9 BODY[] {#0})'], [m.subarray(1)]), 9), CheckError);
  assert.equal(checkBody(completion([]), 9), false, 'an expunged message is not an error');
  assert.doesNotThrow(() => checkStore(completion(['* 1 FETCH (UID 4 FLAGS (\\Flagged))']), 4, '\\Flagged', true));
  assert.throws(() => checkStore(completion(['* 1 FETCH (UID 4 FLAGS (\\Seen))']), 4, '\\Flagged', true), CheckError);
  assert.throws(() => checkStore({ ...completion([]), status: 'NO', tagged: 'a1 NO x' }, 4, '\\Flagged', true), CheckError);
});

test('percentiles come from the merged histograms within 2 %', () => {
  const a = new Recorder();
  const b = new Recorder();
  for (let i = 1; i <= 1000; i++) (i % 2 ? a : b).ok('NOOP', i / 10);
  const all = merge([a.table, b.table])['NOOP']!;
  assert.equal(all.ok, 1000);
  assert.ok(Math.abs(percentile(all, 0.5) - 50) / 50 < 0.021, `p50 ${percentile(all, 0.5)}`);
  assert.ok(Math.abs(percentile(all, 0.99) - 99) / 99 < 0.021, `p99 ${percentile(all, 0.99)}`);
});

test('persistent clients log in once and keep their connection for round after round, over TLS too', async () => {
  const { startPostroom } = await import('../../bench/servers/postroom.js');
  const { runLoad } = await import('../../bench/load/run-load.js');
  const { BENCH_TMP, PASSWORD, mixedUsers } = await import('../../bench/servers/common.js');
  const { testCertificateFiles } = await import('../helpers/certs.js');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'postroom-load-'));
  const tls = await testCertificateFiles(dir);
  const spec = mixedUsers(2, 30);
  const server = await startPostroom({ runDir: join(BENCH_TMP, 'run', 'load-test-persistent'), spec, maxConnections: 50, tls });
  try {
    assert.ok(server.tlsPort, 'the bench server has an implicit-TLS port');
    for (const overTls of [false, true]) {
      const result = await runLoad({
        host: '127.0.0.1',
        port: overTls ? server.tlsPort! : server.port,
        ...(overTls ? { tls: true } : {}),
        users: Object.keys(spec.users),
        password: PASSWORD,
        clients: 2,
        seconds: 2,
        workers: 1,
        scenario: 'busy',
        persistent: true,
        seed: 1,
        connectConcurrency: 2,
      });
      const count = (name: string): number => result.table[name]?.ok ?? 0;
      const errors = Object.values(result.table).reduce((n, s) => n + s.errors, 0);
      assert.equal(errors, 0, JSON.stringify(Object.entries(result.table).filter(([, s]) => s.errors > 0)));
      assert.equal(count('CONNECT'), 2, 'one connection per client for the whole run');
      assert.equal(count('LOGIN'), 2);
      assert.ok(count('SELECT') > 2, `rounds repeat on the same connection (SELECT ×${count('SELECT')})`);
      assert.equal(count('IDLE'), 0, 'the busy mix sends no IDLE');
      assert.equal(count('LOGOUT'), 2, 'LOGOUT once, when the run ends');
    }
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
