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
import type { Logger } from '../../src/util/logger.js';
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
    // scriptChanges: each user's active script is kept compiled until the store says it changed.
    lmtp = await startLmtpServer({ store, filter: createSieveFilter({ sender: createMailSender(`smtp://127.0.0.1:${relayPort}`), hostname: 'mx.test', scriptChanges: store }) });
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

  it('a keep into the detail mailbox and a fileinto of it are one copy with both flags (RFC 5228 §2.10.3); beside INBOX, two copies', async () => {
    const mail = await store.open('ann');
    await mail.create('Both');
    await mail.close();
    // The keep of ann+Both goes to Both (the detail mailbox), so the interpreter's own collapse
    // (keep = INBOX) leaves both actions and delivery must make them one copy.
    await activate(
      'ann',
      `require ["fileinto", "imap4flags"];
       if header :contains "subject" "detail" { fileinto :flags "$Filed" "Both"; addflag "$Kept"; keep; stop; }
       if header :contains "subject" "plain" { fileinto :flags "$Filed" "Both"; addflag "$Kept"; keep; }`,
    );
    const inbox = (await flagsIn('ann', 'INBOX')).length;
    const r1 = await client.send('sender@remote.test', [{ address: 'ann+Both@mx.test' }], message({ Subject: 'to the detail' }));
    assert.equal(r1.delivery[0]?.code, 250);
    assert.deepEqual(await flagsIn('ann', 'Both'), [['$Filed', '$Kept']], 'one copy in Both, with both flags');
    assert.equal((await flagsIn('ann', 'INBOX')).length, inbox);
    const r2 = await client.send('sender@remote.test', [{ address: 'ann@mx.test' }], message({ Subject: 'plain' }));
    assert.equal(r2.delivery[0]?.code, 250);
    assert.deepEqual((await flagsIn('ann', 'INBOX')).at(-1), ['$Kept']);
    assert.deepEqual(await flagsIn('ann', 'Both'), [['$Filed', '$Kept'], ['$Filed']]);
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

  it('the kept active script follows every change of the scripts at the next delivery (put, rename, activate, deactivate)', async () => {
    const into = (box: string): string => `require "fileinto"; fileinto "${box}";`;
    const deliverAndFind = async (): Promise<string> => {
      const subject = `probe ${Math.random()}`;
      const r = await client.send('sender@remote.test', [{ address: 'carol@mx.test' }], message({ Subject: subject }));
      assert.equal(r.delivery[0]?.code, 250);
      const mail = await store.open('carol');
      try {
        for (const box of await mail.list()) {
          if ((await storedMessages(store, 'carol', box.name)).some((b) => b.toString().includes(subject))) return box.name;
        }
        return '(nowhere)';
      } finally {
        await mail.close();
      }
    };
    const mail = await store.open('carol');
    for (const box of ['A', 'B', 'C']) await mail.create(box);
    const scripts = sieveStorage(mail);
    await scripts.sieveSetActive(null); // carol's vacation script of the test above
    assert.equal(await deliverAndFind(), 'INBOX', 'no active script');
    await scripts.sievePut('one', into('A'));
    assert.equal(await deliverAndFind(), 'INBOX', 'stored, not active');
    await scripts.sieveSetActive('one');
    assert.equal(await deliverAndFind(), 'A');
    assert.equal(await deliverAndFind(), 'A', 'the second delivery from the kept script');
    await scripts.sievePut('one', into('B')); // the active script's text replaced
    assert.equal(await deliverAndFind(), 'B');
    await scripts.sieveRename('one', 'renamed');
    assert.equal(await deliverAndFind(), 'B', 'still active under its new name');
    await scripts.sievePut('two', into('C'));
    await scripts.sieveSetActive('two');
    assert.equal(await deliverAndFind(), 'C');
    await scripts.sieveSetActive(null);
    assert.equal(await deliverAndFind(), 'INBOX', 'deactivated');
    await scripts.sieveSetActive('renamed');
    await scripts.sievePut('renamed', 'frobnicate;'); // invalid: kept in INBOX, not the old text's mailbox
    assert.equal(await deliverAndFind(), 'INBOX');
    await mail.close();
  });
  it('vacation answers once when two deliveries to the user arrive at the same time (two LMTP clients, as Postfix runs them)', async () => {
    await activate('carol', 'require "vacation"; vacation :days 3 :subject "Away" "Back soon.";');
    const before = relayed.length;
    const kept = (await storedMessages(store, 'carol')).length;
    const clients = await Promise.all([0, 1, 2].map(() => LmtpClient.connect({ host: '127.0.0.1', port: lmtp.port })));
    try {
      const replies = await Promise.all(
        clients.map((c, i) => c.send('pal@remote.test', [{ address: 'carol@mx.test' }], message({ From: 'pal@remote.test', To: 'carol@mx.test', Subject: `at once ${i}` }))),
      );
      assert.deepEqual(replies.map((r) => r.delivery[0]?.code), [250, 250, 250]);
    } finally {
      await Promise.all(clients.map((c) => c.quit().catch(() => undefined)));
    }
    const answers = relayed.slice(before);
    assert.equal(answers.length, 1, JSON.stringify(answers.map((a) => a.to)));
    assert.deepEqual(answers[0]!.to, ['pal@remote.test']);
    assert.equal((await storedMessages(store, 'carol')).length, kept + 3, 'every message kept');
  });
});

/** The stored copies of a user's mailbox as text (trace headers included). */
async function texts(store: MemoryStore, user: string, mailbox = 'INBOX'): Promise<string[]> {
  return (await storedMessages(store, user, mailbox)).map((b) => b.toString());
}

/** The header section of a stored copy, field names in order. */
function fieldNames(stored: string): string[] {
  const header = stored.slice(0, stored.indexOf('\r\n\r\n'));
  return header
    .split('\r\n')
    .filter((l) => !/^[ \t]/.test(l))
    .map((l) => l.slice(0, l.indexOf(':')));
}

describe('editheader (RFC 5293) at delivery: the stored and redirected message carries the edits', () => {
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
    // A small spool memory so that the large message below goes through the temporary file.
    lmtp = await startLmtpServer({
      store,
      limits: { spoolMemoryBytes: 16 * 1024 },
      filter: createSieveFilter({ sender: createMailSender(`smtp://127.0.0.1:${relayPort}`), hostname: 'mx.test' }),
    });
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
    await sieveStorage(mail).sievePut('main', script);
    await sieveStorage(mail).sieveSetActive('main');
    await mail.close();
  }

  it('RFC 5293 §7 example: addheader "X-Sieve-Filtered" then redirect; the redirected copy carries it, a second pass does not redirect', async () => {
    await activate(
      'ann',
      `require ["editheader", "copy"];
       if not header :contains "X-Sieve-Filtered" ["<kim@job.example.com>", "<kim@home.example.com>"] {
         addheader "X-Sieve-Filtered" "<kim@job.example.com>";
         redirect :copy "kim@home.example.com";
       }`,
    );
    const r = await client.send('sender@remote.test', [{ address: 'ann@mx.test' }], message({ Subject: 'filtered' }));
    assert.equal(r.delivery[0]?.code, 250);
    assert.equal(relayed.length, 1);
    assert.match(relayed[0]!.data, /^X-Sieve-Filtered: <kim@job\.example\.com>\r$/m);
    const [kept] = await texts(store, 'ann');
    // The kept copy: trace headers first (they record this delivery), then the added field first of the message's own.
    assert.deepEqual(fieldNames(kept!).slice(0, 4), ['Return-Path', 'Delivered-To', 'X-Sieve-Filtered', 'From']);
    assert.ok(kept!.endsWith('\r\n\r\nHello.\r\n'));
    // The redirected copy coming back (as the other account would send it): not redirected again.
    await client.send('sender@remote.test', [{ address: 'ann@mx.test' }], Buffer.from(relayed[0]!.data.replace(/^X-Postroom-Loop:.*\r\n/m, '')));
    assert.equal(relayed.length, 1);
  });

  it('RFC 5293 §5 example: deleteheader :index 1 :is "Delivered-To" "bob@example.com" deletes only that field', async () => {
    await activate('bob', 'require "editheader"; deleteheader :index 1 :is "Delivered-To" "bob@example.com";');
    const received = message({ 'Delivered-To': 'bob@example.com', 'X-Keep': 'yes' }).toString().replace('X-Keep: yes', 'X-Keep: yes\r\nDelivered-To: alice@example.com');
    await client.send('sender@remote.test', [{ address: 'bob@mx.test' }, { address: 'carol@mx.test' }], Buffer.from(received));
    const [stored] = await texts(store, 'bob');
    assert.doesNotMatch(stored!, /^Delivered-To: bob@example\.com\r$/m);
    assert.match(stored!, /^Delivered-To: alice@example\.com\r$/m);
    assert.match(stored!, /^X-Keep: yes\r$/m);
    // The other recipient of the same transaction has no script: its copy is as received.
    const [other] = await texts(store, 'carol');
    assert.match(other!, /^Delivered-To: bob@example\.com\r$/m);
  });

  it('fileinto after addheader :last and deleteheader; a large message (spooled to a file) keeps its body byte for byte', async () => {
    await activate(
      'carol',
      `require ["editheader", "fileinto", "mailbox"];
       deleteheader "X-Spam-Junk";
       addheader :last "X-Sorted" "by Sieve";
       if header :is "X-Sorted" "by Sieve" { fileinto :create "Sorted"; }`,
    );
    const body = `${'0123456789abcdef'.repeat(4)}\r\n`.repeat(2000);
    await client.send('sender@remote.test', [{ address: 'carol@mx.test' }], message({ 'X-Spam-Junk': 'header to drop', Subject: 'big' }, body));
    const [stored] = await texts(store, 'carol', 'Sorted');
    const names = fieldNames(stored!);
    assert.equal(names[names.length - 1], 'X-Sorted');
    assert.ok(!names.includes('X-Spam-Junk'));
    assert.equal(stored!.slice(stored!.indexOf('\r\n\r\n') + 4), body);
  });

  it('a copy filed before an edit is stored as received; one filed after it, and the implicit keep, carry it', async () => {
    await activate('bob', 'require ["editheader", "fileinto", "copy", "mailbox"]; fileinto :create :copy "Early"; addheader "X-Tag" "late"; fileinto :create :copy "Late";');
    await client.send('sender@remote.test', [{ address: 'bob@mx.test' }], message({ Subject: 'order' }));
    const [early] = await texts(store, 'bob', 'Early');
    const [late] = await texts(store, 'bob', 'Late');
    const kept = await texts(store, 'bob');
    assert.doesNotMatch(early!, /X-Tag/);
    assert.match(late!, /^X-Tag: late\r$/m);
    assert.match(kept[kept.length - 1]!, /^X-Tag: late\r$/m);
  });

  it('a run that fails after editing keeps the message as received (RFC 5293 §6)', async () => {
    await activate('ann', `require ["editheader", "fileinto", "copy"]; addheader "X-Edited" "yes"; ${Array.from({ length: 40 }, (_, i) => `fileinto :copy "F${i}";`).join(' ')}`);
    const before = (await texts(store, 'ann')).length;
    await client.send('sender@remote.test', [{ address: 'ann@mx.test' }], message({ Subject: 'fails' }));
    const all = await texts(store, 'ann');
    assert.equal(all.length, before + 1);
    assert.doesNotMatch(all[all.length - 1]!, /X-Edited/);
  });
});

describe('sieveBefore / user script / sieveAfter as a sequence (Pigeonhole semantics)', () => {
  let store: MemoryStore;
  let lmtp: TestLmtpServer;
  let client: LmtpClient;

  before(async () => {
    store = new MemoryStore();
    lmtp = await startLmtpServer({
      store,
      filter: createSieveFilter({
        before: `require ["editheader", "fileinto"];
                 if header :contains "subject" "virus" { discard; stop; }
                 if header :contains "subject" "spammy" { addheader "X-Spam-Flag" "YES"; }`,
        after: `require ["imap4flags", "fileinto", "copy"];
                addflag "$After";
                if header :contains "subject" "archive" { fileinto :copy "Archive"; }`,
      }),
    });
    client = await LmtpClient.connect({ host: '127.0.0.1', port: lmtp.port });
  });
  after(async () => {
    await client.quit().catch(() => undefined);
    await lmtp.close();
    await store.close();
  });

  async function activate(user: string, script: string): Promise<void> {
    const mail = await store.open(user);
    await sieveStorage(mail).sievePut('main', script);
    await sieveStorage(mail).sieveSetActive('main');
    await mail.close();
  }

  async function flagsIn(user: string, mailbox: string): Promise<string[][]> {
    const mail = await store.open(user);
    try {
      const snap = await mail.snapshot((await mail.get(mailbox)).id);
      return snap.messages.map((m) => [...m.flags].sort());
    } finally {
      await mail.close();
    }
  }

  async function create(user: string, ...names: string[]): Promise<void> {
    const mail = await store.open(user);
    for (const n of names) await mail.create(n).catch(() => undefined);
    await mail.close();
  }

  it('the user script ends with stop and the implicit keep: sieveAfter still runs, and the user\'s flags stay', async () => {
    await create('ann', 'Archive');
    await activate('ann', 'require "imap4flags"; addflag "\\\\Seen"; stop; addflag "$Never";');
    await client.send('s@remote.test', [{ address: 'ann@mx.test' }], message({ Subject: 'please archive' }));
    assert.deepEqual(await flagsIn('ann', 'INBOX'), [['$After', '\\Seen']]);
    assert.equal((await storedMessages(store, 'ann', 'Archive')).length, 1);
  });

  it('fileinto then stop cancels the keep: sieveAfter does not run', async () => {
    await create('bob', 'Lists', 'Archive');
    await activate('bob', 'require "fileinto"; fileinto "Lists"; stop;');
    await client.send('s@remote.test', [{ address: 'bob@mx.test' }], message({ Subject: 'archive this' }));
    assert.deepEqual(await flagsIn('bob', 'Lists'), [[]]);
    assert.equal((await storedMessages(store, 'bob', 'Archive')).length, 0);
    assert.equal((await storedMessages(store, 'bob')).length, 0);
  });

  it('an explicit keep lets sieveAfter run; discard stops the sequence', async () => {
    await create('carol', 'Archive');
    await activate('carol', 'if header :contains "subject" "drop" { discard; } else { keep; }');
    await client.send('s@remote.test', [{ address: 'carol@mx.test' }], message({ Subject: 'keep and archive' }));
    await client.send('s@remote.test', [{ address: 'carol@mx.test' }], message({ Subject: 'drop and archive' }));
    assert.deepEqual(await flagsIn('carol', 'INBOX'), [['$After']]);
    assert.equal((await storedMessages(store, 'carol', 'Archive')).length, 1);
  });

  it('sieveBefore discard; stop ends the sequence: the user script never runs', async () => {
    await activate('ann', 'require "fileinto"; fileinto "Virus-Seen";');
    const before = (await storedMessages(store, 'ann')).length;
    const r = await client.send('s@remote.test', [{ address: 'ann@mx.test' }], message({ Subject: 'virus inside' }));
    assert.equal(r.delivery[0]?.code, 250);
    assert.equal((await storedMessages(store, 'ann')).length, before);
    const mail = await store.open('ann');
    await assert.rejects(mail.get('Virus-Seen'));
    await mail.close();
  });

  it('the user script sees sieveBefore\'s added header, and the filed copy carries it', async () => {
    await create('bob', 'Junk');
    await activate('bob', 'require "fileinto"; if header :is "X-Spam-Flag" "YES" { fileinto "Junk"; }');
    await client.send('s@remote.test', [{ address: 'bob@mx.test' }], message({ Subject: 'spammy offer' }));
    const [junk] = await texts(store, 'bob', 'Junk');
    assert.match(junk!, /^X-Spam-Flag: YES\r$/m);
  });

  it('a user script failing at run time ends the sequence with the implicit keep (sieveAfter does not run)', async () => {
    await activate('carol', `require ["fileinto", "copy"]; ${Array.from({ length: 40 }, (_, i) => `fileinto :copy "F${i}";`).join(' ')}`);
    const inboxBefore = (await flagsIn('carol', 'INBOX')).length;
    await client.send('s@remote.test', [{ address: 'carol@mx.test' }], message({ Subject: 'archive after failure' }));
    const flags = await flagsIn('carol', 'INBOX');
    assert.equal(flags.length, inboxBefore + 1);
    assert.deepEqual(flags[flags.length - 1], []);
    assert.equal((await storedMessages(store, 'carol', 'Archive')).length, 1); // only the earlier test's
  });
});

describe('Sieve at delivery: vacation memory over time, and hostile scripts never hang a delivery', () => {
  let store: MemoryStore;
  let lmtp: TestLmtpServer;
  let relay: SMTPServer;
  const relayed: Relayed[] = [];
  let client: LmtpClient;
  let clock = new Date('2026-12-04T10:00:00Z');

  before(async () => {
    relay = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, session, callback) {
        const parts: Buffer[] = [];
        stream.on('data', (c: Buffer) => parts.push(c));
        stream.on('end', () => {
          relayed.push({ from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address, to: session.envelope.rcptTo.map((r) => r.address), data: Buffer.concat(parts).toString() });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const relayPort = (relay.server.address() as { port: number }).port;
    store = new MemoryStore();
    lmtp = await startLmtpServer({ store, filter: createSieveFilter({ sender: createMailSender(`smtp://127.0.0.1:${relayPort}`), hostname: 'mx.test', now: () => clock }) });
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
    await sieveStorage(mail).sievePut('main', script);
    await sieveStorage(mail).sieveSetActive('main');
    await mail.close();
  }

  it('vacation :days 2 answers a sender once within two days, again after them; another sender at once', async () => {
    await activate('carol', 'require "vacation"; vacation :days 2 "Away.";');
    const mail = (from: string): Buffer => message({ From: `${from}@remote.test`, To: 'carol@mx.test', Subject: 'hi' });
    const send = (from: string): Promise<unknown> => client.send(`${from}@remote.test`, [{ address: 'carol@mx.test' }], mail(from));
    await send('friend');
    clock = new Date(clock.getTime() + 47 * 3600_000); // 47 hours later: still within :days
    await send('friend');
    assert.deepEqual(relayed.map((r) => r.to[0]), ['friend@remote.test']);
    await send('colleague');
    assert.deepEqual(relayed.map((r) => r.to[0]), ['friend@remote.test', 'colleague@remote.test']);
    clock = new Date(clock.getTime() + 2 * 3600_000); // 49 hours after the first answer
    await send('friend');
    assert.deepEqual(relayed.map((r) => r.to[0]), ['friend@remote.test', 'colleague@remote.test', 'friend@remote.test']);
    assert.equal((await storedMessages(store, 'carol')).length, 4, 'every message kept');
  });

  it('a pathological :matches on a 60 KB header: the delivery is answered 250 and the message kept', async () => {
    await activate('ann', `require "fileinto"; if header :matches "x-long" "${'*a'.repeat(40)}*b" { discard; } elsif header :matches "subject" "${'*?'.repeat(50)}z" { fileinto "Never"; }`);
    const folded = Array.from({ length: 60 }, () => 'a'.repeat(990)).join('\r\n ');
    const r = await client.send('s@remote.test', [{ address: 'ann@mx.test' }], message({ 'X-Long': folded, Subject: 'a'.repeat(900) }));
    assert.equal(r.delivery[0]?.code, 250, r.delivery[0]?.text);
    assert.equal((await storedMessages(store, 'ann')).length, 1);
  });

  it('a script nested as deep as the limit allows, and one over 1 MiB stored behind ManageSieve\'s back: delivered, kept', async () => {
    const deep = `${'if true { '.repeat(31)}discard;${' }'.repeat(31)}`;
    await activate('bob', deep);
    const r1 = await client.send('s@remote.test', [{ address: 'bob@mx.test' }], message({ Subject: 'deep' }));
    assert.equal(r1.delivery[0]?.code, 250);
    assert.equal((await storedMessages(store, 'bob')).length, 0, 'the 31-deep discard ran');
    await activate('bob', `# ${'x'.repeat(1024 * 1024)}\ndiscard;`);
    const r2 = await client.send('s@remote.test', [{ address: 'bob@mx.test' }], message({ Subject: 'huge script' }));
    assert.equal(r2.delivery[0]?.code, 250);
    assert.equal((await storedMessages(store, 'bob')).length, 1, 'a script that does not compile keeps the message');
  });
});

describe('the per-delivery logger of the Sieve filter', () => {
  it('is made only when the delivery logs something, with the recipient bound to it', async () => {
    const made: Array<Record<string, unknown>> = [];
    const lines: Array<{ bindings: Record<string, unknown>; level: string; obj: unknown; msg: string | undefined }> = [];
    const logger = (bindings: Record<string, unknown>): Logger => ({
      child: (more) => {
        made.push(more);
        return logger({ ...bindings, ...more });
      },
      debug: (obj, msg) => lines.push({ bindings, level: 'debug', obj, msg }),
      info: (obj, msg) => lines.push({ bindings, level: 'info', obj, msg }),
      warn: (obj, msg) => lines.push({ bindings, level: 'warn', obj, msg }),
      error: (obj, msg) => lines.push({ bindings, level: 'error', obj, msg }),
    });
    const store = new MemoryStore();
    const lmtp = await startLmtpServer({ store, filter: createSieveFilter({ logger: logger({}), scriptChanges: store }) });
    const client = await LmtpClient.connect({ host: '127.0.0.1', port: lmtp.port });
    try {
      const mail = await store.open('ann');
      await sieveStorage(mail).sievePut('main', 'require "imap4flags"; addflag "$Seen1";');
      await sieveStorage(mail).sieveSetActive('main');
      await mail.close();
      for (let i = 0; i < 3; i++) assert.equal((await client.send('sender@remote.test', [{ address: 'ann@mx.test' }], message({ Subject: `quiet ${i}` }))).delivery[0]?.code, 250);
      assert.deepEqual(made, [], 'deliveries that log nothing make no child logger');
      assert.equal(lines.length, 0, 'and log nothing');
      // A run that fails (too many actions) logs a warning for that recipient: the child is made then, once.
      const again = await store.open('ann');
      await sieveStorage(again).sievePut('main', `require ["fileinto", "copy"]; ${Array.from({ length: 40 }, (_, i) => `fileinto :copy "F${i}";`).join(' ')}`);
      await again.close();
      assert.equal((await client.send('sender@remote.test', [{ address: 'ann@mx.test' }], message({ Subject: 'loud' }))).delivery[0]?.code, 250);
      assert.deepEqual(made, [{ user: 'ann', to: 'ann@mx.test' }]);
      assert.equal(lines.length, 1);
      assert.equal(lines[0]!.level, 'warn');
      assert.deepEqual(lines[0]!.bindings, { user: 'ann', to: 'ann@mx.test' });
      assert.match(lines[0]!.msg ?? '', /failed at run time/);
      assert.equal((await storedMessages(store, 'ann')).length, 4, 'every message kept in INBOX');
    } finally {
      await client.quit().catch(() => undefined);
      await lmtp.close();
      await store.close();
    }
  });
});
