/**
 * Issue 13, item 4: a burst of logins must not delay another session's commits. Password hashing
 * (scrypt, default cost) and the WAL's fdatasync once shared libuv's four-thread pool: 24 parallel
 * logins pushed a STORE's acknowledgement from ~3 ms to over a second. A real `postroom serve` on
 * the SQLite store; one session times STOREs before and during waves of parallel logins.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RawClient, run } from '../helpers/raw-client.js';
import { runPostroom, startServe } from '../helpers/serve.js';
import { tempDirs } from '../helpers/temp-dirs.js';

/** Sessions logging in and out in a loop, each as soon as its last LOGOUT was answered. */
const LOGIN_LOOPS = 24;
/** How long the logins go on. */
const BURST_MS = 6_000;

/** Sends a command and waits (up to a minute: the defect took seconds) for its tagged reply. */
async function command(c: RawClient, tag: string, text: string): Promise<string> {
  c.send(`${tag} ${text}\r\n`);
  return c.expect(new RegExp(`^${tag} `), 60_000);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

async function timedStores(c: RawClient, count: number, stopWhen?: () => boolean): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count && !(stopWhen?.() ?? false); i++) {
    const started = performance.now();
    const reply = await command(c, `S${i}`, `STORE 1 ${i % 2 === 0 ? '+' : '-'}FLAGS.SILENT (\\Flagged)`);
    times.push(performance.now() - started);
    assert.match(reply, /^S\d+ OK/);
  }
  return times;
}

const BIG = `From: a@example.com\r\nSubject: big\r\n\r\n${'x'.repeat(998)}\r\n`.repeat(1000);

async function timedAppends(c: RawClient, count: number, stopWhen?: () => boolean): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count && !(stopWhen?.() ?? false); i++) {
    const started = performance.now();
    const reply = await command(c, `P${i}`, `APPEND INBOX {${BIG.length}+}\r\n${BIG}`);
    times.push(performance.now() - started);
    assert.match(reply, /^P\d+ OK/);
  }
  return times;
}

async function loginOnce(port: number): Promise<void> {
  const c = new RawClient(port);
  try {
    await c.expect(/^\* OK/, 30_000);
    c.send('L LOGIN bob secret\r\n');
    await c.expect(/^L OK/, 60_000);
    c.send('Q LOGOUT\r\n');
    await c.expect(/^Q OK/, 30_000);
  } finally {
    c.destroy();
  }
}

test('STORE and APPEND acknowledgements keep their pace while 24 sessions keep logging in (scrypt at the default cost)', async (t) => {
  const data = tempDirs('postroom-burst-')();
  for (const user of ['alice', 'bob']) {
    const added = await runPostroom(['user', 'add', user, '--password-stdin', '--data', data], { input: 'secret\n' });
    assert.equal(added.code, 0, added.stderr);
  }
  const server = await startServe(['--data', data, '--ephemeral-ports', '--imaps-port', 'off', '--pop3-port', 'off', '--pop3s-port', 'off', '--allow-insecure-auth', '--log-level', 'warn']);
  t.after(() => server.stop());
  const port = server.listening.imapPort!;

  const a = new RawClient(port);
  t.after(() => a.destroy());
  await a.login();
  const message = 'From: a@example.com\r\nSubject: x\r\n\r\nhello\r\n';
  assert.match((await run(a, 'A', `APPEND INBOX {${message.length}+}\r\n${message}`)).at(-1)!, /^A OK/);
  assert.match((await run(a, 'B', 'SELECT INBOX')).at(-1)!, /^B OK/);

  const big = new RawClient(port);
  t.after(() => big.destroy());
  await big.login();

  const quiet = (await timedStores(a, 40)).sort((x, y) => x - y);
  const quietAppends = (await timedAppends(big, 5)).sort((x, y) => x - y);

  let logins = 0;
  const deadline = Date.now() + BURST_MS;
  const burst = Promise.all(
    Array.from({ length: LOGIN_LOOPS }, async () => {
      while (Date.now() < deadline) {
        await loginOnce(port);
        logins++;
      }
    }),
  );
  // Timed while every loop is still logging in (not in the tail, when the last ones finish).
  await new Promise((r) => setTimeout(r, 200));
  const stopTiming = (): boolean => Date.now() > deadline - 500;
  const [stores, appends] = await Promise.all([timedStores(a, 10_000, stopTiming), timedAppends(big, 10_000, stopTiming)]);
  const loaded = stores.sort((x, y) => x - y);
  const loadedAppends = appends.sort((x, y) => x - y);
  await burst;

  const figures = {
    quiet: { n: quiet.length, p50: percentile(quiet, 50), max: quiet.at(-1) },
    duringLogins: { logins, n: loaded.length, p50: percentile(loaded, 50), p90: percentile(loaded, 90), max: loaded.at(-1) },
    appendQuiet: { n: quietAppends.length, p50: percentile(quietAppends, 50), max: quietAppends.at(-1) },
    appendDuringLogins: { n: loadedAppends.length, p50: percentile(loadedAppends, 50), max: loadedAppends.at(-1) },
  };
  t.diagnostic(`STORE / 1 MB APPEND ack ms: ${JSON.stringify(figures, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v))}`);
  // Before the fix the median was over a second (every sync queued behind the hashes on the
  // shared pool). Generous: a loaded 2-core machine may still slow a STORE down, never to that.
  assert.ok(figures.duringLogins.p50 < 250, `median STORE ack during the login burst: ${figures.duringLogins.p50.toFixed(0)} ms`);
  assert.ok(figures.duringLogins.p90 < 600, `90th percentile STORE ack during the login burst: ${figures.duringLogins.p90.toFixed(0)} ms`);
  assert.ok(loaded.length >= 3, `only ${loaded.length} STOREs completed during the logins`);
  // Before: 7.5 s, each piece of the body waiting for a pool thread behind the queued hashes.
  assert.ok(figures.appendDuringLogins.p50 < 1_500, `median 1 MB APPEND ack during the login burst: ${figures.appendDuringLogins.p50.toFixed(0)} ms`);
});
