/**
 * End to end with imapflow, a real client, over TCP: TLS logins, the mailbox tree, 100 varied
 * messages checked by ENVELOPE and BODYSTRUCTURE against what the generator says they are, SEARCH,
 * STORE, COPY, EXPUNGE seen by a second session, IDLE told of an APPEND from another client.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow, type MessageStructureObject } from 'imapflow';
import { serverForSuite, type TestServer } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';
import { buildMessage, randomMessageSpec, rng, type ExpectedPart, type MessageSpec } from '../helpers/messages.js';
import { servedClock } from '../helpers/served-time.js';
import { WAIT_MS } from '../helpers/raw-client.js';

function client(server: TestServer, opts: { secure?: boolean; user?: string; pass?: string } = {}): ImapFlow {
  return new ImapFlow({
    host: server.host,
    port: opts.secure ? server.tlsPort : server.port,
    secure: opts.secure ?? false,
    auth: { user: opts.user ?? 'alice', pass: opts.pass ?? 'secret' },
    tls: { rejectUnauthorized: false },
    logger: false,
    disableAutoIdle: true,
  });
}

function checkStructure(got: MessageStructureObject, want: ExpectedPart, where: string): void {
  assert.equal(got.type, want.type, `${where}: type`);
  if (want.part !== undefined) assert.equal(got.part, want.part, `${where}: part number`);
  if (want.encoding) assert.equal(got.encoding?.toLowerCase(), want.encoding, `${where}: encoding`);
  if (want.charset) assert.equal(got.parameters?.charset?.toLowerCase(), want.charset, `${where}: charset`);
  if (want.size !== undefined) assert.equal(got.size, want.size, `${where}: size`);
  if (want.filename) assert.equal(got.dispositionParameters?.filename, want.filename, `${where}: filename`);
  if (want.innerSubject !== undefined) assert.equal(got.envelope?.subject, want.innerSubject, `${where}: enclosed subject`);
  if (want.childNodes) {
    assert.equal(got.childNodes?.length, want.childNodes.length, `${where}: children`);
    want.childNodes.forEach((c, i) => checkStructure(got.childNodes![i]!, c, `${where}.${i + 1}`));
  }
}

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`imapflow end to end (${storeName} store)`, () => {
    const server = serverForSuite(factory, { allowInsecureAuth: false });

    it('logs in over STARTTLS and over implicit TLS, and is refused in plaintext', async () => {
      const starttls = client(server());
      await starttls.connect();
      assert.equal(starttls.secureConnection ?? true, true);
      assert.ok(starttls.authenticated);
      await starttls.logout();

      const implicit = client(server(), { secure: true });
      await implicit.connect();
      assert.ok(implicit.authenticated);
      await implicit.logout();

      const plain = new ImapFlow({ host: server().host, port: server().port, secure: false, doSTARTTLS: false, auth: { user: 'alice', pass: 'secret' }, logger: false });
      await assert.rejects(plain.connect());
      plain.close();

      const wrong = client(server(), { pass: 'nope' });
      await assert.rejects(wrong.connect());
      wrong.close();
    });

    it('creates, renames and deletes mailboxes with their hierarchy', async () => {
      const c = client(server());
      await c.connect();
      try {
        await c.mailboxCreate('Projects/2024/Q1');
        await c.mailboxCreate('Projects/2024/Q2');
        await c.mailboxCreate('Entwürfe');
        let paths = (await c.list()).map((m) => m.path).sort();
        for (const p of ['INBOX', 'Projects', 'Projects/2024', 'Projects/2024/Q1', 'Projects/2024/Q2', 'Entwürfe']) {
          assert.ok(paths.includes(p), `missing ${p} in ${paths.join(', ')}`);
        }
        const projects = (await c.list()).find((m) => m.path === 'Projects')!;
        assert.ok(projects.flags.has('\\HasChildren'));

        await c.mailboxRename('Projects', 'Archive/Old');
        paths = (await c.list()).map((m) => m.path);
        assert.ok(paths.includes('Archive/Old/2024/Q1'));
        assert.ok(!paths.some((p) => p.startsWith('Projects')));

        await c.mailboxDelete('Archive/Old/2024/Q1');
        paths = (await c.list()).map((m) => m.path);
        assert.ok(!paths.includes('Archive/Old/2024/Q1'));
        assert.ok(paths.includes('Archive/Old/2024/Q2'));
        const again = await c.mailboxCreate('Archive/Old/2024/Q2');
        assert.equal(again.created, false);
      } finally {
        await c.logout();
      }
    });

    it('stores 100 varied messages and serves ENVELOPE and BODYSTRUCTURE as generated', async () => {
      const c = client(server());
      await c.connect();
      const r = rng(20241122);
      const specs: MessageSpec[] = [];
      const expected: ExpectedPart[] = [];
      const raws: Buffer[] = [];
      try {
        await c.mailboxCreate('Varied');
        for (let i = 0; i < 100; i++) {
          const spec = randomMessageSpec(r, i);
          const built = buildMessage(spec);
          specs.push(spec);
          expected.push(built.expected);
          raws.push(built.raw);
          const res = await c.append('Varied', built.raw, i % 3 === 0 ? ['\\Seen'] : [], spec.date);
          assert.ok(res && typeof res === 'object' && res.uid === i + 1, `APPENDUID for message ${i}`);
        }
        const lock = await c.getMailboxLock('Varied');
        try {
          // Collect first: failing an assertion inside the iteration would leave the FETCH half read.
          const fetched = [];
          for await (const msg of c.fetch('1:*', { uid: true, envelope: true, bodyStructure: true, flags: true, internalDate: true, size: true })) fetched.push(msg);
          let n = 0;
          for (const msg of fetched) {
            const i = msg.seq - 1;
            const spec = specs[i]!;
            assert.equal(msg.uid, i + 1);
            assert.equal(msg.envelope!.subject, spec.subject, `subject of ${i}`);
            assert.equal(msg.envelope!.messageId, spec.messageId);
            assert.deepEqual(msg.envelope!.from!.map((a) => ({ name: a.name, address: a.address })), [spec.from]);
            assert.deepEqual(msg.envelope!.to!.map((a) => a.address), spec.to.map((a) => a.address));
            assert.equal(msg.envelope!.date!.getTime(), spec.date.getTime());
            assert.equal((msg.internalDate as Date).getTime(), spec.date.getTime());
            assert.equal(msg.flags!.has('\\Seen'), i % 3 === 0);
            checkStructure(msg.bodyStructure!, expected[i]!, `message ${i}`);
            n++;
          }
          assert.equal(n, 100);

          const one = await c.fetchOne('7', { source: true, uid: true });
          assert.ok(one);
          assert.deepEqual(one.source, raws[6]);
        } finally {
          lock.release();
        }
      } finally {
        await c.logout();
      }
    });

    it('appends and fetches back a 6 MB message byte for byte (streamed both ways)', async () => {
      const c = client(server());
      await c.connect();
      try {
        const r = rng(6);
        const line = (i: number): string => `${i.toString(36).padStart(6, '0')} ${Array.from({ length: 70 }, () => String.fromCharCode(33 + Math.floor(r() * 90))).join('')}\r\n`;
        let body = '';
        for (let i = 0; body.length < 6 * 1024 * 1024; i++) body += line(i);
        const raw = Buffer.from(`Subject: big\r\nContent-Type: text/plain\r\n\r\n${body}`);
        await c.mailboxCreate('Big');
        const res = await c.append('Big', raw);
        assert.ok(res && typeof res === 'object');
        const lock = await c.getMailboxLock('Big');
        try {
          const msg = await c.fetchOne('1', { source: true, size: true });
          assert.ok(msg);
          assert.equal(msg.size, raw.length);
          assert.ok(msg.source!.equals(raw), 'the message comes back byte for byte');
        } finally {
          lock.release();
        }
      } finally {
        await c.logout();
      }
    });

    it('searches, stores flags, copies and expunges', async () => {
      const c = client(server());
      await c.connect();
      try {
        await c.mailboxCreate('Work');
        const subjects = ['Quarterly report', 'Lunch plans', 'Report draft', 'Café meeting'];
        for (const [i, s] of subjects.entries()) {
          const raw = buildMessage({ ...randomMessageSpec(rng(i + 1), i), subject: s }).raw;
          await c.append('Work', raw);
        }
        const lock = await c.getMailboxLock('Work');
        try {
          assert.deepEqual(await c.search({ subject: 'report' }, { uid: true }), [1, 3]);
          assert.deepEqual(await c.search({ subject: 'café' }, { uid: true }), [4]);
          assert.deepEqual(await c.search({ or: [{ uid: '2' }, { subject: 'draft' }] }, { uid: true }), [2, 3]);

          await c.messageFlagsAdd('2:3', ['\\Flagged', '$Important'], { uid: true });
          assert.deepEqual(await c.search({ flagged: true }, { uid: true }), [2, 3]);
          assert.deepEqual(await c.search({ keyword: '$Important' }, { uid: true }), [2, 3]);
          await c.messageFlagsRemove('3', ['\\Flagged'], { uid: true });
          assert.deepEqual(await c.search({ flagged: true }, { uid: true }), [2]);

          const copied = await c.messageCopy('1:2', 'INBOX', { uid: true });
          assert.ok(copied && copied.uidMap && copied.uidMap.size === 2);

          await c.messageDelete('1', { uid: true });
          assert.deepEqual(await c.search({ all: true }, { uid: true }), [2, 3, 4]);
        } finally {
          lock.release();
        }
        const status = await c.status('INBOX', { messages: true });
        assert.ok((status.messages ?? 0) >= 2);
      } finally {
        await c.logout();
      }
    });

    it('tells a second session about an EXPUNGE, and an IDLE session about a new message within a second', async () => {
      const a = client(server());
      const b = client(server());
      await a.connect();
      await b.connect();
      try {
        // Not "Shared": that name is the other users' namespace (docs/sharing.md).
        await a.mailboxCreate('Common');
        for (let i = 0; i < 3; i++) await a.append('Common', buildMessage(randomMessageSpec(rng(99 + i), i)).raw);
        const lockA = await a.getMailboxLock('Common');
        const lockB = await b.getMailboxLock('Common');
        try {
          const expunged: number[] = [];
          b.on('expunge', (e) => expunged.push(e.seq ?? -1));
          await a.messageDelete('2', { uid: true });
          await b.noop();
          assert.deepEqual(expunged, [2]);

          const seen = new Promise<number>((resolve) => b.on('exists', (e) => resolve(e.count)));
          const idling = b.idle();
          await new Promise((r) => setTimeout(r, 100));
          // Served time (served-time.ts): less what other processes' load kept this process off the CPU.
          const clock = servedClock();
          await a.append('Common', buildMessage(randomMessageSpec(rng(7), 7)).raw);
          const count = await Promise.race([seen, new Promise<number>((_, rej) => setTimeout(() => rej(new Error('no EXISTS during IDLE')), WAIT_MS))]);
          assert.equal(count, 3);
          assert.ok(clock.served() < 1000, `EXISTS came ${clock.served().toFixed(0)} ms served (${clock.wall().toFixed(0)} ms as seen) after the APPEND`);
          await b.noop();
          await idling;
        } finally {
          lockA.release();
          lockB.release();
        }
      } finally {
        await a.logout();
        await b.logout();
      }
    });
  });
}
