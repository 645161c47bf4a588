/** `postroom serve --workers 2`: shared listeners, the store in the primary, IDLE hears changes from any worker. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { UserFile } from '../../src/auth/user-file.js';
import { WireClient } from '../../bench/load/wire-client.js';
import { processTree } from '../../bench/servers/memory.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

test('serve --workers 2 serves IMAP from worker processes and forwards IDLE notifications', { timeout: 90_000 }, async (t) => {
  const data = await mkdtemp(join(tmpdir(), 'postroom-cluster-'));
  t.after(() => rm(data, { recursive: true, force: true }));
  await UserFile.inDataDir(data, { scrypt: { log2N: 10, r: 8, p: 1 } }).add('alice', 'pw-alice');

  const child = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, 'serve', '--workers', '2', '--data', data, '--store', 'sqlite', '--imap-port', 'auto', '--imaps-port', 'off',
      '--pop3-port', 'off', '--pop3s-port', 'off', '--allow-insecure-auth', '--log-level', 'error'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const listening = await new Promise<{ imapPort: number; workers: number; pid: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no listening line')), 30_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const m = JSON.parse(line) as { msg?: string; imapPort: number; workers: number; pid: number };
      if (m.msg === 'listening') (clearTimeout(timer), resolve(m));
    });
  });
  assert.equal(listening.workers, 2);
  assert.ok(processTree(listening.pid).length >= 3, 'a primary and two worker processes');

  const clients: WireClient[] = [];
  t.after(() => clients.forEach((c) => c.close()));
  const heard: Promise<void>[] = [];
  for (let i = 0; i < 8; i++) {
    const { client, greeting } = await WireClient.connect('127.0.0.1', listening.imapPort);
    clients.push(client);
    assert.match(greeting.text, /^\* OK/);
    assert.equal((await client.command('LOGIN alice pw-alice')).status, 'OK');
    assert.equal((await client.command('SELECT INBOX')).status, 'OK');
    client.write('i1 IDLE\r\n');
    assert.match((await client.next()).text, /^\+/);
    heard.push(
      new Promise((resolve) => {
        client.onUntagged = (r) => r.text === '* 1 EXISTS' && resolve();
      }),
    );
  }
  const { client: writer } = await WireClient.connect('127.0.0.1', listening.imapPort);
  clients.push(writer);
  await writer.command('LOGIN alice pw-alice');
  const msg = Buffer.from('From: a@example.com\r\nSubject: hello\r\n\r\nbody\r\n');
  const appended = await writer.append('INBOX', '', msg);
  assert.match(appended.tagged, /OK \[APPENDUID \d+ 1\]/);
  // Eight sessions over two workers: every one must hear the new message, whichever worker it is on.
  await Promise.race([Promise.all(heard), new Promise((_, reject) => setTimeout(() => reject(new Error('IDLE sessions not notified')), 10_000))]);

  // A store error crosses the process boundary as the same NO [code].
  const missing = await writer.command('SELECT Nowhere');
  assert.equal(missing.status, 'NO');
  assert.match(missing.tagged, /\[NONEXISTENT\]/);
  const fetched = await writer.command('SELECT INBOX').then(() => writer.command('UID FETCH 1 (BODY.PEEK[])'));
  assert.ok(fetched.untagged.some((r) => r.literals.some((l) => l.equals(msg))), 'the body comes back byte for byte');

  for (const c of clients) c.close();
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});
