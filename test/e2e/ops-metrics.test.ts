/**
 * The operations listener of a real `postroom serve`: /metrics scraped before, during and after a
 * short load of IMAP and POP3 clients moves the counters and histograms the load must move;
 * /healthz answers; /readyz fails while the store's folder is made read-only and recovers after.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import net from 'node:net';
import { UserFile } from '../../src/auth/user-file.js';
import { WireClient } from '../../bench/load/wire-client.js';
import { RawClient } from '../helpers/raw-client.js';
import { LmtpClient } from '../../src/lmtp/client.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';

const FAST = { scrypt: { log2N: 10, r: 8, p: 1 } };

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

/** The samples of an exposition text: `name{labels}` → value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

const value = (s: Map<string, number>, key: string): number => s.get(key) ?? 0;

function message(i: number): Buffer {
  return Buffer.from(`From: load@example.org\r\nTo: ann@example.org\r\nSubject: load ${i}\r\nMessage-ID: <load-${i}@example.org>\r\n\r\n${'body line\r\n'.repeat(20)}`);
}

async function imapLoad(port: number, user: string, password: string, rounds: number, offset: number): Promise<void> {
  const { client } = await WireClient.connect('127.0.0.1', port);
  try {
    assert.equal((await client.command(`LOGIN ${user} ${password}`)).status, 'OK');
    assert.equal((await client.command('SELECT INBOX')).status, 'OK');
    for (let i = 0; i < rounds; i++) {
      assert.equal((await client.append('INBOX', '', message(offset + i))).status, 'OK');
      assert.equal((await client.command('UID FETCH 1:* (FLAGS RFC822.SIZE)')).status, 'OK');
      assert.equal((await client.command('NOOP')).status, 'OK');
    }
    assert.equal((await client.command('FOO')).status, 'BAD');
    await client.command('LOGOUT');
  } finally {
    client.close();
  }
}

/** The tests run as root, who may write anywhere: the server runs as nobody so that modes matter. */
function serverUser(data: string): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const chownTree = (path: string): void => {
    chownSync(path, 65534, 65534);
    if (statSync(path).isDirectory()) for (const name of readdirSync(path)) chownTree(join(path, name));
  };
  chownTree(data);
  chownSync(join(data, '..'), 65534, 65534);
  return { uid: 65534, gid: 65534 };
}

test('serve --metrics-port: counters and histograms move under load; /healthz; /readyz fails while the store is read-only', { timeout: 120_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'postroom-metrics-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const data = join(work, 'data');
  const users = UserFile.inDataDir(data, FAST);
  await users.add('ann', 'pw-ann');
  await users.add('bob', 'pw-bob');
  const as = serverUser(data);
  const s: ServeProcess = await startServe(
    ['--data', data, '--ephemeral-ports', '--metrics-port', 'auto', '--allow-insecure-auth', '--log-level', 'warn'],
    as,
  );
  t.after(() => s.stop());
  const { metricsPort, imapPort, imapsPort, pop3Port } = s.listening;
  assert.equal(typeof metricsPort, 'number');
  const port = metricsPort!;

  assert.deepEqual(await get(port, '/healthz'), { status: 200, body: 'ok\n' });
  const ready = await get(port, '/readyz');
  assert.equal(ready.status, 200, ready.body);
  assert.deepEqual(JSON.parse(ready.body), { status: 'ready', checks: { store: 'ok', listeners: 'ok' } });

  const before = samples((await get(port, '/metrics')).body);
  assert.equal(value(before, 'postroom_build_info{version="0.1.0"}'), 1);

  // A session that stays selected while the load runs, for the sessions gauge.
  const { client: watcher } = await WireClient.connect('127.0.0.1', imapPort!);
  t.after(() => watcher.close());
  assert.equal((await watcher.command('LOGIN bob pw-bob')).status, 'OK');
  assert.equal((await watcher.command('SELECT INBOX')).status, 'OK');

  const load = Promise.all([imapLoad(imapPort!, 'ann', 'pw-ann', 15, 0), imapLoad(imapPort!, 'ann', 'pw-ann', 15, 100), imapLoad(imapPort!, 'bob', 'pw-bob', 15, 200)]);
  // Scraped while the load runs: the gauge sees the sessions.
  const during = samples((await get(port, '/metrics')).body);
  assert.ok(value(during, 'postroom_sessions{protocol="imap",state="selected"}') >= 1, 'selected sessions during the load');
  await load;

  // Failed logins (the guard delays them), POP3, implicit TLS, and a failed handshake.
  const bad = new RawClient(imapPort!);
  await bad.expect(/^\* OK/);
  for (let i = 0; i < 2; i++) {
    bad.send(`f${i} LOGIN ann wrong${i}\r\n`);
    await bad.expect(new RegExp(`^f${i} NO \\[AUTHENTICATIONFAILED\\]`));
  }
  bad.destroy();
  const pop = new RawClient(pop3Port!);
  await pop.expect(/^\+OK/);
  pop.send('USER ann\r\nPASS pw-ann\r\nSTAT\r\nQUIT\r\n');
  await pop.expect(/^\+OK Bye|^\+OK .*left/);
  pop.destroy();
  await new Promise<void>((resolve, reject) => {
    const c = tls.connect({ host: '127.0.0.1', port: imapsPort!, rejectUnauthorized: false }, () => {
      c.end();
      resolve();
    });
    c.on('error', reject);
  });
  await new Promise<void>((resolve) => {
    const c = net.connect(imapsPort!, '127.0.0.1', () => c.end('this is not a TLS client hello\r\n\r\n'));
    c.on('close', () => resolve());
    c.on('error', () => undefined);
  });

  // Delivery over LMTP (the private socket of postroom deliver): one recipient stored, one unknown.
  const lmtp = await LmtpClient.connect({ path: s.listening.deliverSocket! });
  const sent = await lmtp.send('sender@example.org', [{ address: 'ann@localhost' }, { address: 'nobody@localhost' }], Buffer.from('Subject: metrics\r\n\r\nhi\r\n'));
  await lmtp.quit();
  assert.deepEqual(sent.rcpt.map((r) => r.code), [250, 550]);

  const after = samples((await get(port, '/metrics')).body);
  const grew = (key: string, atLeast = 1): void => {
    const d = value(after, key) - value(before, key);
    assert.ok(d >= atLeast, `${key} grew by ${d}, expected at least ${atLeast}`);
  };
  grew('postroom_connections_total{protocol="imap"}', 5);
  grew('postroom_connections_total{protocol="pop3"}', 1);
  grew('postroom_commands_total{protocol="imap",command="APPEND",result="ok"}', 45);
  grew('postroom_commands_total{protocol="imap",command="UID FETCH",result="ok"}', 45);
  grew('postroom_commands_total{protocol="imap",command="NOOP",result="ok"}', 45);
  grew('postroom_commands_total{protocol="imap",command="unknown",result="bad"}', 3);
  grew('postroom_commands_total{protocol="imap",command="LOGIN",result="no"}', 2);
  grew('postroom_commands_total{protocol="pop3",command="STAT",result="ok"}', 1);
  grew('postroom_command_duration_seconds_count{protocol="imap",command="APPEND"}', 45);
  grew('postroom_command_duration_seconds_bucket{protocol="imap",command="APPEND",le="+Inf"}', 45);
  assert.ok(value(after, 'postroom_command_duration_seconds_sum{protocol="imap",command="APPEND"}') > 0, 'APPEND latency sum');
  grew('postroom_logins_total{protocol="imap",mechanism="LOGIN",result="success"}', 4);
  grew('postroom_logins_total{protocol="imap",mechanism="LOGIN",result="failure"}', 2);
  grew('postroom_logins_total{protocol="pop3",mechanism="USER",result="success"}', 1);
  grew('postroom_login_guard_delay_seconds_count', 2);
  grew('postroom_received_bytes_total{protocol="imap"}', 45 * 300);
  grew('postroom_sent_bytes_total{protocol="imap"}', 1000);
  grew('postroom_received_bytes_total{protocol="pop3"}', 10);
  grew('postroom_tls_handshakes_total{protocol="imap",kind="implicit",result="ok"}', 1);
  grew('postroom_tls_handshakes_total{protocol="imap",kind="implicit",result="failed"}', 1);
  grew('postroom_store_operation_duration_seconds_count{operation="append"}', 45);
  grew('postroom_connections_total{protocol="lmtp"}', 1);
  grew('postroom_deliveries_total{result="delivered"}', 1);
  grew('postroom_delivery_duration_seconds_count', 1);
  grew('postroom_store_operation_duration_seconds_count{operation="open"}', 4);
  // Each of a client's 15 APPENDs waits for a sync of its own; the three clients' share syncs (group
  // commit), and flag changes wait for none (docs/sqlite.md), so 15 is what is certain.
  grew('postroom_sqlite_wal_sync_seconds_count', 15);
  assert.ok(value(after, 'process_resident_memory_bytes') > 0, 'process metrics are there');

  // Read-only: the folder where large bodies start and the database file lose their write bits.
  // (As root the server would not care, which is why it runs as nobody here.)
  const tmp = join(data, 'tmp');
  chmodSync(tmp, 0o500);
  chmodSync(join(data, 'mail.sqlite'), 0o400);
  try {
    const failing = await get(port, '/readyz');
    assert.equal(failing.status, 503, failing.body);
    const body = JSON.parse(failing.body) as { status: string; checks: Record<string, string> };
    assert.equal(body.status, 'not ready');
    assert.match(body.checks['store']!, /tmp does not take writes \(EACCES\)/);
    assert.equal(body.checks['listeners'], 'ok');
    assert.equal((await get(port, '/healthz')).status, 200, 'alive all the same');
  } finally {
    chmodSync(tmp, 0o700);
    chmodSync(join(data, 'mail.sqlite'), 0o600);
  }
  assert.equal((await get(port, '/readyz')).status, 200, 'ready again');
  assert.equal((await get(port, '/nothing')).status, 404);
  assert.equal(await s.stop(), 0);
});
