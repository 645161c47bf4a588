/**
 * The LMTP server over real sockets: a client that vanishes mid-DATA leaves nothing behind, IDLE
 * sessions hear deliveries, the TCP listener is open only to allowed addresses, the connection
 * limit, UNIX sockets (mode, a stale socket replaced, a live one refused), the DATA deadline and a
 * clean close.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ImapFlow } from 'imapflow';
import { StaticAuthenticator } from '../../src/auth/static-users.js';
import { LmtpClient } from '../../src/lmtp/client.js';
import { createLmtpServer } from '../../src/lmtp/server.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { startImapServer } from '../helpers/imap-server.js';
import { startLmtpServer, storedMessages } from '../helpers/lmtp-server.js';
import { RawClient, sleep, until } from '../helpers/raw-client.js';

const work = mkdtempSync(join(tmpdir(), 'postroom-lmtp-e2e-'));
after(() => rmSync(work, { recursive: true, force: true }));
let dirs = 0;
const newDir = (): string => mkdtempSync(join(work, `d${dirs++}-`));

async function greeted(c: RawClient): Promise<void> {
  await c.expect(/^220 /);
  c.send('LHLO mta.test\r\n');
  await c.expect(/^250 SIZE/);
}

describe('LMTP server', () => {
  it('a client that disconnects in the middle of DATA: nothing is stored, and the next client is served', async () => {
    const store = await SqliteStore.open({ directory: newDir() });
    // A small spool threshold, so the half message is in a temporary file when the client goes.
    const lmtp = await startLmtpServer({ store, limits: { spoolMemoryBytes: 1024 }, spoolDirectory: newDir() });
    try {
      const c = new RawClient(lmtp.port);
      await greeted(c);
      c.send('MAIL FROM:<s@example.org>\r\nRCPT TO:<ann@example.org>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n');
      await c.expect(/^354 /);
      c.send(`Subject: cut\r\n\r\n${'x'.repeat(5000)}\r\n`);
      await sleep(100);
      c.destroy();
      await sleep(200);
      const next = await LmtpClient.connect({ host: '127.0.0.1', port: lmtp.port });
      const result = await next.send('s@example.org', [{ address: 'bob@example.org' }], Buffer.from('Subject: whole\r\n\r\nx\r\n'));
      await next.quit();
      assert.equal(result.delivery[0]?.code, 250);
      assert.equal((await storedMessages(store, 'ann')).length, 0);
      assert.deepEqual(
        (await storedMessages(store, 'bob')).map((m) => m.toString().split('\r\n')[2]),
        ['Subject: whole'],
      );
    } finally {
      await lmtp.close();
      await store.close();
    }
  });

  for (const hibernate of [false, true]) {
    it(`an IDLE session${hibernate ? ' (hibernated)' : ''} hears an LMTP delivery as it hears an APPEND`, async () => {
      const store = await SqliteStore.open({ directory: newDir() });
      const imap = await startImapServer({ store, auth: new StaticAuthenticator({ ann: 'secret' }), limits: { idleHibernateSeconds: hibernate ? 1 : 0 } });
      const lmtp = await startLmtpServer({ store });
      const client = new ImapFlow({ host: '127.0.0.1', port: imap.port, secure: false, auth: { user: 'ann', pass: 'secret' }, logger: false, doSTARTTLS: false });
      try {
        await client.connect();
        await client.mailboxOpen('INBOX');
        const heard = new Promise<number>((resolve) => client.on('exists', (e: { count: number }) => resolve(e.count)));
        const idling = client.idle();
        // Hibernation starts after idleHibernateSeconds with nothing to report (plain-text sessions only).
        const hibernated = (): number => imap.server.connections().filter((c) => c.hibernated).length;
        // Hibernated: waited for (a fixed 2 s left 1 s of margin on a loaded machine); not: still awake after 200 ms.
        if (hibernate) await until('the session hibernates', () => hibernated() === 1);
        else await sleep(200);
        assert.equal(hibernated(), hibernate ? 1 : 0, 'hibernated sessions');
        const mta = await LmtpClient.connect({ host: '127.0.0.1', port: lmtp.port });
        const result = await mta.send('s@example.org', [{ address: 'ann@example.org' }], Buffer.from('Subject: news\r\n\r\nhello\r\n'));
        await mta.quit();
        assert.equal(result.delivery[0]?.code, 250);
        assert.equal(await Promise.race([heard, sleep(10_000).then(() => -1)]), 1, 'IDLE reported EXISTS 1');
        void idling;
        const fetched = await client.fetchOne('1', { source: true });
        assert.equal(fetched && fetched.source?.toString(), 'Return-Path: <s@example.org>\r\nDelivered-To: ann@example.org\r\nSubject: news\r\n\r\nhello\r\n');
      } finally {
        await client.logout().catch(() => undefined);
        await lmtp.close();
        await imap.close();
        await store.close();
      }
    });
  }

  it('TCP: only allowed addresses get a session (554 5.7.1 for others); past maxConnections 421 4.3.2', async () => {
    const lmtp = await startLmtpServer({ allowFrom: ['127.0.0.2/32'], limits: { maxConnections: 2 } });
    try {
      const stranger = new RawClient(lmtp.port);
      assert.equal(await stranger.expect(/.*/), '554 5.7.1 LMTP is not open to your address');
      await stranger.waitClosed();
      const allowed = [new RawClient(lmtp.port, { localAddress: '127.0.0.2' }), new RawClient(lmtp.port, { localAddress: '127.0.0.2' })];
      for (const c of allowed) await c.expect(/^220 /);
      const third = new RawClient(lmtp.port, { localAddress: '127.0.0.2' });
      assert.equal(await third.expect(/.*/), '421 4.3.2 Too many connections, try again later');
      await third.waitClosed();
      allowed[0]!.destroy();
      await sleep(100);
      const again = new RawClient(lmtp.port, { localAddress: '127.0.0.2' });
      await again.expect(/^220 /);
      for (const c of [...allowed, again]) c.destroy();
    } finally {
      await lmtp.close();
    }
  });

  it('UNIX sockets: mode 0660 by default, a stale socket file is replaced, a live one is refused, close removes it', async () => {
    const path = join(newDir(), 'lmtp.sock');
    // A socket file nobody listens on any more, as kill -9 leaves it.
    const dead = net.createServer();
    await new Promise<void>((resolve) => dead.listen(path, resolve));
    const handle = (dead as unknown as { _handle: { close(): void } | null })._handle;
    handle?.close(); // closes the descriptor but leaves the file, unlike server.close()
    const lmtp = await startLmtpServer({ port: null, sockets: [path] });
    try {
      assert.equal(statSync(path).mode & 0o777, 0o660);
      await assert.rejects(
        createLmtpServer({ store: lmtp.store, auth: new StaticAuthenticator({}), sockets: [path] }).listen(),
        /in use by another process/,
      );
      const client = await LmtpClient.connect({ path });
      const result = await client.send('', [{ address: 'ann@example.org' }], Buffer.from('Subject: by socket\r\n\r\n'));
      await client.quit();
      assert.equal(result.delivery[0]?.code, 250);
    } finally {
      await lmtp.close();
    }
    assert.throws(() => statSync(path), /ENOENT/);
  });

  it('DATA that trickles in past dataSeconds is cut off, and nothing is stored', async () => {
    const lmtp = await startLmtpServer({ limits: { dataSeconds: 1 } });
    try {
      const c = new RawClient(lmtp.port);
      await greeted(c);
      c.send('MAIL FROM:<s@example.org>\r\nRCPT TO:<ann@example.org>\r\nDATA\r\n');
      await c.expect(/^354 /);
      // One byte every 200 ms keeps the idle timer happy, but not the DATA deadline.
      for (let i = 0; i < 25 && !c.closed; i++) {
        c.send('x');
        await sleep(200);
      }
      assert.ok(c.closed, 'the connection was closed');
      assert.equal((await storedMessages(lmtp.store, 'ann')).length, 0);
    } finally {
      await lmtp.close();
    }
  });

  it('the filter step over the wire: reject 550 5.7.1, a temporary reject 450 4.7.1, discard 250, fileinto', async () => {
    const store = new MemoryStore();
    await (await store.open('carol')).create('Sorted');
    const lmtp = await startLmtpServer({
      store,
      filter: ({ recipient }) =>
        recipient.user === 'ann'
          ? [{ kind: 'reject', reason: 'Not wanted here' }]
          : recipient.user === 'bob'
            ? [{ kind: 'reject', reason: 'Greylisted', temporary: true }]
            : recipient.user === 'carol'
              ? [{ kind: 'fileinto', mailbox: 'Sorted', flags: ['\\Flagged'] }]
              : [{ kind: 'discard' }],
    });
    try {
      const client = await LmtpClient.connect({ host: '127.0.0.1', port: lmtp.port });
      const result = await client.send('s@example.org', ['ann', 'bob', 'carol', 'full'].map((u) => ({ address: `${u}@example.org` })), Buffer.from('Subject: f\r\n\r\n'));
      await client.quit();
      assert.deepEqual(
        result.delivery.map((r) => `${r?.code} ${r?.enhanced} ${r?.text}`),
        ['550 5.7.1 Not wanted here', '450 4.7.1 Greylisted', '250 2.0.0 <carol@example.org> Saved', '250 2.0.0 <full@example.org> Discarded by a filter'],
      );
      assert.equal((await storedMessages(store, 'carol', 'Sorted')).length, 1);
      assert.equal((await storedMessages(store, 'ann')).length + (await storedMessages(store, 'full')).length, 0);
    } finally {
      await lmtp.close();
    }
  });

  it('close(): an idle session is told 421, a message being stored is still answered 250', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const store = new MemoryStore();
    const lmtp = await startLmtpServer({
      store,
      filter: async () => {
        await gate;
        return [{ kind: 'keep' }];
      },
    });
    const idle = new RawClient(lmtp.port);
    await greeted(idle);
    const busy = await LmtpClient.connect({ host: '127.0.0.1', port: lmtp.port });
    const sending = busy.send('s@example.org', [{ address: 'ann@example.org' }], Buffer.from('Subject: in flight\r\n\r\n'));
    await sleep(200);
    const closing = lmtp.close();
    assert.match(await idle.expect(/.*/), /^421 4\.3\.2 /);
    release();
    const result = await sending;
    assert.equal(result.delivery[0]?.code, 250);
    await closing;
    await busy.reply().then(
      (r) => assert.match(`${r.code} ${r.enhanced} ${r.text}`, /^421 4\.3\.2 /),
      () => undefined, // or the connection is already gone
    );
    assert.equal((await storedMessages(store, 'ann')).length, 1);
    busy.destroy();
  });
});
