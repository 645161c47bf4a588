/** Message bytes in and out: streamed appends, ranges, streams, structure. */
import assert from 'node:assert/strict';
import { chunksOf, collect, rejectsWith, type Register } from './harness.js';
import { awkwardMessage, bigMessage, encodedMessage, simpleMessage } from './fixtures.js';
import { headerRange, messageHeads } from '../message-heads.js';
import type { MessageHead } from '../types.js';

export function contentTests(test: Register): void {
  test.group('message content', () => {
    test('append from an async iterable of chunks stores exactly the same bytes', async ({ open }) => {
      const a = await open();
      const inbox = await a.get('INBOX');
      const { uid } = await a.append(inbox.id, { content: chunksOf(encodedMessage, [1, 0, 7, 64, 3]) });
      assert.deepEqual(await a.read(inbox.id, uid), encodedMessage);
      assert.equal((await a.records(inbox.id, [uid]))[0]!.size, encodedMessage.length);
    });

    test('arbitrary bytes (NUL, 8-bit, bare LF) survive unchanged', async ({ open }) => {
      const a = await open();
      const inbox = await a.get('INBOX');
      const { uid } = await a.append(inbox.id, { content: chunksOf(awkwardMessage, [5, 5, 5]) });
      assert.deepEqual(await a.read(inbox.id, uid), awkwardMessage);
      assert.deepEqual(await collect(a.stream(inbox.id, uid)), awkwardMessage);
    });

    test('read with a byte range returns [start, end), clamped to the message', async ({ open }) => {
      const a = await open();
      const inbox = await a.get('INBOX');
      const raw = simpleMessage();
      const { uid } = await a.append(inbox.id, { content: raw });
      assert.deepEqual(await a.read(inbox.id, uid, { start: 6, end: 11 }), raw.subarray(6, 11));
      assert.deepEqual(await a.read(inbox.id, uid, { start: 0, end: 1 }), raw.subarray(0, 1));
      assert.deepEqual(await a.read(inbox.id, uid, { start: raw.length - 3, end: raw.length + 100 }), raw.subarray(raw.length - 3));
      assert.equal((await a.read(inbox.id, uid, { start: raw.length + 5, end: raw.length + 10 })).length, 0);
      assert.equal((await a.read(inbox.id, uid, { start: 4, end: 4 })).length, 0);
    });

    test('a stream asked for before an EXPUNGE still yields the whole message (FETCH asks first, reads later)', async ({ open }) => {
      const a = await open();
      const inbox = await a.get('INBOX');
      // Unique bytes, so the expunge takes the last reference to them.
      const small = Buffer.concat([simpleMessage(), Buffer.from(`X-Unique: ${Math.random()}\r\n`)]);
      const big = Buffer.concat([bigMessage(600 * 1024), Buffer.from(`\r\nX-Unique: ${Math.random()}\r\n`)]);
      const uids = [(await a.append(inbox.id, { content: small })).uid, (await a.append(inbox.id, { content: big })).uid];
      const streams = [a.stream(inbox.id, uids[0]!), a.stream(inbox.id, uids[1]!, { start: 100, end: 500_100 })];
      await a.updateFlags(inbox.id, uids, 'add', ['\\Deleted']);
      assert.deepEqual(await a.expunge(inbox.id), uids);
      assert.deepEqual(await collect(streams[0]!), small);
      assert.ok((await collect(streams[1]!)).equals(big.subarray(100, 500_100)));
    });

    test('an APPEND of bytes an EXPUNGE is deleting at the same moment succeeds, small or large', async ({ open }) => {
      const a = await open();
      const b = await open('alice', 'other-session');
      const inbox = await a.get('INBOX');
      for (const raw of [
        Buffer.concat([simpleMessage(), Buffer.from(`X-Unique: ${Math.random()}\r\n`)]),
        Buffer.concat([bigMessage(600 * 1024), Buffer.from(`\r\nX-Unique: ${Math.random()}\r\n`)]),
      ]) {
        // The only other copy of these bytes goes away while the APPEND is on its way in: identical
        // content is stored once, and the APPEND must not lose that race (issue 14).
        const { uid: old } = await a.append(inbox.id, { content: raw, flags: ['\\Deleted'] });
        const appending = a.append(inbox.id, { content: raw });
        const expunging = b.expunge(inbox.id);
        const [appended, expunged] = await Promise.all([appending, expunging]);
        assert.deepEqual(expunged, [old]);
        assert.ok((await a.read(inbox.id, appended.uid)).equals(raw));
        assert.equal((await a.structure(inbox.id, appended.uid)).size, raw.length);
        assert.ok((await collect(a.stream(inbox.id, appended.uid))).equals(raw));
      }
    });

    test('a 1 MiB message streams in and out intact, in more than one chunk', async ({ open }) => {
      const a = await open();
      const inbox = await a.get('INBOX');
      const raw = bigMessage(1024 * 1024);
      const sizes = Array.from({ length: 40 }, (_, i) => 1000 + i * 997);
      const { uid } = await a.append(inbox.id, { content: chunksOf(raw, sizes) });
      const parts: Buffer[] = [];
      for await (const part of a.stream(inbox.id, uid)) parts.push(Buffer.from(part));
      assert.ok(parts.length > 1, 'a large body is streamed in pieces');
      assert.ok(Buffer.concat(parts).equals(raw));
      const ranged = await collect(a.stream(inbox.id, uid, { start: 500_000, end: 700_001 }));
      assert.ok(ranged.equals(raw.subarray(500_000, 700_001)));
      assert.equal((await a.status(inbox.id)).size, raw.length);
    });

    test('structure is present and describes the message', async ({ open }) => {
      const a = await open();
      const inbox = await a.get('INBOX');
      const { uid } = await a.append(inbox.id, { content: encodedMessage });
      const s = await a.structure(inbox.id, uid);
      assert.equal(s.size, encodedMessage.length);
      assert.equal(s.root.contentType.type.toLowerCase(), 'multipart');
      assert.equal(s.root.parts?.length, 2);
      assert.equal(s.envelope.date, 'Tue, 1 Jul 2003 23:30:00 -0700');
      const copy = await a.copy(inbox.id, [uid], inbox.id);
      assert.deepEqual(await a.structure(inbox.id, copy.mapping[0]![1]), s);
    });

    test('messageHeads (optional; the fallback otherwise): structures and header blocks of many messages, as structure() and read() give them', async ({ open }) => {
      const a = await open();
      const inbox = await a.get('INBOX');
      const headerOnly = Buffer.from(`Subject: no body ${Math.random()}\r\nFrom: a@example.com\r\n`);
      const big = Buffer.concat([Buffer.from(`X-Unique: ${Math.random()}\r\n`), bigMessage(600 * 1024)]);
      const uids: number[] = [];
      for (const raw of [simpleMessage({ subject: 'one' }), encodedMessage, headerOnly, big, awkwardMessage]) uids.push((await a.append(inbox.id, { content: raw })).uid);
      const { uid: gone } = await a.append(inbox.id, { content: simpleMessage(), flags: ['\\Deleted'] });
      await a.expunge(inbox.id);
      // Unsorted, with a duplicate, an expunged and a never-used UID: ascending, each once, missing skipped.
      const asked = [uids[3]!, uids[0]!, gone, uids[4]!, uids[1]!, uids[0]!, 9999, uids[2]!];
      const expected = async (uid: number): Promise<MessageHead> => {
        const structure = await a.structure(inbox.id, uid);
        return { uid, structure, header: await a.read(inbox.id, uid, headerRange(structure)) };
      };
      const want = await Promise.all(uids.map(expected));
      const viaHelper = await messageHeads(a, inbox.id, asked, { header: true });
      // Twice: a store that caches answers the second from what it kept.
      for (const heads of [viaHelper, await messageHeads(a, inbox.id, asked, { header: true })]) {
        assert.deepEqual(heads.map((h) => h.uid), uids);
        for (let i = 0; i < uids.length; i++) {
          assert.deepEqual(heads[i]!.structure, want[i]!.structure, `structure of UID ${uids[i]}`);
          assert.ok(Buffer.isBuffer(heads[i]!.header) && heads[i]!.header!.equals(want[i]!.header!), `header of UID ${uids[i]}`);
        }
      }
      assert.ok(viaHelper[2]!.header!.equals(headerOnly), 'a message that is all header: the whole of it');
      assert.ok(viaHelper[3]!.header!.equals(big.subarray(0, viaHelper[3]!.structure.root.bodyStart)));
      const bare = await messageHeads(a, inbox.id, asked);
      assert.deepEqual(bare.map((h) => h.uid), uids);
      for (const h of bare) assert.equal(h.header, undefined, 'no header unless asked');
      assert.deepEqual(await messageHeads(a, inbox.id, []), []);
      await rejectsWith(messageHeads(a, 'no-such-mailbox-id', [1], { header: true }), 'nonexistent');
    });

    test.readOnly('reading a missing message or from a missing mailbox fails with nonexistent', async ({ open }) => {
      const a = await open();
      const inbox = await a.get('INBOX');
      await rejectsWith(a.read(inbox.id, 77), 'nonexistent');
      await rejectsWith(a.structure(inbox.id, 77), 'nonexistent');
      await rejectsWith(collect(a.stream(inbox.id, 77)), 'nonexistent');
      // A stream that could not pin says so in `pinned` too (when the store offers it), so FETCH
      // can skip the message instead of announcing a literal it cannot fill.
      const missing = a.stream(inbox.id, 77);
      if (missing.pinned) await rejectsWith(missing.pinned, 'nonexistent');
      await collect(missing).catch(() => undefined);
      await rejectsWith(a.read('no-such-mailbox-id', 1), 'nonexistent');
      await rejectsWith(a.records('no-such-mailbox-id', [1]), 'nonexistent');
    });

    test('a stream of a message already expunged says so before a byte is read (pinned rejects)', async ({ open }) => {
      const a = await open();
      const inbox = await a.get('INBOX');
      const { uid } = await a.append(inbox.id, { content: bigMessage(200 * 1024), flags: ['\\Deleted'] });
      await a.expunge(inbox.id);
      let stream;
      try {
        stream = a.stream(inbox.id, uid);
      } catch (err) {
        return rejectsWith(Promise.reject(err), 'nonexistent');
      }
      assert.ok(stream.pinned, 'FETCH learns of it before announcing a literal');
      await rejectsWith(stream.pinned, 'nonexistent');
      await rejectsWith(collect(stream), 'nonexistent');
    });

    test('internal date defaults to about now and is kept when given', async ({ open }) => {
      const a = await open();
      const inbox = await a.get('INBOX');
      const before = Date.now();
      const { uid } = await a.append(inbox.id, { content: simpleMessage() });
      const [record] = await a.records(inbox.id, [uid]);
      assert.ok(Math.abs(record!.internalDate.getTime() - before) < 60_000);
      const given = new Date('1999-12-31T23:59:59.000Z');
      const second = await a.append(inbox.id, { content: simpleMessage(), internalDate: given });
      assert.equal((await a.records(inbox.id, [second.uid]))[0]!.internalDate.toISOString(), given.toISOString());
    });
  });
}
