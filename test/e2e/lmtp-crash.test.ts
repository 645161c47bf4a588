/**
 * kill -9 of `postroom serve` during a storm of LMTP deliveries from 10 connections. After a
 * restart, every recipient that was told 250 has the message exactly once; a message nobody was
 * told about may be there or not, but never twice.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { ImapFlow } from 'imapflow';
import { LmtpClient, LmtpClientError } from '../../src/lmtp/client.js';
import { postroom } from '../helpers/cli.js';
import { startServe } from '../helpers/serve-process.js';

const USERS = ['ann', 'bob', 'carol'];
const PASSWORD = 'crash-pw';
const CONNECTIONS = 10;

const work = mkdtempSync(join(tmpdir(), 'postroom-lmtp-crash-'));
after(() => rmSync(work, { recursive: true, force: true }));

it('kill -9 during 10 connections of deliveries: every 250 is there exactly once after a restart', async () => {
  const data = join(work, 'data');
  for (const user of USERS) assert.equal((await postroom(['user', 'add', user, '--password-stdin', '--data', data], PASSWORD)).code, 0);
  const args = ['--data', data, '--store', 'sqlite', '--ephemeral-ports', '--pop3-port', 'off', '--pop3s-port', 'off', '--imaps-port', 'off', '--allow-insecure-auth', '--lmtp-port', 'auto'];
  const first = await startServe(args);
  const port = first.listening.lmtpPort!;

  /** Subjects each user was told 250 about, and every subject sent to them. */
  const acked = new Map(USERS.map((u) => [u, new Set<string>()]));
  const sent = new Map(USERS.map((u) => [u, new Set<string>()]));
  let total = 0;
  let stop = false;

  const storm = async (n: number): Promise<void> => {
    const client = await LmtpClient.connect({ host: '127.0.0.1', port }, { timeoutMs: 20_000 });
    try {
      for (let i = 0; !stop; i++) {
        // 1 to 3 recipients; every tenth message is large enough to go through a temporary file and a blob file.
        const to = USERS.filter((_, u) => (i + n + u) % 3 !== 0 || u === n % 3);
        const subject = `storm ${n}-${i}`;
        const body = i % 10 === 0 ? `${'0123456789abcdef'.repeat(20_000)}\r\n` : `message ${i}\r\n`;
        for (const u of to) sent.get(u)!.add(subject);
        const result = await client.send('storm@example.org', to.map((u) => ({ address: `${u}@example.org` })), Buffer.from(`Subject: ${subject}\r\n\r\n${body}`));
        result.delivery.forEach((reply, k) => {
          if (reply?.code === 250) {
            acked.get(to[k]!)!.add(subject);
            total++;
          }
        });
      }
    } catch (err) {
      if (!(err instanceof LmtpClientError)) throw err; // the server died under us: expected
    } finally {
      client.destroy();
    }
  };
  const storms = Array.from({ length: CONNECTIONS }, (_, n) => storm(n));
  // Kill once a good number of deliveries were acknowledged (or after 20 s on a very busy machine).
  const deadline = Date.now() + 20_000;
  while (total < 300 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  first.child.kill('SIGKILL');
  await first.exited;
  stop = true;
  await Promise.all(storms);
  assert.ok(total > 0, 'some deliveries were acknowledged before the kill');

  const second = await startServe(args);
  try {
    for (const user of USERS) {
      const client = new ImapFlow({ host: '127.0.0.1', port: second.listening.imapPort!, secure: false, auth: { user, pass: PASSWORD }, logger: false, tls: { rejectUnauthorized: false } });
      await client.connect();
      const counts = new Map<string, number>();
      const lock = await client.getMailboxLock('INBOX');
      try {
        for await (const m of client.fetch('1:*', { envelope: true })) {
          const subject = m.envelope?.subject ?? '';
          counts.set(subject, (counts.get(subject) ?? 0) + 1);
        }
      } finally {
        lock.release();
        await client.logout();
      }
      for (const subject of acked.get(user)!) assert.equal(counts.get(subject), 1, `${user} was told 250 for "${subject}"`);
      for (const [subject, n] of counts) {
        assert.ok(sent.get(user)!.has(subject), `${user} has "${subject}", which was never sent to them`);
        assert.equal(n, 1, `${user} has "${subject}" ${n} times`);
      }
    }
  } finally {
    await second.stop();
  }
});
