/** UIDs, UIDVALIDITY, modseq, flags, copy/move/expunge and \Recent bookkeeping. */
import assert from 'node:assert/strict';
import { eventually, flagSet, rejectsWith, type Register } from './harness.js';
import { simpleMessage } from './fixtures.js';
import type { UserMailbox } from '../types.js';

async function fill(a: UserMailbox, mailboxId: string, count: number, flags: string[][] = []): Promise<number[]> {
  const uids: number[] = [];
  for (let i = 0; i < count; i++) {
    const r = await a.append(mailboxId, { content: simpleMessage({ subject: `message ${i + 1}` }), flags: flags[i] ?? [] });
    uids.push(r.uid);
  }
  return uids;
}

export function messageTests(test: Register): void {
  test.group('UIDs and UIDVALIDITY (RFC 3501 §2.3.1.1)', () => {
    test('UIDs strictly increase and stay below UIDNEXT; append reports the mailbox UIDVALIDITY', async ({ open }) => {
      const a = await open();
      const inbox = await a.get('INBOX');
      const results = [];
      for (let i = 0; i < 5; i++) results.push(await a.append(inbox.id, { content: simpleMessage() }));
      const status = await a.status(inbox.id);
      for (let i = 1; i < results.length; i++) assert.ok(results[i]!.uid > results[i - 1]!.uid);
      assert.ok(results[0]!.uid >= 1);
      assert.ok(status.uidNext > results[4]!.uid);
      for (const r of results) assert.equal(r.uidValidity, status.uidValidity);
      assert.ok(Number.isInteger(status.uidValidity) && status.uidValidity >= 1 && status.uidValidity <= 0xffffffff);
      assert.deepEqual((await a.snapshot(inbox.id)).messages.map((m) => m.uid), results.map((r) => r.uid));
    });

    test('UIDs are never reused after expunge and re-append', async ({ open }) => {
      const a = await open();
      const inbox = await a.get('INBOX');
      const [, second] = await fill(a, inbox.id, 2, [[], ['\\Deleted']]);
      assert.deepEqual(await a.expunge(inbox.id), [second]);
      const again = await a.append(inbox.id, { content: simpleMessage() });
      assert.ok(again.uid > second!, `new UID ${again.uid} must exceed expunged ${second}`);
    });

    test('snapshot lists every message in ascending UID order with flags and modseq', async ({ open }) => {
      const a = await open();
      const inbox = await a.get('INBOX');
      const uids = await fill(a, inbox.id, 3, [['\\Seen'], [], ['$Label']]);
      const snap = await a.snapshot(inbox.id);
      assert.equal(snap.mailbox.id, inbox.id);
      assert.deepEqual(snap.messages.map((m) => m.uid), uids);
      assert.deepEqual(snap.messages.map((m) => m.flags), [['\\Seen'], [], ['$Label']]);
      for (const m of snap.messages) assert.ok(m.modseq >= 1 && m.modseq <= snap.highestModseq);
      assert.equal(snap.uidNext, (await a.status(inbox.id)).uidNext);
    });
  });

  test.group('appendMany (optional, RFC 3502 MULTIAPPEND)', () => {
    test('adds every message in order with consecutive UIDs, or none; one exists change', async ({ open, store }) => {
      const a = await open();
      if (!a.appendMany) return; // optional: the IMAP layer appends one by one instead
      const inbox = await a.get('INBOX');
      const changes: number[][] = [];
      const stop = store.watch(a.user, (c) => {
        if (c.kind === 'exists' && c.mailboxId === inbox.id) changes.push(c.uids);
      });
      try {
        const before = await a.status(inbox.id);
        const results = await a.appendMany(inbox.id, [
          { content: simpleMessage({ subject: 'm1' }), flags: ['\\Seen'] },
          { content: simpleMessage({ subject: 'm2' }) },
          { content: simpleMessage({ subject: 'm1' }), flags: ['$Same'] }, // the same bytes as the first: stored once or twice, both fine
        ]);
        assert.equal(results.length, 3);
        for (let i = 1; i < 3; i++) assert.equal(results[i]!.uid, results[i - 1]!.uid + 1);
        for (const r of results) assert.equal(r.uidValidity, before.uidValidity);
        const snap = await a.snapshot(inbox.id);
        assert.deepEqual(snap.messages.map((m) => m.uid), results.map((r) => r.uid));
        assert.deepEqual(snap.messages.map((m) => m.flags), [['\\Seen'], [], ['$Same']]);
        assert.ok(snap.highestModseq >= Math.max(...results.map((r) => r.modseq)));
        assert.equal((await a.status(inbox.id)).messages, 3);
        assert.equal((await a.read(inbox.id, results[1]!.uid)).toString().includes('m2'), true);
        await eventually(() => changes.length > 0, 'the exists change');
        assert.deepEqual(changes.flat(), results.map((r) => r.uid));
        assert.deepEqual(await a.appendMany(inbox.id, []), []);
        await rejectsWith(a.appendMany('999999', [{ content: simpleMessage() }]), 'nonexistent');
        // An invalid message in the middle (a bad internal date) adds none of them.
        await assert.rejects(a.appendMany(inbox.id, [{ content: simpleMessage() }, { content: simpleMessage(), internalDate: new Date(NaN) }]));
        assert.equal((await a.status(inbox.id)).messages, 3);
      } finally {
        stop();
      }
    });

    test('messages that come one after another (an async iterable): all added; a failure mid-way adds none', async ({ open }) => {
      const a = await open();
      if (!a.appendMany) return;
      const inbox = await a.get('INBOX');
      async function* three(failAt?: number) {
        for (let i = 1; i <= 3; i++) {
          if (i === failAt) throw new Error('the client went away');
          yield { content: (async function* () { yield simpleMessage({ subject: `lazy ${i}` }); })() };
        }
      }
      await assert.rejects(a.appendMany(inbox.id, three(3)), /went away/);
      assert.equal((await a.status(inbox.id)).messages, 0);
      const results = await a.appendMany(inbox.id, three());
      assert.equal(results.length, 3);
      assert.equal((await a.status(inbox.id)).messages, 3);
    });
  });

  test.group('replace (optional, RFC 8508 REPLACE)', () => {
    test('appends the new message and removes the old one in one write; a failed append removes nothing', async ({ open }) => {
      const a = await open();
      if (!a.replace) return; // optional: replaceMessage() appends, then expunges
      const inbox = await a.get('INBOX');
      const sent = await a.create('Sent');
      const [old] = await fill(a, inbox.id, 1);
      const same = await a.replace(inbox.id, old!, inbox.id, { content: simpleMessage({ subject: 'v2' }), flags: ['\\Draft'] });
      assert.equal(same.expunged, true);
      let snap = await a.snapshot(inbox.id);
      assert.deepEqual(snap.messages.map((m) => m.uid), [same.appended.uid]);
      assert.deepEqual(snap.messages[0]!.flags, ['\\Draft']);
      const across = await a.replace(inbox.id, same.appended.uid, sent.id, { content: simpleMessage({ subject: 'v3' }) });
      assert.equal(across.expunged, true);
      assert.equal((await a.status(inbox.id)).messages, 0);
      assert.equal((await a.status(sent.id)).messages, 1);
      // The old message gone meanwhile: the new one is kept, nothing else removed.
      const gone = await a.replace(inbox.id, 999, sent.id, { content: simpleMessage({ subject: 'v4' }) });
      assert.equal(gone.expunged, false);
      assert.equal((await a.status(sent.id)).messages, 2);
      // A failing append (bad internal date) leaves the old message where it was.
      await assert.rejects(a.replace(sent.id, across.appended.uid, sent.id, { content: simpleMessage(), internalDate: new Date(NaN) }));
      snap = await a.snapshot(sent.id);
      assert.ok(snap.messages.some((m) => m.uid === across.appended.uid));
    });
  });

  test.group('modseq (RFC 7162)', () => {
    test('expungedSince (optional, QRESYNC): expunged UIDs after a modseq, by expunge, move and rename of INBOX', async ({ open }) => {
      const a = await open();
      if (!a.expungedSince) return; // optional: the IMAP layer answers from the known UIDs instead
      const inbox = await a.get('INBOX');
      const other = await a.create('Other');
      const uids = await fill(a, inbox.id, 6, [['\\Deleted'], [], ['\\Deleted'], [], [], []]);
      const h0 = (await a.status(inbox.id)).highestModseq;
      assert.deepEqual(await a.expungedSince(inbox.id, h0), []);
      await a.expunge(inbox.id);
      const h1 = (await a.status(inbox.id)).highestModseq;
      assert.ok(h1 > h0);
      await a.move(inbox.id, [uids[3]!], other.id);
      const h2 = (await a.status(inbox.id)).highestModseq;
      assert.deepEqual(await a.expungedSince(inbox.id, h0), [uids[0], uids[2], uids[3]]);
      assert.deepEqual(await a.expungedSince(inbox.id, h1), [uids[3]]);
      assert.deepEqual(await a.expungedSince(inbox.id, h2), []);
      // Flag changes raise the modseq without expunging anything.
      await a.updateFlags(inbox.id, [uids[1]!], 'add', ['\\Seen']);
      assert.deepEqual(await a.expungedSince(inbox.id, h2), []);
      await a.rename('INBOX', 'Old');
      const left = await a.expungedSince(inbox.id, h2);
      assert.deepEqual(left, [uids[1], uids[4], uids[5]]);
      await rejectsWith(a.expungedSince('999999', 0), 'nonexistent');
    });

    test('changedSince (optional, CONDSTORE): the messages changed after a modseq, by UID, with current flags', async ({ open }) => {
      const a = await open();
      if (!a.changedSince) return; // optional: the IMAP layer filters the snapshot instead
      const inbox = await a.get('INBOX');
      const other = await a.create('Other');
      const uids = await fill(a, inbox.id, 6);
      const h0 = (await a.status(inbox.id)).highestModseq;
      assert.deepEqual(await a.changedSince(inbox.id, h0), []);
      const all = await a.changedSince(inbox.id, 0);
      assert.deepEqual(all.map((m) => m.uid), uids);
      // Changed out of UID order, one of them twice: each appears once, ascending, as it is now.
      await a.updateFlags(inbox.id, [uids[4]!], 'add', ['\\Flagged']);
      await a.updateFlags(inbox.id, [uids[1]!], 'add', ['\\Seen']);
      const h1 = (await a.status(inbox.id)).highestModseq;
      await a.updateFlags(inbox.id, [uids[4]!], 'add', ['$Done']);
      await a.updateFlags(inbox.id, [uids[2]!], 'add', ['\\Deleted']);
      const changed = await a.changedSince(inbox.id, h0);
      assert.deepEqual(changed.map((m) => m.uid), [uids[1], uids[2], uids[4]]);
      assert.deepEqual(flagSet(changed[2]!.flags), flagSet(['\\Flagged', '$Done']));
      const snap = await a.snapshot(inbox.id);
      for (const m of changed) assert.equal(m.modseq, snap.messages.find((s) => s.uid === m.uid)!.modseq);
      assert.deepEqual((await a.changedSince(inbox.id, h1)).map((m) => m.uid), [uids[2], uids[4]]);
      // Expunged and moved messages are gone; a copy is a change in its new mailbox.
      await a.expunge(inbox.id);
      await a.move(inbox.id, [uids[4]!], other.id);
      assert.deepEqual((await a.changedSince(inbox.id, h0)).map((m) => m.uid), [uids[1]]);
      const hOther = (await a.status(other.id)).highestModseq;
      await a.copy(inbox.id, [uids[0]!], other.id);
      assert.equal((await a.changedSince(other.id, hOther)).length, 1);
      // Many changes (past any compaction a store does): still exactly the changed set.
      for (let round = 0; round < 3; round++) for (const uid of [uids[0]!, uids[3]!]) await a.updateFlags(inbox.id, [uid], round % 2 ? 'remove' : 'add', ['$R']);
      const h2 = (await a.status(inbox.id)).highestModseq;
      assert.deepEqual(await a.changedSince(inbox.id, h2), []);
      assert.deepEqual((await a.changedSince(inbox.id, h0)).map((m) => m.uid), [uids[0], uids[1], uids[3]]);
      await rejectsWith(a.changedSince('999999', 0), 'nonexistent');
    });

    test('append, flag change and expunge each raise HIGHESTMODSEQ', async ({ open }) => {
      const a = await open();
      const inbox = await a.get('INBOX');
      const h0 = (await a.status(inbox.id)).highestModseq;
      const first = await a.append(inbox.id, { content: simpleMessage() });
      const h1 = (await a.status(inbox.id)).highestModseq;
      assert.ok(h1 > h0);
      assert.equal(first.modseq, h1);
      const second = await a.append(inbox.id, { content: simpleMessage() });
      assert.ok(second.modseq > first.modseq);
      const { changed } = await a.updateFlags(inbox.id, [first.uid], 'add', ['\\Deleted']);
      const h2 = (await a.status(inbox.id)).highestModseq;
      assert.equal(changed.length, 1);
      assert.ok(changed[0]!.modseq > second.modseq);
      assert.equal(h2, changed[0]!.modseq);
      await a.expunge(inbox.id);
      assert.ok((await a.status(inbox.id)).highestModseq > h2);
    });

    test('every changed message gets a modseq above its old one', async ({ open }) => {
      const a = await open();
      const inbox = await a.get('INBOX');
      const uids = await fill(a, inbox.id, 3);
      const before = (await a.snapshot(inbox.id)).messages;
      await a.updateFlags(inbox.id, uids, 'add', ['\\Flagged']);
      const after = (await a.snapshot(inbox.id)).messages;
      for (let i = 0; i < uids.length; i++) assert.ok(after[i]!.modseq > before[i]!.modseq);
    });
  });

  test.group('flags', () => {
    test('append normalises flags: system flags canonical, no \\Recent, no duplicates, keywords as given', async ({ open }) => {
      const a = await open();
      const inbox = await a.get('INBOX');
      const { uid } = await a.append(inbox.id, { content: simpleMessage(), flags: ['\\seen', '\\SEEN', '\\Recent', '$Forwarded', '$forwarded', 'Work'] });
      const [record] = await a.records(inbox.id, [uid]);
      assert.deepEqual([...record!.flags].sort(), ['$Forwarded', 'Work', '\\Seen'].sort());
    });

    test('updateFlags with maxKeywords fails with limit, changing nothing, also when many run at once', async ({ open }) => {
      const a = await open();
      const inbox = await a.get('INBOX');
      const uids = await fill(a, inbox.id, 6, [['One'], ['two']]);
      await rejectsWith(a.updateFlags(inbox.id, [uids[2]!], 'add', ['three', '\\Seen'], { maxKeywords: 2 }), 'limit');
      assert.deepEqual((await a.records(inbox.id, [uids[2]!]))[0]!.flags, []);
      // Keywords already in the mailbox always fit, in any spelling; removing never counts.
      await a.updateFlags(inbox.id, [uids[2]!], 'set', ['one', 'TWO'], { maxKeywords: 2 });
      await a.updateFlags(inbox.id, [uids[2]!], 'remove', ['one', 'new'], { maxKeywords: 2 });
      const handles = await Promise.all([open(), open(), open()]);
      const outcomes = await Promise.allSettled(
        uids.slice(3).flatMap((uid, i) => [0, 1, 2].map((j) => handles[j]!.updateFlags(inbox.id, [uid], 'add', [`par${i}-${j}`], { maxKeywords: 5 }))),
      );
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 3);
      const keywords = new Set((await a.records(inbox.id, uids)).flatMap((r) => r.flags.map((f) => f.toLowerCase())));
      assert.equal(keywords.size, 5);
    });

    test('append, copy and move with maxKeywords fail with limit, writing nothing, also when many run at once', async ({ open }) => {
      const a = await open();
      const inbox = await a.get('INBOX');
      const other = await a.create('Other');
      await fill(a, inbox.id, 2, [['One'], ['two']]);
      const simple = (): { content: Buffer; flags: string[] } => ({ content: simpleMessage(), flags: ['three'] });
      await rejectsWith(a.append(inbox.id, simple(), { maxKeywords: 2 }), 'limit');
      assert.equal((await a.status(inbox.id)).messages, 2);
      await a.append(inbox.id, { content: simpleMessage(), flags: ['ONE', '\\Seen'] }, { maxKeywords: 2 }); // known keyword: fits
      const [o1, o2] = await fill(a, other.id, 2, [['three'], ['one']]);
      await rejectsWith(a.copy(other.id, [o1!, o2!], inbox.id, { maxKeywords: 2 }), 'limit');
      await rejectsWith(a.move(other.id, [o1!], inbox.id, { maxKeywords: 2 }), 'limit');
      assert.equal((await a.status(inbox.id)).messages, 3);
      assert.equal((await a.status(other.id)).messages, 2);
      assert.equal((await a.copy(other.id, [o2!], inbox.id, { maxKeywords: 2 })).mapping.length, 1);
      assert.equal((await a.move(other.id, [o1!], inbox.id, { maxKeywords: 3 })).mapping.length, 1);
      // Parallel APPENDs of new keywords: the count is taken inside each write.
      const handles = await Promise.all([open(), open(), open()]);
      const outcomes = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) => handles[i % 3]!.append(inbox.id, { content: simpleMessage(), flags: [`par${i}`] }, { maxKeywords: 5 })),
      );
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 2);
      const snapshot = await a.snapshot(inbox.id);
      const keywords = new Set(snapshot.messages.flatMap((m) => m.flags.filter((f) => !f.startsWith('\\')).map((f) => f.toLowerCase())));
      assert.equal(keywords.size, 5);
    });

    test('add, remove and set report only messages whose flags changed', async ({ open }) => {
      const a = await open();
      const inbox = await a.get('INBOX');
      const [u1, u2] = await fill(a, inbox.id, 2, [['\\Seen'], []]);
      const added = await a.updateFlags(inbox.id, [u1!, u2!], 'add', ['\\Seen']);
      assert.deepEqual(added.changed.map((c) => c.uid), [u2]);
      assert.deepEqual(added.changed[0]!.flags, ['\\Seen']);
      assert.deepEqual(added.conflicts, []);
      const removed = await a.updateFlags(inbox.id, [u1!, u2!], 'remove', ['\\SEEN']);
      assert.deepEqual(removed.changed.map((c) => c.uid), [u1, u2]);
      const set = await a.updateFlags(inbox.id, [u1!, u2!], 'set', ['\\Answered', 'todo']);
      assert.deepEqual(set.changed.map((c) => c.uid), [u1, u2]);
      const same = await a.updateFlags(inbox.id, [u1!, u2!], 'set', ['todo', '\\answered']);
      assert.deepEqual(same.changed, [], 'setting the same flags changes nothing');
      const records = await a.records(inbox.id, [u1!, u2!]);
      for (const r of records) assert.deepEqual(flagSet(r.flags), flagSet(['\\Answered', 'todo']));
    });

    test('\\Recent cannot be stored and unknown UIDs are ignored', async ({ open }) => {
      const a = await open();
      const inbox = await a.get('INBOX');
      const [uid] = await fill(a, inbox.id, 1);
      const result = await a.updateFlags(inbox.id, [uid!, 9999], 'add', ['\\Recent']);
      assert.deepEqual(result.changed, []);
      assert.deepEqual((await a.records(inbox.id, [uid!]))[0]!.flags, []);
    });

    test('UNCHANGEDSINCE: messages modified later are conflicts and stay untouched', async ({ open }) => {
      const a = await open();
      const inbox = await a.get('INBOX');
      const [u1, u2] = await fill(a, inbox.id, 2);
      const mark = (await a.status(inbox.id)).highestModseq;
      await a.updateFlags(inbox.id, [u2!], 'add', ['$Seen-elsewhere']);
      const result = await a.updateFlags(inbox.id, [u1!, u2!], 'add', ['\\Flagged'], { unchangedSince: mark });
      assert.deepEqual(result.changed.map((c) => c.uid), [u1]);
      assert.deepEqual(result.conflicts, [u2]);
      const [r2] = await a.records(inbox.id, [u2!]);
      assert.ok(!r2!.flags.includes('\\Flagged'));
    });
  });

  test.group('records, copy, move, expunge', () => {
    test('records: ascending, missing UIDs skipped, sizes and internal dates as appended', async ({ open }) => {
      const a = await open();
      const inbox = await a.get('INBOX');
      const date = new Date('2021-03-04T05:06:07.000Z');
      const body = simpleMessage({ body: 'sized' });
      const { uid } = await a.append(inbox.id, { content: body, internalDate: date, flags: ['\\Draft'] });
      const [other] = await fill(a, inbox.id, 1);
      const records = await a.records(inbox.id, [other!, 424242, uid]);
      assert.deepEqual(records.map((r) => r.uid), [uid, other]);
      assert.equal(records[0]!.size, body.length);
      assert.equal(records[0]!.internalDate.getTime(), date.getTime());
      assert.deepEqual(records[0]!.flags, ['\\Draft']);
    });

    test('copy: mapping in ascending source order, bytes, flags and dates preserved, source untouched', async ({ open }) => {
      const a = await open();
      const inbox = await a.get('INBOX');
      const dest = await a.create('Archive');
      const date = new Date('2020-01-02T03:04:05.000Z');
      const m1 = await a.append(inbox.id, { content: simpleMessage({ subject: 'one' }), flags: ['\\Seen'], internalDate: date });
      const m2 = await a.append(inbox.id, { content: simpleMessage({ subject: 'two' }), flags: ['$Keep'] });
      const result = await a.copy(inbox.id, [m2.uid, m1.uid, 31337], dest.id);
      const destStatus = await a.status(dest.id);
      assert.equal(result.uidValidity, destStatus.uidValidity);
      assert.deepEqual(result.mapping.map(([from]) => from), [m1.uid, m2.uid]);
      assert.ok(result.mapping[1]![1] > result.mapping[0]![1]);
      const [[, c1], [, c2]] = result.mapping as [[number, number], [number, number]];
      assert.deepEqual(await a.read(dest.id, c1), await a.read(inbox.id, m1.uid));
      assert.deepEqual(await a.read(dest.id, c2), await a.read(inbox.id, m2.uid));
      const [r1] = await a.records(dest.id, [c1]);
      assert.deepEqual(r1!.flags, ['\\Seen']);
      assert.equal(r1!.internalDate.getTime(), date.getTime());
      assert.equal((await a.status(inbox.id)).messages, 2);
      assert.equal(destStatus.messages, 2);
    });

    test('copy into the same mailbox gives new UIDs', async ({ open }) => {
      const a = await open();
      const inbox = await a.get('INBOX');
      const [uid] = await fill(a, inbox.id, 1);
      const result = await a.copy(inbox.id, [uid!], inbox.id);
      assert.equal(result.mapping.length, 1);
      assert.ok(result.mapping[0]![1] > uid!);
      assert.equal((await a.status(inbox.id)).messages, 2);
    });

    test('copy or move to a missing mailbox fails with nonexistent and changes nothing', async ({ open }) => {
      const a = await open();
      const inbox = await a.get('INBOX');
      const gone = await a.create('gone');
      await a.delete('gone');
      const [uid] = await fill(a, inbox.id, 1);
      await rejectsWith(a.copy(inbox.id, [uid!], gone.id), 'nonexistent');
      await rejectsWith(a.move(inbox.id, [uid!], gone.id), 'nonexistent');
      assert.equal((await a.status(inbox.id)).messages, 1);
    });

    test('move: destination gains, source loses, mapping reported', async ({ open }) => {
      const a = await open();
      const inbox = await a.get('INBOX');
      const dest = await a.create('Moved');
      const uids = await fill(a, inbox.id, 3);
      const body = await a.read(inbox.id, uids[1]!);
      const result = await a.move(inbox.id, [uids[1]!, uids[2]!], dest.id);
      assert.deepEqual(result.mapping.map(([from]) => from), [uids[1], uids[2]]);
      assert.deepEqual((await a.snapshot(inbox.id)).messages.map((m) => m.uid), [uids[0]]);
      assert.deepEqual((await a.snapshot(dest.id)).messages.map((m) => m.uid), result.mapping.map(([, to]) => to));
      assert.deepEqual(await a.read(dest.id, result.mapping[0]![1]), body);
      await rejectsWith(a.read(inbox.id, uids[1]!), 'nonexistent');
    });

    test('expunge removes only \\Deleted messages, within the given UIDs when given', async ({ open }) => {
      const a = await open();
      const inbox = await a.get('INBOX');
      const uids = await fill(a, inbox.id, 4, [['\\Deleted'], [], ['\\Deleted'], ['\\Deleted']]);
      assert.deepEqual(await a.expunge(inbox.id, [uids[0]!, uids[1]!]), [uids[0]]);
      assert.deepEqual(await a.expunge(inbox.id), [uids[2], uids[3]]);
      assert.deepEqual(await a.expunge(inbox.id), []);
      const status = await a.status(inbox.id);
      assert.equal(status.messages, 1);
      await rejectsWith(a.read(inbox.id, uids[0]!), 'nonexistent');
      await rejectsWith(a.structure(inbox.id, uids[2]!), 'nonexistent');
    });

    test('status counts messages, unseen, size and recent', async ({ open }) => {
      const a = await open();
      const box = await a.create('counted');
      const m1 = simpleMessage({ body: 'a' });
      const m2 = simpleMessage({ body: 'bbbbbbbbbb' });
      await a.append(box.id, { content: m1, flags: ['\\Seen'] });
      await a.append(box.id, { content: m2 });
      const status = await a.status(box.id);
      assert.equal(status.messages, 2);
      assert.equal(status.unseen, 1);
      assert.equal(status.size, m1.length + m2.length);
      assert.equal(status.recent, 2);
    });
  });

  test.group('\\Recent (RFC 3501 §2.3.2)', () => {
    test('claimRecent hands the recent messages to one claimer only; peek leaves them', async ({ open }) => {
      const a = await open();
      const inbox = await a.get('INBOX');
      const [first] = await fill(a, inbox.id, 2);
      assert.equal(await a.claimRecent(inbox.id, { peek: true }), first);
      assert.equal((await a.status(inbox.id)).recent, 2);
      assert.equal(await a.claimRecent(inbox.id), first);
      const uidNext = (await a.status(inbox.id)).uidNext;
      assert.equal((await a.status(inbox.id)).recent, 0);
      const other = await open('alice', 'other-session');
      assert.equal(await other.claimRecent(inbox.id), uidNext, 'nothing is recent for a later session');
      const late = await a.append(inbox.id, { content: simpleMessage() });
      assert.equal((await a.status(inbox.id)).recent, 1);
      assert.equal(await other.claimRecent(inbox.id), late.uid);
    });

    test('claimRecent claims through the UID given, and leaves later messages to the next claimer', async ({ open }) => {
      const a = await open();
      const b = await open('alice', 'other-session');
      const inbox = await a.get('INBOX');
      const [first, second, third] = await fill(a, inbox.id, 3);
      // A has been told of the first two only: the third is not A's to take.
      const fromA = await a.claimRecent(inbox.id, { through: second });
      assert.equal(fromA, first);
      assert.equal((await a.status(inbox.id)).recent, 1);
      assert.equal(await b.claimRecent(inbox.id, { peek: true, through: third }), third);
      assert.equal(await b.claimRecent(inbox.id, { through: third }), third, 'the third message is recent for B');
      assert.equal(await a.claimRecent(inbox.id, { through: third }), third! + 1, 'and for nobody else');
      // `through` beyond the last message claims no message that does not exist yet.
      assert.equal(await a.claimRecent(inbox.id, { through: third! + 50 }), third! + 1);
      const late = await a.append(inbox.id, { content: simpleMessage() });
      assert.equal(await b.claimRecent(inbox.id, { through: late.uid }), late.uid);
    });

    test('claims made at the same time never hand a message to two sessions', async ({ open }) => {
      const inbox = await (await open()).get('INBOX');
      const sessions = await Promise.all(Array.from({ length: 6 }, (_, i) => open('alice', `session-${i}`)));
      const owners = new Map<number, number>();
      let appended: number[] = [];
      for (let round = 0; round < 4; round++) {
        appended = [...appended, ...(await fill(sessions[0]!, inbox.id, 2))];
        const last = appended.at(-1)!;
        // Each session claims through the last message it heard of (some have heard of fewer).
        const claims = await Promise.all(
          sessions.map(async (s, i) => {
            const through = i % 2 === 0 ? last : last - 1;
            return { i, from: await s.claimRecent(inbox.id, { through }), through };
          }),
        );
        for (const { i, from, through } of claims) {
          for (const uid of appended) {
            if (uid < from || uid > through) continue;
            assert.ok(!owners.has(uid), `UID ${uid} recent for sessions ${owners.get(uid)} and ${i}`);
            owners.set(uid, i);
          }
        }
      }
      assert.deepEqual([...owners.keys()].sort((x, y) => x - y), appended, 'every message is recent for one session');
    });
  });
}
