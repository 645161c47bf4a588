/**
 * imapflow with QRESYNC enabled (it sends ENABLE QRESYNC when asked to, then SELECT … (QRESYNC …)
 * when given the UIDVALIDITY and mod-sequence it last saw): a client that reconnects learns of the
 * expunges and flag changes another session made meanwhile without refetching the mailbox, and
 * while selected hears later expunges as VANISHED with UIDs. Every store.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow, type ExpungeEvent, type FlagsEvent } from 'imapflow';
import { serverForSuite, type TestServer } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';

function client(server: TestServer, qresync: boolean, expunged?: ExpungeEvent[]): ImapFlow {
  return new ImapFlow({
    host: server.host,
    port: server.port,
    secure: false,
    auth: { user: 'alice', pass: 'secret' },
    tls: { rejectUnauthorized: false },
    logger: false,
    disableAutoIdle: true,
    qresync,
    ...(expunged ? { expungeHandler: (e: ExpungeEvent) => void expunged.push(e) } : {}),
  });
}

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`imapflow with QRESYNC (${storeName} store)`, () => {
    const server = serverForSuite(factory);

    it('resynchronises across expunges and flag changes made by another session', async () => {
      const other = client(server(), false);
      await other.connect();
      for (let i = 1; i <= 10; i++) await other.append('INBOX', `Subject: m${i}\r\n\r\nbody ${i}\r\n`);

      // First session: learns the mailbox and remembers where it stopped.
      const first = client(server(), true);
      await first.connect();
      assert.ok(first.enabled.has('QRESYNC'), 'QRESYNC enabled');
      const opened = await first.mailboxOpen('INBOX');
      const uidValidity = opened.uidValidity;
      const modseq = opened.highestModseq!;
      assert.ok(modseq > 0n || Number(modseq) > 0);
      await first.logout();

      // Meanwhile another session deletes two messages and flags one.
      await other.mailboxOpen('INBOX');
      await other.messageFlagsAdd('7', ['\\Flagged'], { uid: true });
      await other.messageDelete('2,5', { uid: true });

      // The client comes back with what it knew: VANISHED (EARLIER) and the changed message only.
      const expunged: ExpungeEvent[] = [];
      const flags: FlagsEvent[] = [];
      const again = client(server(), true, expunged);
      again.on('flags', (e: FlagsEvent) => flags.push(e));
      await again.connect();
      const box = await again.mailboxOpen('INBOX', { uidValidity, changedSince: modseq } as Parameters<ImapFlow['mailboxOpen']>[1]);
      assert.equal(box.exists, 8);
      assert.deepEqual(
        expunged.map((e) => [e.uid, e.vanished, e.earlier]),
        [
          [2, true, true],
          [5, true, true],
        ],
      );
      assert.deepEqual(
        flags.map((f) => [f.uid, [...f.flags].sort()]),
        [[7, ['\\Flagged']]],
      );

      // While selected: another session's expunge arrives as VANISHED with its UID.
      expunged.length = 0;
      await other.messageDelete('9', { uid: true });
      await again.noop();
      assert.deepEqual(
        expunged.map((e) => [e.uid, e.vanished, e.earlier]),
        [[9, true, false]],
      );

      // UID FETCH … (CHANGEDSINCE … VANISHED): imapflow adds VANISHED once QRESYNC is on.
      expunged.length = 0;
      const changed = [];
      for await (const m of again.fetch('1:*', { uid: true, flags: true }, { uid: true, changedSince: modseq })) changed.push(m.uid);
      assert.deepEqual(changed, [7]);
      assert.deepEqual(
        expunged.map((e) => [e.uid, e.earlier]),
        [
          [2, true],
          [5, true],
          [9, true],
        ],
      );
      await again.logout();
      await other.logout();
    });
  });
}
