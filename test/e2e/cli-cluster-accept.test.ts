/**
 * `serve --workers 2 --worker-accept primary`: the primary accepts every connection and passes it
 * to the workers in turn (Node's cluster round-robin), so persistent sessions end up evenly spread —
 * with the kernel picking (`--worker-accept kernel`) one worker may get them all, and a persistent
 * session never moves (bench/RESULTS.md). The worker still does everything per connection: TLS on
 * the IMAPS port, the PROXY protocol header of a trusted proxy, the login itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserFile } from '../../src/auth/user-file.js';
import { WireClient } from '../../bench/load/wire-client.js';
import { startServe } from '../helpers/serve.js';
import { postroom } from '../helpers/cli.js';

// POSTROOM_TEST_WORKER_ACCEPT=kernel runs the same against the kernel's pick: it failed 2 of 3 runs
// (6/4, 2/8, 5/5) when this was written — the even split is the setting's doing, not luck.
const MODE = process.env.POSTROOM_TEST_WORKER_ACCEPT ?? 'primary';

/** A raw IMAP connection that starts with a PROXY v1 header, logged in; closed by the caller. */
async function proxiedLogin(port: number, source: string): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
  let text = '';
  const until = (re: RegExp): Promise<void> =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${re} in ${JSON.stringify(text)}`)), 15_000);
      const check = (): void => {
        if (re.test(text)) {
          clearTimeout(t);
          socket.off('data', onData);
          resolve();
        }
      };
      const onData = (d: Buffer): void => {
        text += d.toString('latin1');
        check();
      };
      socket.on('data', onData);
      check();
    });
  socket.on('error', () => undefined);
  socket.write(`PROXY TCP4 ${source} 127.0.0.1 35646 ${port}\r\n`);
  await until(/^\* OK .*\r\n/);
  socket.write('a1 LOGIN alice pw-alice\r\n');
  await until(/\r\na1 OK /);
  return socket;
}

test(`serve --workers 2 --worker-accept ${MODE}: 10 persistent sessions (plaintext, TLS, PROXY protocol) split 5 and 5`, { timeout: 120_000 }, async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'postroom-cluster-accept-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const data = join(work, 'data');
  await UserFile.inDataDir(data, { scrypt: { log2N: 10, r: 8, p: 1 } }).add('alice', 'pw-alice');
  const s = await startServe([
    '--workers', '2', '--worker-accept', MODE, '--store', 'sqlite', '--data', data, '--ephemeral-ports', '--allow-insecure-auth',
    '--trusted-proxy', '127.0.0.2', '--log-level', 'error',
  ]);
  t.after(() => s.stop());
  assert.equal(s.listening.workers, 2);

  const clients: WireClient[] = [];
  const raw: net.Socket[] = [];
  t.after(() => {
    clients.forEach((c) => c.close());
    raw.forEach((r) => r.destroy());
  });
  // One at a time, each logged in before the next connects, as clients that start together but
  // not in the same millisecond do.
  const login = async (port: number, tls: boolean): Promise<void> => {
    const { client } = await WireClient.connect('127.0.0.1', port, 15_000, { tls });
    clients.push(client);
    const r = await client.command('LOGIN alice pw-alice');
    assert.equal(r.status, 'OK', r.tagged);
  };
  for (let i = 0; i < 6; i++) await login(s.listening.imapPort!, false);
  for (let i = 0; i < 2; i++) await login(s.listening.imapsPort!, true);
  for (let i = 0; i < 2; i++) raw.push(await proxiedLogin(s.listening.imapPort!, `198.51.100.${20 + i}`));

  const who = await postroom(['who', '--data', data, '--json']);
  const sessions = who.stdout.trim().split('\n').map((l) => JSON.parse(l) as { user?: string; worker?: number; remoteAddress: string; secure: boolean });
  assert.equal(sessions.filter((x) => x.user === 'alice').length, 10, who.stdout);
  const perWorker = new Map<number | undefined, number>();
  for (const x of sessions) perWorker.set(x.worker, (perWorker.get(x.worker) ?? 0) + 1);
  assert.deepEqual([...perWorker.values()].sort(), [5, 5], `sessions per worker: ${JSON.stringify([...perWorker])}`);
  // TLS and the PROXY header were handled in the worker that got the connection.
  assert.equal(sessions.filter((x) => x.secure).length, 2, who.stdout);
  assert.deepEqual(sessions.map((x) => x.remoteAddress).filter((a) => a.startsWith('198.51.100.')).sort(), ['198.51.100.20', '198.51.100.21'], who.stdout);
  // The others keep their own peer address (the socket itself was passed, not a connection of the
  // primary's): what connection limits and the per-address login guard count by.
  assert.deepEqual(new Set(sessions.map((x) => x.remoteAddress).filter((a) => !a.startsWith('198.51.100.'))), new Set(['127.0.0.1']), who.stdout);
});

test('serve --worker-accept takes only kernel or primary', { timeout: 60_000 }, async () => {
  const r = await postroom(['serve', '--workers', '2', '--worker-accept', 'random', '--store', 'sqlite', '--data', '/nonexistent-postroom', '--ephemeral-ports']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /--worker-accept <who>' argument 'random' is invalid\. Allowed choices are kernel, primary\./);
});
