/**
 * Sieve at delivery over real LMTP: the recipient's active script files and flags the message,
 * rejects for one recipient only, redirects and answers vacation once through a real SMTP relay
 * (smtp-server as the sink), and keeps the message when the script fails or cannot be compiled.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { createSieveFilter } from '../../src/delivery/sieve-filter.js';
import { createMailSender } from '../../src/delivery/sender.js';
import { LmtpClient } from '../../src/lmtp/client.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import { sieveStorage } from '../../src/store/sieve-storage.js';
import { startLmtpServer, storedMessages, type TestLmtpServer } from '../helpers/lmtp-server.js';

interface Relayed {
  from: string;
  to: string[];
  data: string;
}

function message(headers: Record<string, string>, body = 'Hello.\r\n'): Buffer {
  const lines = Object.entries({ From: 'sender@remote.test', To: 'ann@mx.test', 'Message-ID': `<${Math.random()}@remote.test>`, ...headers }).map(([k, v]) => `${k}: ${v}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

describe('Sieve at delivery', () => {
  let store: MemoryStore;
  let lmtp: TestLmtpServer;
  let relay: SMTPServer;
  const relayed: Relayed[] = [];
  let client: LmtpClient;

  before(async () => {
    relay = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, session, callback) {
        const parts: Buffer[] = [];
        stream.on('data', (c: Buffer) => parts.push(c));
        stream.on('end', () => {
          const envelope = session.envelope;
          relayed.push({ from: envelope.mailFrom === false ? '' : envelope.mailFrom.address, to: envelope.rcptTo.map((r) => r.address), data: Buffer.concat(parts).toString() });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const relayPort = (relay.server.address() as { port: number }).port;
    store = new MemoryStore();
    lmtp = await startLmtpServer({ store, filter: createSieveFilter({ sender: createMailSender(`smtp://127.0.0.1:${relayPort}`), hostname: 'mx.test' }) });
    client = await LmtpClient.connect({ host: '127.0.0.1', port: lmtp.port });
  });
  after(async () => {
    await client.quit().catch(() => undefined);
    await lmtp.close();
    await store.close();
    await new Promise<void>((resolve) => relay.close(() => resolve()));
  });

  async function activate(user: string, script: string): Promise<void> {
    const mail = await store.open(user);
    const scripts = sieveStorage(mail);
    await scripts.sievePut('main', script);
    await scripts.sieveSetActive('main');
    await mail.close();
  }

  async function flagsIn(user: string, mailbox: string): Promise<string[][]> {
    const mail = await store.open(user);
    try {
      const box = await mail.get(mailbox);
      const snap = await mail.snapshot(box.id);
      return snap.messages.map((m) => [...m.flags].sort());
    } finally {
      await mail.close();
    }
  }

  it('fileinto :create with flags, keep with flags, discard', async () => {
    await activate(
      'ann',
      `require ["fileinto", "mailbox", "imap4flags"];
       if header :contains "subject" "invoice" { fileinto :create :flags ["\\\\Flagged", "$Invoice"] "Bills/2026"; stop; }
       if header :contains "subject" "spam" { discard; stop; }
       addflag "\\\\Seen";`,
    );
    const r1 = await client.send('sender@remote.test', [{ address: 'ann@mx.test' }], message({ Subject: 'Your invoice' }));
    assert.equal(r1.delivery[0]?.code, 250);
    assert.deepEqual(await flagsIn('ann', 'Bills/2026'), [['$Invoice', '\\Flagged']]);
    assert.equal((await storedMessages(store, 'ann')).length, 0);
    await client.send('sender@remote.test', [{ address: 'ann@mx.test' }], message({ Subject: 'spam spam' }));
    assert.equal((await storedMessages(store, 'ann')).length, 0);
    await client.send('sender@remote.test', [{ address: 'ann@mx.test' }], message({ Subject: 'hello' }));
    assert.deepEqual(await flagsIn('ann', 'INBOX'), [['\\Seen']]);
  });

  it('reject gives 550 5.7.1 for that recipient only', async () => {
    await activate('bob', 'require "reject"; if header :contains "subject" "offer" { reject "No offers, thanks"; }');
    const r = await client.send('sender@remote.test', [{ address: 'bob@mx.test' }, { address: 'carol@mx.test' }], message({ Subject: 'Special offer' }));
    assert.equal(r.delivery[0]?.code, 550);
    assert.equal(r.delivery[0]?.enhanced, '5.7.1');
    assert.match(r.delivery[0]!.text, /No offers/);
    assert.equal(r.delivery[1]?.code, 250);
    assert.equal((await storedMessages(store, 'bob')).length, 0);
    assert.equal((await storedMessages(store, 'carol')).length, 1);
  });

  it('vacation answers once within :days, from <>, Auto-Submitted; never a list message', async () => {
    await activate('carol', 'require "vacation"; vacation :days 3 :subject "Away" "I am away until Monday.";');
    const before = relayed.length;
    await client.send('friend@remote.test', [{ address: 'carol@mx.test' }], message({ From: 'friend@remote.test', To: 'carol@mx.test', Subject: 'Lunch?' }));
    await client.send('friend@remote.test', [{ address: 'carol@mx.test' }], message({ From: 'friend@remote.test', To: 'carol@mx.test', Subject: 'Lunch again?' }));
    await client.send('list@lists.test', [{ address: 'carol@mx.test' }], message({ From: 'list@lists.test', To: 'carol@mx.test', 'List-Id': '<x.lists.test>', Subject: 'digest' }));
    const answers = relayed.slice(before);
    assert.equal(answers.length, 1, JSON.stringify(answers));
    assert.equal(answers[0]!.from, '');
    assert.deepEqual(answers[0]!.to, ['friend@remote.test']);
    assert.match(answers[0]!.data, /^Auto-Submitted: auto-replied\r$/m);
    assert.match(answers[0]!.data, /^Subject: Away\r$/m);
    assert.match(answers[0]!.data, /I am away until Monday/);
    // Every message was still kept.
    assert.equal((await storedMessages(store, 'carol')).length, 3 + 1 /* the earlier test's */);
  });

  it('redirect goes through the relay with the loop marker; a looping copy is kept, not sent again', async () => {
    await activate('ann', 'redirect "elsewhere@remote.test";');
    const before = relayed.length;
    const inboxBefore = (await storedMessages(store, 'ann')).length;
    await client.send('sender@remote.test', [{ address: 'ann@mx.test' }], message({ Subject: 'forward me' }));
    const sent = relayed.slice(before);
    assert.equal(sent.length, 1);
    assert.deepEqual(sent[0]!.to, ['elsewhere@remote.test']);
    assert.equal(sent[0]!.from, 'sender@remote.test');
    assert.match(sent[0]!.data, /^X-Postroom-Loop: ann@mx.test\r$/m);
    assert.equal((await storedMessages(store, 'ann')).length, inboxBefore); // redirected, not kept
    // The same message coming back: not redirected again, kept.
    await client.send('sender@remote.test', [{ address: 'ann@mx.test' }], Buffer.from(sent[0]!.data));
    assert.equal(relayed.length, before + 1);
    assert.equal((await storedMessages(store, 'ann')).length, inboxBefore + 1);
  });

  it('a runtime error or an invalid stored script keeps the message in INBOX', async () => {
    const mail = await store.open('bob');
    await sieveStorage(mail).sievePut('bad', 'if header :contains "subject" "x" { discard; }\r\nfrobnicate;');
    await sieveStorage(mail).sieveSetActive('bad');
    await mail.close();
    const r = await client.send('sender@remote.test', [{ address: 'bob@mx.test' }], message({ Subject: 'x' }));
    assert.equal(r.delivery[0]?.code, 250);
    assert.equal((await storedMessages(store, 'bob')).length, 1);
    // A script whose run fails (too many actions) keeps it too.
    await activate('bob', `require "imap4flags"; ${'addflag "a"; '.repeat(5)} ${Array.from({ length: 40 }, (_, i) => `fileinto :copy "F${i}";`).join(' ')}`.replace('require "imap4flags";', 'require ["imap4flags", "fileinto", "copy"];'));
    const r2 = await client.send('sender@remote.test', [{ address: 'bob@mx.test' }], message({ Subject: 'y' }));
    assert.equal(r2.delivery[0]?.code, 250);
    assert.equal((await storedMessages(store, 'bob')).length, 2);
  });
});
