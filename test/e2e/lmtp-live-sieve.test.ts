/**
 * A Sieve script that needs only the header section (no body, size, redirect or editheader) runs
 * once the header is in, and the message is stored while DATA arrives (DeliveryPipeline.startLive,
 * DeliveryFilter.needsMessage). Over real sockets on the SQLite store: the bytes stored are the
 * ones the spooled path stores (byte for byte, in every place the script chose); a runtime error
 * keeps the message in INBOX; a body test makes it spool first and is honoured; reject and a
 * client that goes mid-DATA store nothing (and send no vacation answer); vacation answers once
 * the message is stored.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { OutgoingEnvelope } from '../../src/delivery/sender.js';
import { createSieveFilter } from '../../src/delivery/sieve-filter.js';
import type { DeliveryFilter, FilterInput } from '../../src/delivery/types.js';
import { LmtpClient } from '../../src/lmtp/client.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { sieveStorage } from '../../src/store/sieve-storage.js';
import { dottedBody, startLmtpServer, storedMessages } from '../helpers/lmtp-server.js';
import { tempDirs } from '../helpers/temp-dirs.js';
import { RawClient, sleep, until } from '../helpers/raw-client.js';

const newDir = tempDirs('postroom-lmtp-live-sieve-');
const body = dottedBody;

interface Setup {
  dir: string;
  store: SqliteStore;
  lmtp: Awaited<ReturnType<typeof startLmtpServer>>;
  /** Per filter call: true when it ran while the message was arriving (streamed), false when spooled. */
  streamed: boolean[];
  sent: Array<{ envelope: OutgoingEnvelope; raw: string }>;
  close(): Promise<void>;
}

/** An LMTP server whose Sieve filter is watched: each call says whether it was the streamed one. */
async function open(script: string): Promise<Setup> {
  const dir = newDir();
  const store = await SqliteStore.open({ directory: dir });
  const mail = await store.open('ann');
  const scripts = sieveStorage(mail);
  await scripts.sievePut('main', script);
  await scripts.sieveSetActive('main');
  await mail.close();
  const sent: Setup['sent'] = [];
  const sieve = createSieveFilter({ scriptChanges: store, hostname: 'mx.test', sender: { send: async (envelope, raw) => void sent.push({ envelope, raw: raw.toString() }), close: async () => undefined } });
  const streamed: boolean[] = [];
  const filter: DeliveryFilter = Object.assign((input: FilterInput) => {
    streamed.push(input.defer !== undefined);
    return sieve(input);
  }, { appliesTo: sieve.appliesTo!, needsMessage: sieve.needsMessage! });
  const lmtp = await startLmtpServer({ store, filter, spoolDirectory: newDir() });
  return {
    dir, store, lmtp, streamed, sent,
    close: async () => {
      await lmtp.close();
      await store.close();
    },
  };
}

async function deliver(s: Setup, message: string | Buffer): Promise<string> {
  const client = await LmtpClient.connect({ host: '127.0.0.1', port: s.lmtp.port });
  try {
    const result = await client.send('s@example.org', [{ address: 'ann@example.org' }], Buffer.from(message));
    const r = result.delivery[0];
    return `${r?.code} ${r?.enhanced}`;
  } finally {
    await client.quit();
  }
}

const TRACE = 'Return-Path: <s@example.org>\r\nDelivered-To: ann@example.org\r\n';
const asStored = (text: string): Buffer => Buffer.from(TRACE + text.replace(/\r?\n/g, '\r\n'));
/** The store's temporary body files (tmp/): none may be left once a delivery is over. */
const temps = (dir: string): string[] => readdirSync(join(dir, 'tmp'));

const FILE_LISTS = 'require ["fileinto", "mailbox", "imap4flags"];\r\nif header :contains "list-id" "lists.example.org" { fileinto :create "Lists"; stop; }\r\naddflag "$Seen";\r\n';

describe('LMTP + Sieve: a header-only script, the message stored while it arrives', () => {
  const messages: Array<[string, string]> = [
    ['10 KB, filed', `List-Id: <a.lists.example.org>\r\nSubject: small\r\n\r\n${body(10 * 1024)}`],
    ['1 MB, dots and bare LFs, filed', `List-Id: <a.lists.example.org>\nSubject: large\n\n${body(1024 * 1024)}`],
    ['header fields only, no blank line, kept', 'Subject: no body\r\nX-A: b\r\n'],
    ['no header fields at all, kept', `\r\n${body(2000)}`],
    ['a 70 KB header section (past the 64 KiB the filter sees), kept', `${Array.from({ length: 1000 }, (_, i) => `X-Long-${i}: ${'v'.repeat(60)}\r\n`).join('')}Subject: long\r\n\r\n${body(5000)}`],
  ];
  for (const [name, text] of messages) {
    it(`${name}: stored byte for byte as sent, where the script says, streamed`, async () => {
      const s = await open(FILE_LISTS);
      try {
        assert.equal(await deliver(s, text), '250 2.0.0');
        const filed = text.startsWith('List-Id');
        const [stored] = await storedMessages(s.store, 'ann', filed ? 'Lists' : 'INBOX');
        assert.ok(stored?.equals(asStored(text)), 'stored byte for byte');
        assert.equal((await storedMessages(s.store, 'ann', filed ? 'INBOX' : 'INBOX')).length, filed ? 0 : 1);
        assert.deepEqual(s.streamed, [true]);
        assert.deepEqual(temps(s.dir), []);
      } finally {
        await s.close();
      }
    });
  }

  it('keep and fileinto :copy with flags: two copies, the same bytes stored once, each with its flags', async () => {
    const s = await open('require ["fileinto", "copy", "imap4flags"];\r\nfileinto :copy :flags "$Archived" "Archive";\r\naddflag "\\\\Flagged";\r\n');
    try {
      const mail = await s.store.open('ann');
      await mail.create('Archive');
      await mail.close();
      const text = `Subject: twice\r\n\r\n${body(300 * 1024)}`;
      assert.equal(await deliver(s, text), '250 2.0.0');
      const inbox = await storedMessages(s.store, 'ann', 'INBOX');
      const archive = await storedMessages(s.store, 'ann', 'Archive');
      assert.equal(inbox.length, 1);
      assert.equal(archive.length, 1);
      assert.ok(inbox[0]!.equals(asStored(text)) && archive[0]!.equals(asStored(text)), 'both copies byte for byte');
      const again = await s.store.open('ann');
      try {
        const flagsOf = async (name: string) => {
          const box = await again.get(name);
          const snap = await again.snapshot(box.id);
          return { flags: [...snap.messages[0]!.flags].sort(), emailId: (await again.messageExtras!(box.id, [snap.messages[0]!.uid]))[0]!.emailId };
        };
        const [i, a] = [await flagsOf('INBOX'), await flagsOf('Archive')];
        assert.deepEqual(i.flags, ['\\Flagged']);
        assert.deepEqual(a.flags, ['$Archived']);
        assert.equal(i.emailId, a.emailId, 'one stored content (the same EMAILID, RFC 8474)');
      } finally {
        await again.close();
      }
      assert.deepEqual(s.streamed, [true]);
    } finally {
      await s.close();
    }
  });

  for (const script of ['keep;\r\n', '# only the implicit keep\r\n', 'require "fileinto";\r\nkeep;\r\nstop;\r\n']) {
    it(`a script that only keeps (${JSON.stringify(script)}): stored as without a script, byte for byte, no run made`, async () => {
      const s = await open(script);
      try {
        const text = `Subject: kept\r\n\r\n${body(20 * 1024)}`;
        assert.equal(await deliver(s, text), '250 2.0.0');
        const [stored, more] = await storedMessages(s.store, 'ann', 'INBOX');
        assert.ok(stored?.equals(asStored(text)), 'stored byte for byte');
        assert.equal(more, undefined);
        assert.deepEqual(s.streamed, [], 'the filter was not called');
        const mail = await s.store.open('ann');
        try {
          const box = await mail.get('INBOX');
          assert.deepEqual([...(await mail.snapshot(box.id)).messages[0]!.flags], [], 'no flags');
        } finally {
          await mail.close();
        }
      } finally {
        await s.close();
      }
    });
  }

  it('a script changed from keep-only to filing: the next delivery runs it', async () => {
    const s = await open('keep;\r\n');
    try {
      assert.equal(await deliver(s, 'List-Id: <a.lists.example.org>\r\nSubject: one\r\n\r\nx\r\n'), '250 2.0.0');
      const mail = await s.store.open('ann');
      await sieveStorage(mail).sievePut('main', FILE_LISTS);
      await mail.close();
      await sleep(50);
      assert.equal(await deliver(s, 'List-Id: <a.lists.example.org>\r\nSubject: two\r\n\r\nx\r\n'), '250 2.0.0');
      assert.equal((await storedMessages(s.store, 'ann', 'INBOX')).length, 1);
      assert.equal((await storedMessages(s.store, 'ann', 'Lists')).length, 1);
      assert.deepEqual(s.streamed, [true]);
    } finally {
      await s.close();
    }
  });

  it('a runtime error keeps the message in INBOX (RFC 5228 §2.10.2), byte for byte', async () => {
    const s = await open('require ["fileinto", "ihave"];\r\nif header :contains "subject" "boom" { error "the script fails"; }\r\nfileinto "Elsewhere";\r\n');
    try {
      const text = `Subject: boom\r\n\r\n${body(200 * 1024)}`;
      assert.equal(await deliver(s, text), '250 2.0.0');
      const [stored] = await storedMessages(s.store, 'ann');
      assert.ok(stored?.equals(asStored(text)));
      assert.deepEqual(s.streamed, [true]);
    } finally {
      await s.close();
    }
  });

  it('a body test makes the message spool first, and is honoured', async () => {
    const s = await open('require ["body", "fileinto", "mailbox"];\r\nif body :contains "needle" { fileinto :create "Found"; }\r\n');
    try {
      const text = `Subject: hay\r\n\r\n${body(3000)}a needle here\r\n`;
      assert.equal(await deliver(s, text), '250 2.0.0');
      assert.equal(await deliver(s, `Subject: none\r\n\r\n${body(3000)}`), '250 2.0.0');
      const [found] = await storedMessages(s.store, 'ann', 'Found');
      assert.ok(found?.equals(asStored(text)));
      assert.equal((await storedMessages(s.store, 'ann')).length, 1);
      assert.deepEqual(s.streamed, [false, false]);
    } finally {
      await s.close();
    }
  });

  it('size and redirect make it spool first too', async () => {
    const s = await open('if size :over 100K { discard; }\r\n');
    try {
      assert.equal(await deliver(s, `Subject: big\r\n\r\n${body(200 * 1024)}`), '250 2.0.0');
      assert.equal(await deliver(s, `Subject: small\r\n\r\n${body(1000)}`), '250 2.0.0');
      assert.deepEqual((await storedMessages(s.store, 'ann')).map((m) => m.toString().split('\r\n')[2]), ['Subject: small']);
      assert.deepEqual(s.streamed, [false, false]);
    } finally {
      await s.close();
    }
  });

  it('reject: 550 5.7.1 with the reason after the whole DATA, nothing stored, the connection goes on', async () => {
    const s = await open('require ["reject"];\r\nif header :contains "subject" "spam" { reject "not wanted"; }\r\n');
    try {
      const client = await LmtpClient.connect({ host: '127.0.0.1', port: s.lmtp.port });
      const refused = await client.send('s@example.org', [{ address: 'ann@example.org' }], Buffer.from(`From: s@example.org\r\nSubject: spam\r\n\r\n${body(600 * 1024)}`));
      const next = await client.send('s@example.org', [{ address: 'ann@example.org' }], Buffer.from('From: s@example.org\r\nSubject: fine\r\n\r\nx\r\n'));
      await client.quit();
      assert.equal(`${refused.delivery[0]?.code} ${refused.delivery[0]?.enhanced}`, '550 5.7.1');
      assert.match(refused.delivery[0]?.text ?? '', /not wanted/);
      assert.equal(next.delivery[0]?.code, 250);
      assert.deepEqual((await storedMessages(s.store, 'ann')).map((m) => m.toString().split('\r\n')[3]), ['Subject: fine']);
      assert.deepEqual(temps(s.dir), []);
      assert.deepEqual(s.streamed, [true, true]);
    } finally {
      await s.close();
    }
  });

  for (const [what, script] of [
    ['fileinto :copy and keep', 'require ["fileinto", "copy", "mailbox", "vacation"];\r\nvacation "away";\r\nfileinto :copy :create "Archive";\r\n'],
    ['discard', 'require ["vacation"];\r\nvacation "away";\r\ndiscard;\r\n'],
  ] as const) {
    it(`${what}: a client that goes mid-DATA leaves nothing stored and no vacation answer; the next delivery answers once`, async () => {
      const s = await open(script);
      try {
        const c = new RawClient(s.lmtp.port);
        await c.expect(/^220 /);
        c.send('LHLO mta.test\r\n');
        await c.expect(/^250 SIZE/);
        c.send('MAIL FROM:<s@example.org>\r\nRCPT TO:<ann@example.org>\r\nDATA\r\n');
        await c.expect(/^354 /);
        c.send(`From: s@example.org\r\nTo: ann@example.org\r\nSubject: cut\r\n\r\n${body(600 * 1024)}`);
        // The client goes once the script ran on the header (and, unless it discards, the store is
        // taking the message into a temporary file), and that file must go too — polled, not fixed
        // sleeps, which a loaded machine may not honour.
        await until('the script ran on the header', () => s.streamed.length > 0);
        if (what !== 'discard') await until('the store is taking the message', () => temps(s.dir).length > 0);
        c.destroy();
        await until('no temporary file is left', () => temps(s.dir).length === 0, 10_000);
        assert.deepEqual(s.streamed, [true], 'the script ran once, on the header');
        assert.equal((await storedMessages(s.store, 'ann')).length, 0);
        if (what !== 'discard') assert.equal((await storedMessages(s.store, 'ann', 'Archive')).length, 0);
        assert.deepEqual(s.sent, [], 'no vacation answer for a message not accepted');
        assert.deepEqual(temps(s.dir), []);
        assert.equal(await deliver(s, `From: s@example.org\r\nTo: ann@example.org\r\nSubject: whole\r\n\r\n${body(100 * 1024)}`), '250 2.0.0');
        assert.equal((await storedMessages(s.store, 'ann')).length, what === 'discard' ? 0 : 1);
        assert.equal(s.sent.length, 1, 'answered once the message is in');
        // (read through the Setup type: the deepEqual to [] above narrowed s.sent to never[])
        const answer = (s as Setup).sent[0];
        assert.equal(answer?.envelope.from, '');
        assert.deepEqual(answer?.envelope.to, ['s@example.org']);
      } finally {
        await s.close();
      }
    });
  }
});
