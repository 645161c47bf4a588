/**
 * The Sieve thread (src/delivery/sieve-thread.ts): a run made there gives the outcome the same run
 * on the event loop gives; the delivery filter sends runs there only when several deliveries are
 * in progress and the script needs nothing but the envelope and the header; a thread that forgot a
 * script is sent its text again; a thread that died leaves every run to the loop, no mail lost.
 * Over real LMTP: ten sessions at once through a filter that uses the thread file and flag every
 * message as the script says.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createSieveFilter } from '../../src/delivery/sieve-filter.js';
import { SieveThread } from '../../src/delivery/sieve-thread.js';
import type { FilterInput, Recipient } from '../../src/delivery/types.js';
import { LmtpClient } from '../../src/lmtp/client.js';
import { compileSieve, DEFAULT_SIEVE_LIMITS, runSieveNow, runsSelfContained } from '../../src/sieve/index.js';
import type { SieveEnvironment, SieveOutcome, SieveScript } from '../../src/sieve/types.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import { sieveStorage } from '../../src/store/sieve-storage.js';
import { startLmtpServer } from '../helpers/lmtp-server.js';

const SCRIPT = `require ["fileinto", "mailbox", "imap4flags", "variables", "subaddress", "envelope", "date", "relational", "comparator-i;ascii-numeric", "vacation", "reject", "copy"];
if header :contains "list-id" "<list1.example.org>" { fileinto :create "Lists/list1"; stop; }
if address :is :domain "from" "billing.example.com" { fileinto :copy :flags "$Invoice" "Invoices"; }
if header :matches "subject" "[ticket #*]*" { set "n" "\${1}"; fileinto :create "Tickets/\${n}"; stop; }
if envelope :detail "to" "news" { addflag "$News"; }
if header :value "ge" :comparator "i;ascii-numeric" "x-priority" "3" { addflag "\\\\Flagged"; }
if currentdate :is "year" "2026" { addflag "$ThisYear"; }
if header :contains "subject" "refuse" { reject "not wanted"; stop; }
if header :contains "subject" "junk" { discard; stop; }
if header :contains "subject" "away" { vacation :days 2 :subject "Away" "Back soon."; }
addflag "$Seen-By-Sieve";`;

function compiled(source: string): SieveScript {
  const r = compileSieve(source, { limits: {} });
  assert.ok(r.ok, 'the script compiles');
  return r.script;
}

const HEADERS = [
  'From: a@billing.example.com\r\nTo: ann@mx.test\r\nSubject: your bill\r\n',
  'From: l@lists.test\r\nList-Id: Some list <list1.example.org>\r\nSubject: digest\r\n',
  'From: s@desk.test\r\nSubject: [ticket #4711] printer\r\nX-Priority: 5\r\n',
  'From: x@remote.test\r\nTo: ann@mx.test\r\nSubject: please refuse\r\n',
  'From: x@remote.test\r\nSubject: junk mail\r\n',
  'From: friend@remote.test\r\nTo: ann@mx.test\r\nSubject: are you away?\r\nMessage-ID: <1@remote.test>\r\n',
  'From: x@remote.test\r\nSubject: plain\r\nX-Priority: 1\r\n',
];

function environment(header: string, to: string, now: Date): SieveEnvironment {
  return {
    envelope: { from: 'x@remote.test', to },
    header: Buffer.from(header),
    body: () => Promise.reject(new Error('no body')),
    get size(): number {
      throw new Error('no size');
    },
    mailboxExists: () => Promise.reject(new Error('no store')),
    now,
    userAddresses: [to],
  };
}

describe('Sieve thread', () => {
  const threads: SieveThread[] = [];
  after(async () => {
    for (const t of threads) await t.close();
  });

  async function online(thread: SieveThread): Promise<void> {
    for (let i = 0; i < 500 && !thread.ready(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(thread.ready(), 'the thread came online');
  }

  it('gives the outcome a run on the event loop gives, for every header and envelope', async () => {
    const thread = new SieveThread({ ...DEFAULT_SIEVE_LIMITS }, 10);
    threads.push(thread);
    await online(thread);
    const script = compiled(SCRIPT);
    assert.equal(runsSelfContained(script), true);
    const now = new Date('2026-12-05T18:00:00Z');
    let compared = 0;
    for (const header of HEADERS) {
      for (const to of ['ann@mx.test', 'ann+news@mx.test']) {
        const here = runSieveNow(script, environment(header, to, now), DEFAULT_SIEVE_LIMITS);
        const inline: SieveOutcome = here instanceof Promise ? await here : here;
        // A Buffer that is a view of a larger one: the thread must see only the header's bytes.
        const big = Buffer.from(`${header}\r\nbody that must not be seen\r\n`);
        const there = await thread.run({ script, source: SCRIPT, header: big.subarray(0, Buffer.byteLength(header)), from: 'x@remote.test', to, now });
        assert.deepEqual(there, inline, `${JSON.stringify(header)} to ${to}`);
        compared++;
      }
    }
    assert.equal(compared, HEADERS.length * 2);
  });

  it("sends a script's text again when the thread has forgotten it", async () => {
    const thread = new SieveThread({ ...DEFAULT_SIEVE_LIMITS }, 1);
    threads.push(thread);
    await online(thread);
    const a = 'require "imap4flags"; addflag "$A";';
    const b = 'require "imap4flags"; addflag "$B";';
    const sa = compiled(a);
    const sb = compiled(b);
    const now = new Date();
    for (let i = 0; i < 4; i++) {
      // The thread keeps one script: each turn it must be sent the other's text again.
      const ra = await thread.run({ script: sa, source: a, header: Buffer.from('Subject: x\r\n'), from: '', to: 'ann@mx.test', now });
      const rb = await thread.run({ script: sb, source: b, header: Buffer.from('Subject: x\r\n'), from: '', to: 'ann@mx.test', now });
      assert.deepEqual(ra.actions, [{ type: 'keep', flags: ['$A'] }]);
      assert.deepEqual(rb.actions, [{ type: 'keep', flags: ['$B'] }]);
    }
  });

  it('says so when it has died; the filter then runs scripts on the event loop', async () => {
    const thread = new SieveThread({ ...DEFAULT_SIEVE_LIMITS }, 10);
    threads.push(thread);
    await online(thread);
    await thread.close();
    assert.equal(thread.ready(), false, 'not started again');
    await assert.rejects(thread.run({ script: compiled('keep;'), source: 'keep;', header: Buffer.from('Subject: x\r\n'), from: '', to: 'ann@mx.test', now: new Date() }));
  });

  it('a thread that dies under a pending run: the run is refused (the filter then makes it on the loop), and none later goes there', async () => {
    const broken: unknown[] = [];
    const watched = new SieveThread({ ...DEFAULT_SIEVE_LIMITS }, 10, (err) => broken.push(err));
    threads.push(watched);
    await online(watched);
    const script = compiled('keep;');
    const pending = watched.run({ script, source: 'keep;', header: Buffer.from('Subject: x\r\n'), from: '', to: 'ann@mx.test', now: new Date() });
    // Not closed through the class: the thread ends as if it had crashed.
    await (watched as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await assert.rejects(pending);
    assert.equal(broken.length, 1, 'said once');
    assert.equal(watched.ready(), false, 'not used again');
  });

  it('the filter uses the thread only when several deliveries are in progress and the script allows it; same actions either way', async () => {
    const calls: number[] = [];
    const original = SieveThread.prototype.run;
    SieveThread.prototype.run = function (this: SieveThread, ...args: Parameters<SieveThread['run']>) {
      calls.push(1);
      return original.apply(this, args);
    };
    const store = new MemoryStore();
    const threaded = createSieveFilter({ scriptChanges: store, threadFrom: 2 });
    const inline = createSieveFilter({ scriptChanges: store, threadFrom: 0 });
    try {
      const mail = await store.open('ann');
      await sieveStorage(mail).sievePut('main', SCRIPT);
      await sieveStorage(mail).sieveSetActive('main');
      const recipient: Recipient = { address: 'ann+news@mx.test', user: 'ann', detail: 'news' };
      const input = (header: string, concurrent: number): FilterInput => ({ from: 'x@remote.test', recipient, mailbox: 'INBOX', header: Buffer.from(header), mail, headerComplete: true, concurrent });
      // Alone: never the thread.
      for (const header of HEADERS) assert.deepEqual(await threaded(input(header, 1)), await inline(input(header, 1)));
      assert.equal(calls.length, 0, 'one delivery at a time runs on the loop');
      // Several at once: the thread once it is up (the first runs, while it starts, on the loop).
      for (let i = 0; i < 300 && calls.length === 0; i++) {
        await threaded(input(HEADERS[0]!, 5));
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(calls.length > 0, 'runs went to the thread');
      const before = calls.length;
      for (const header of HEADERS) {
        assert.deepEqual(await threaded(input(header, 5)), await inline(input(header, 5)), JSON.stringify(header));
      }
      assert.equal(calls.length - before, HEADERS.length, 'every run went to the thread');
      // A script that looks at the body stays on the loop.
      await sieveStorage(mail).sievePut('main', 'require "body"; if body :contains "x" { discard; }');
      await sieveStorage(mail).sieveSetActive('main');
      const afterBody = calls.length;
      await threaded({ ...input(HEADERS[0]!, 5), body: async () => Buffer.from('x'), size: 10 });
      assert.equal(calls.length, afterBody, 'a body test is not run on the thread');
      await mail.close();
    } finally {
      SieveThread.prototype.run = original;
      await threaded.close?.();
      await inline.close?.();
      await store.close();
    }
  });

  it('over LMTP, ten sessions at once: every message filed and flagged as the script says', async () => {
    const store = new MemoryStore();
    const filter = createSieveFilter({ scriptChanges: store });
    const lmtp = await startLmtpServer({ store, filter, mailboxChanges: store });
    try {
      for (const user of ['ann', 'bob']) {
        const mail = await store.open(user);
        await sieveStorage(mail).sievePut('main', 'require ["fileinto", "mailbox", "imap4flags"]; if header :contains "subject" "ticket" { fileinto :create :flags "$T" "Tickets"; stop; } addflag "$K";');
        await sieveStorage(mail).sieveSetActive('main');
        await mail.close();
      }
      const clients = await Promise.all(Array.from({ length: 10 }, () => LmtpClient.connect({ host: '127.0.0.1', port: lmtp.port })));
      const PER = 30;
      await Promise.all(
        clients.map(async (client, s) => {
          for (let i = 0; i < PER; i++) {
            const user = (s + i) % 2 === 0 ? 'ann' : 'bob';
            const subject = i % 3 === 0 ? `ticket ${s}-${i}` : `note ${s}-${i}`;
            const r = await client.send('x@remote.test', [{ address: `${user}@mx.test` }], Buffer.from(`From: x@remote.test\r\nSubject: ${subject}\r\n\r\nbody\r\n`));
            assert.equal(r.delivery[0]?.code, 250);
          }
          await client.quit();
        }),
      );
      let tickets = 0;
      let kept = 0;
      for (const user of ['ann', 'bob']) {
        const mail = await store.open(user);
        for (const [name, flag] of [['Tickets', '$T'], ['INBOX', '$K']] as const) {
          const snap = await mail.snapshot((await mail.get(name)).id);
          for (const m of snap.messages) {
            assert.deepEqual([...m.flags], [flag], `${user} ${name}`);
            const subject = /Subject: (\w+)/.exec((await mail.read((await mail.get(name)).id, m.uid)).toString())![1];
            assert.equal(subject, name === 'Tickets' ? 'ticket' : 'note');
          }
          if (name === 'Tickets') tickets += snap.messages.length;
          else kept += snap.messages.length;
        }
        await mail.close();
      }
      assert.equal(tickets, 10 * PER / 3);
      assert.equal(kept, 10 * PER - 10 * PER / 3);
    } finally {
      await lmtp.close();
      await filter.close?.();
      await store.close();
    }
  });
});
