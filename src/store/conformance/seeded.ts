/** Reads of messages a store already holds (options.seeded): what a read-only store can be checked on. */
import assert from 'node:assert/strict';
import { parseMessage } from '../../mime/index.js';
import { isCrlf } from '../line-ends.js';
import type { SeededMailbox } from './harness.js';
import { collect, rejectsWith, type Register } from './harness.js';

export function seededTests(test: Register, seeded: SeededMailbox): void {
  const uids = seeded.messages.map((_, i) => i + 1);
  const at = async (openExact: (user: string) => Promise<import('../types.js').UserMailbox>) => {
    const mail = await openExact(seeded.user);
    return { mail, box: await mail.get(seeded.mailbox ?? 'INBOX') };
  };

  test.group('seeded messages', () => {
    test.readOnly('snapshot, status and records list the seeded messages with their sizes', async ({ openExact }) => {
      const { mail, box } = await at(openExact);
      const snap = await mail.snapshot(box.id);
      assert.deepEqual(snap.messages.map((m) => m.uid), uids);
      assert.ok(snap.uidNext > uids.length, 'UIDNEXT is above every UID');
      const status = await mail.status(box.id);
      assert.equal(status.messages, uids.length);
      assert.equal(status.uidValidity, snap.uidValidity);
      const records = await mail.records(box.id, [...uids].reverse());
      assert.deepEqual(records.map((r) => r.uid), uids, 'ascending whatever the order asked');
      records.forEach((r, i) => assert.equal(r.size, seeded.messages[i]!.length, `size of UID ${r.uid}`));
    });

    test.readOnly('read, ranges, stream and structure give back the seeded bytes (CRLF when declared)', async ({ openExact, store }) => {
      const { mail, box } = await at(openExact);
      for (const [i, raw] of seeded.messages.entries()) {
        const uid = i + 1;
        assert.ok((await mail.read(box.id, uid)).equals(raw), `read of UID ${uid}`);
        assert.ok((await collect(mail.stream(box.id, uid))).equals(raw), `stream of UID ${uid}`);
        const end = Math.min(raw.length, 20);
        assert.ok((await mail.read(box.id, uid, { start: 3, end })).equals(raw.subarray(3, end)), 'a range');
        assert.ok((await collect(mail.stream(box.id, uid, { start: 3, end }))).equals(raw.subarray(3, end)), 'a streamed range');
        assert.equal((await mail.structure(box.id, uid)).size, parseMessage(raw).size, `structure of UID ${uid}`);
        if (store.lineEnds === 'crlf') assert.ok(isCrlf(raw), `UID ${uid} has CRLF line ends, as lineEnds 'crlf' declares`);
      }
    });

    test.readOnly('stream() looks the message up at the call: a missing UID fails before a byte is read', async ({ openExact }) => {
      const { mail, box } = await at(openExact);
      const missing = uids.length + 100;
      let stream;
      try {
        stream = mail.stream(box.id, missing);
      } catch (err) {
        assert.equal((err as Error).name, 'StoreError');
        return; // throwing at the call is allowed too
      }
      assert.ok(stream.pinned, 'a stream of a message that is not there says so through `pinned` (pinnedStream() does it)');
      await rejectsWith(stream.pinned, 'nonexistent');
      await collect(stream).catch(() => undefined);
    });

    test.readOnly('search ALL finds the seeded messages', async ({ openExact }) => {
      const { mail, box } = await at(openExact);
      assert.deepEqual(await mail.search(box.id, { type: 'all' }), uids);
    });
  });
}
