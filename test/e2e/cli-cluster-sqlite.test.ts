/**
 * `postroom serve --workers 2` on SQLite: the primary owns the data folder and answers the workers'
 * store calls (RemoteStore over the cluster IPC channel); change events reach IDLE sessions in every
 * worker, hibernated ones too — from an APPEND in a worker and from LMTP delivery in the primary.
 * With `--sqlite-workers own-store` each worker opens the folder itself and the same must hold (the
 * changes cross through the primary: src/cli/feed-relay.ts), and a second server on the folder is
 * refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserFile } from '../../src/auth/user-file.js';
import { WireClient } from '../../bench/load/wire-client.js';
import { processTree } from '../../bench/servers/memory.js';
import { startServe } from '../helpers/serve.js';
import { postroom } from '../helpers/cli.js';
import { LmtpClient } from '../../src/lmtp/client.js';

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(what)), ms))]);

for (const mode of ['forward', 'own-store'] as const) {
test(`serve --workers 2 --sqlite-workers ${mode}: IDLE (awake and hibernated) hears APPEND and LMTP from any process`, { timeout: 150_000 }, async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'postroom-cluster-sqlite-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const data = join(work, 'data');
  await UserFile.inDataDir(data, { scrypt: { log2N: 10, r: 8, p: 1 } }).add('alice', 'pw-alice');
  // Sessions hibernate after 1 s of IDLE: half the checks below run against parked sessions.
  const config = join(work, 'serve.json');
  await writeFile(config, JSON.stringify({ imapLimits: { idleHibernateSeconds: 1 } }));
  const s = await startServe([
    '--config', config, '--workers', '2', '--sqlite-workers', mode, '--store', 'sqlite', '--data', data, '--ephemeral-ports', '--lmtp-port', 'auto', '--allow-insecure-auth', '--log-level', 'error',
  ]);
  t.after(() => s.stop());
  assert.equal(s.listening.workers, 2);
  assert.ok(processTree(s.listening.pid).length >= 3, 'a primary and two worker processes');

  const clients: WireClient[] = [];
  t.after(() => clients.forEach((c) => c.close()));
  const idle = async (): Promise<WireClient> => {
    const { client } = await WireClient.connect('127.0.0.1', s.listening.imapPort!);
    clients.push(client);
    const login = await client.command('LOGIN alice pw-alice');
    assert.equal(login.status, 'OK', login.tagged);
    const select = await client.command('SELECT INBOX');
    assert.equal(select.status, 'OK', select.tagged);
    client.write('i1 IDLE\r\n');
    assert.match((await client.next()).text, /^\+/);
    return client;
  };
  const hear = (c: WireClient, line: string): Promise<void> =>
    new Promise((resolve) => {
      c.onUntagged = (r) => r.text === line && resolve();
    });
  const idlers = await Promise.all(Array.from({ length: 8 }, idle));

  // An APPEND through a worker: every session, on either worker, hears it.
  const { client: writer } = await WireClient.connect('127.0.0.1', s.listening.imapPort!);
  clients.push(writer);
  assert.equal((await writer.command('LOGIN alice pw-alice')).status, 'OK');
  const first = idlers.map((c) => hear(c, '* 1 EXISTS'));
  assert.match((await writer.append('INBOX', '', Buffer.from('From: a@example.com\r\nSubject: one\r\n\r\nbody\r\n'))).tagged, /OK \[APPENDUID \d+ 1\]/);
  await within(Promise.all(first), 10_000, 'IDLE sessions not told of the APPEND');

  // Parked now (1 s with nothing to report, and the sweep of who's list says so).
  await new Promise((r) => setTimeout(r, 2_500));
  const who = await postroom(['who', '--data', data, '--json']);
  const listed = who.stdout.trim().split('\n').map((l) => JSON.parse(l) as { user?: string; worker?: number; state: string });
  assert.ok(listed.filter((x) => x.state === 'hibernated').length >= 8, who.stdout);
  assert.ok(new Set(listed.map((x) => x.worker)).size >= 1);

  // LMTP delivery runs in the primary, on the one store: the parked sessions in the workers wake.
  const second = idlers.map((c) => hear(c, '* 2 EXISTS'));
  const lmtp = await LmtpClient.connect({ host: '127.0.0.1', port: s.listening.lmtpPort! });
  const r = await lmtp.send('x@remote.test', [{ address: 'alice@mx.test' }], Buffer.from('From: x@remote.test\r\nSubject: two\r\n\r\nbody\r\n'));
  assert.equal(r.delivery[0]?.code, 250, JSON.stringify(r));
  await lmtp.quit();
  await within(Promise.all(second), 10_000, 'hibernated IDLE sessions not told of the delivery');

  // A store error crosses as the same NO [code]; the body comes back byte for byte.
  const missing = await writer.command('SELECT Nowhere');
  assert.equal(missing.status, 'NO');
  assert.match(missing.tagged, /\[NONEXISTENT\]/);
  await writer.command('SELECT INBOX');
  const fetched = await writer.command('UID FETCH 2 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
  assert.ok(fetched.untagged.some((u) => u.literals.some((l) => l.toString().includes('Subject: two'))), JSON.stringify(fetched.untagged.map((u) => u.text)));

  if (mode === 'own-store') {
    // Each worker opened the folder; a second server on it is refused (DATA/serve.lock, or the
    // running server's delivery socket answering).
    const again = await postroom(['serve', '--workers', '2', '--sqlite-workers', 'own-store', '--store', 'sqlite', '--data', data, '--ephemeral-ports', '--log-level', 'error']);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr + again.stdout, /in use/);
    // A message written by one worker's session is read whole by sessions of the other.
    const readers = await Promise.all(Array.from({ length: 6 }, async () => {
      const { client } = await WireClient.connect('127.0.0.1', s.listening.imapPort!);
      clients.push(client);
      assert.equal((await client.command('LOGIN alice pw-alice')).status, 'OK');
      assert.equal((await client.command('SELECT INBOX')).status, 'OK');
      return client;
    }));
    for (const c of readers) {
      const f = await c.command('UID FETCH 1:2 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
      assert.equal(f.status, 'OK', f.tagged);
      assert.equal(f.untagged.filter((u) => /FETCH/.test(u.text)).length, 2);
    }
  }

  for (const c of clients) c.close();
  assert.equal(await s.stop(), 0);
});
}
