/**
 * One recipient and nothing that depends on the message (no filter, or one that says it will not
 * act): the LMTP server stores the message while DATA arrives (DeliveryPipeline.startLive). Over
 * real sockets on the SQLite store: the bytes stored are the ones sent (trace headers, CRLF,
 * dot-unstuffed); a client that goes, NUL and an over-size message leave nothing stored and no
 * temporary body file; the filter decides whether the message is streamed or spooled first.
 */
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { DeliveryFilter } from '../../src/delivery/types.js';
import { LmtpClient } from '../../src/lmtp/client.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { dottedBody, startLmtpServer, storedMessages } from '../helpers/lmtp-server.js';
import { tempDirs } from '../helpers/temp-dirs.js';
import { RawClient, sleep, until } from '../helpers/raw-client.js';

const newDir = tempDirs('postroom-lmtp-live-');
const body = dottedBody;

async function open(options: Parameters<typeof startLmtpServer>[0] = {}): Promise<{ dir: string; store: SqliteStore; lmtp: Awaited<ReturnType<typeof startLmtpServer>> }> {
  const dir = newDir();
  const store = await SqliteStore.open({ directory: dir });
  const lmtp = await startLmtpServer({ store, spoolDirectory: newDir(), ...options });
  return { dir, store, lmtp };
}

async function greeted(c: RawClient): Promise<void> {
  await c.expect(/^220 /);
  c.send('LHLO mta.test\r\n');
  await c.expect(/^250 SIZE/);
}

/** The store's temporary body files (tmp/): none may be left once a delivery is over. */
const temps = (dir: string): string[] => readdirSync(join(dir, 'tmp'));

describe('LMTP: one recipient stored while DATA arrives', () => {
  it('a 1 MB message is stored as sent: trace headers, CRLF line ends, dots unstuffed; no temporary file left', async () => {
    const { dir, store, lmtp } = await open();
    try {
      const text = `Subject: live\r\n\r\n${body(1024 * 1024)}`;
      const client = await LmtpClient.connect({ host: '127.0.0.1', port: lmtp.port });
      const result = await client.send('s@example.org', [{ address: 'ann@example.org' }], Buffer.from(text));
      await client.quit();
      assert.equal(result.delivery[0]?.code, 250);
      const [stored] = await storedMessages(store, 'ann');
      const want = `Return-Path: <s@example.org>\r\nDelivered-To: ann@example.org\r\n${text.replace(/\r?\n/g, '\r\n')}`;
      assert.equal(stored?.length, Buffer.byteLength(want));
      assert.ok(stored?.equals(Buffer.from(want)), 'stored byte for byte');
      assert.deepEqual(temps(dir), []);
    } finally {
      await lmtp.close();
      await store.close();
    }
  });

  it('a client that goes after 600 KB of DATA: nothing stored, no temporary file left, the next delivery works', async () => {
    const { dir, store, lmtp } = await open();
    try {
      const c = new RawClient(lmtp.port);
      await greeted(c);
      c.send('MAIL FROM:<s@example.org>\r\nRCPT TO:<ann@example.org>\r\nDATA\r\n');
      await c.expect(/^354 /);
      c.send(`Subject: cut\r\n\r\n${body(600 * 1024)}`);
      // The store takes the message while DATA arrives: the client goes once its temporary file is
      // there, and that file must go too — both polled, not fixed sleeps, which a loaded machine
      // may not honour (the server may not have read a byte yet, or not yet seen the client go).
      await until('the store is taking the message', () => temps(dir).length > 0);
      c.destroy();
      await until('no temporary file is left', () => temps(dir).length === 0, 10_000);
      assert.equal((await storedMessages(store, 'ann')).length, 0);
      const next = await LmtpClient.connect({ host: '127.0.0.1', port: lmtp.port });
      const result = await next.send('s@example.org', [{ address: 'ann@example.org' }], Buffer.from('Subject: whole\r\n\r\nx\r\n'));
      await next.quit();
      assert.equal(result.delivery[0]?.code, 250);
      assert.equal((await storedMessages(store, 'ann')).length, 1);
    } finally {
      await lmtp.close();
      await store.close();
    }
  });

  it('NUL after 600 KB: 554 5.6.0, nothing stored, no temporary file left', async () => {
    const { dir, store, lmtp } = await open();
    try {
      const client = await LmtpClient.connect({ host: '127.0.0.1', port: lmtp.port });
      const message = Buffer.from(`Subject: nul\r\n\r\n${body(600 * 1024)}a\0b\r\n${body(100 * 1024)}`);
      const result = await client.send('s@example.org', [{ address: 'ann@example.org' }], message);
      const again = await client.send('s@example.org', [{ address: 'ann@example.org' }], Buffer.from('Subject: fine\r\n\r\nx\r\n'));
      await client.quit();
      assert.equal(`${result.delivery[0]?.code} ${result.delivery[0]?.enhanced}`, '554 5.6.0');
      assert.equal(again.delivery[0]?.code, 250, 'the same connection goes on');
      const stored = await storedMessages(store, 'ann');
      assert.deepEqual(stored.map((m) => m.toString().split('\r\n')[2]), ['Subject: fine']);
      assert.deepEqual(temps(dir), []);
    } finally {
      await lmtp.close();
      await store.close();
    }
  });

  it('DATA over the size limit: 552 5.3.4, nothing stored, no temporary file left', async () => {
    const { dir, store, lmtp } = await open({ limits: { maxMessageSize: 300 * 1024 } });
    try {
      const client = await LmtpClient.connect({ host: '127.0.0.1', port: lmtp.port });
      const result = await client.send('s@example.org', [{ address: 'ann@example.org' }], Buffer.from(`Subject: big\r\n\r\n${body(600 * 1024)}`));
      await client.quit();
      assert.equal(`${result.delivery[0]?.code} ${result.delivery[0]?.enhanced}`, '552 5.3.4');
      assert.equal((await storedMessages(store, 'ann')).length, 0);
      assert.deepEqual(temps(dir), []);
    } finally {
      await lmtp.close();
      await store.close();
    }
  });

  it('two recipients are spooled first: a spool that cannot be written answers 451 4.3.0 for each, nothing stored', async () => {
    const notAFolder = join(newDir(), 'file');
    writeFileSync(notAFolder, 'not a folder');
    const { store, lmtp } = await open({ spoolDirectory: notAFolder });
    try {
      const client = await LmtpClient.connect({ host: '127.0.0.1', port: lmtp.port });
      const result = await client.send('s@example.org', [{ address: 'ann@example.org' }, { address: 'bob@example.org' }], Buffer.from(`Subject: two\r\n\r\n${body(400 * 1024)}`));
      const one = await client.send('s@example.org', [{ address: 'ann@example.org' }], Buffer.from(`Subject: one\r\n\r\n${body(400 * 1024)}`));
      await client.quit();
      assert.deepEqual(result.delivery.map((r) => `${r?.code} ${r?.enhanced}`), ['451 4.3.0', '451 4.3.0']);
      assert.equal(one.delivery[0]?.code, 250, 'one recipient does not use the spool');
      assert.deepEqual((await storedMessages(store, 'ann')).map((m) => m.toString().split('\r\n')[2]), ['Subject: one']);
      assert.equal((await storedMessages(store, 'bob')).length, 0);
    } finally {
      await lmtp.close();
      await store.close();
    }
  });

  for (const [name, appliesTo, called] of [
    ['a filter without appliesTo is asked (the message is spooled first)', undefined, 1],
    ['a filter whose appliesTo says yes is asked', true, 1],
    ['a filter whose appliesTo says no is not asked, and the message is kept in INBOX', false, 0],
  ] as const) {
    it(name, async () => {
      let calls = 0;
      const asked: string[] = [];
      const filter: DeliveryFilter = Object.assign(
        () => {
          calls++;
          return [{ kind: 'keep' as const }];
        },
        appliesTo === undefined
          ? {}
          : {
              appliesTo: async (recipient: { user: string }) => {
                asked.push(recipient.user);
                return appliesTo;
              },
            },
      );
      const { store, lmtp } = await open({ filter });
      try {
        const client = await LmtpClient.connect({ host: '127.0.0.1', port: lmtp.port });
        const result = await client.send('s@example.org', [{ address: 'ann@example.org' }], Buffer.from(`Subject: f\r\n\r\n${body(400 * 1024)}`));
        await client.quit();
        assert.equal(result.delivery[0]?.code, 250);
        assert.equal(calls, called);
        assert.deepEqual(asked, appliesTo === undefined ? [] : ['ann']);
        assert.equal((await storedMessages(store, 'ann')).length, 1);
      } finally {
        await lmtp.close();
        await store.close();
      }
    });
  }
});
