/**
 * The SORT/THREAD keys (UserMailbox.sortData, optional): a store that offers them must give exactly
 * what the generic fallback computes from structure() and read() — the keys of messageSortKeys,
 * compared as plain values (a store may hand out objects that read them on demand) — and keep
 * returning the same array while the mailbox is unchanged. A store without the method is
 * checked through the fallback (sortData() in src/store/sort/sort-data.ts), which every SORT uses.
 */
import assert from 'node:assert/strict';
import { messageSortKeys } from '../../mime/index.js';
import { plainSortable, sortData } from '../sort/sort-data.js';
import type { SortableMessage, UserMailbox } from '../types.js';
import type { Register } from './harness.js';
import { simpleMessage } from './fixtures.js';

/** What the fallback would answer, computed here from the contract's other methods. */
async function expected(a: UserMailbox, box: string): Promise<SortableMessage[]> {
  const uids = (await a.snapshot(box)).messages.map((m) => m.uid);
  const out: SortableMessage[] = [];
  for (const r of await a.records(box, uids)) {
    const keys = messageSortKeys(await a.read(box, r.uid), await a.structure(box, r.uid));
    out.push({ ...keys, uid: r.uid, internalDate: r.internalDate.getTime(), size: r.size });
  }
  return out;
}

export function sortTests(test: Register): void {
  test.group('sort and thread keys', () => {
    test('sortData gives every message, ascending, with the keys of messageSortKeys', async (env) => {
      const a = await env.open();
      const box = (await a.create('sorted')).id;
      const add = (m: Parameters<typeof simpleMessage>[0], iso: string) => a.append(box, { content: simpleMessage(m), internalDate: new Date(iso) });
      await add({ from: 'zed@example.org (Zed Z)', subject: 'Re: [list] Hello', date: 'Mon, 7 Feb 1994 21:52:25 -0800', extra: ['References: <a@x> <b@x>'] }, '2024-05-01T10:00:00Z');
      await add({ from: '"Ann" <ann@example.org>', to: 'undisclosed-recipients:;', subject: '=?utf-8?q?=C3=A9t=C3=A9?=', date: 'garbage' }, '2024-05-02T10:00:00Z');
      await add({ subject: '', extra: ['In-Reply-To: <a@x>', 'Cc: cc@example.org'] }, '2024-05-03T10:00:00Z');
      const got = await sortData(a, box);
      assert.deepEqual(got.map(plainSortable), await expected(a, box));
      assert.deepEqual(
        got.map((m) => [m.subject, m.replyOrForward, m.from, m.displayFrom, m.to, m.cc, m.references]),
        [
          ['HELLO', true, 'ZED', 'ZED Z', 'BOB', '', ['a@x', 'b@x']],
          ['E\u0301TE\u0301', false, 'ANN', 'ANN', '', '', []],
          ['', false, 'ALICE', 'ALICE', 'BOB', 'CC', ['a@x']],
        ],
      );
      assert.equal(got[0]!.sentDate, Date.UTC(1994, 1, 8, 5, 52, 25));
      assert.equal(got[1]!.sentDate, null);
    });

    test('sortData follows appends, expunges and copies, and stays one array while nothing changes', async (env) => {
      const a = await env.open();
      const box = (await a.create('live')).id;
      const other = (await a.create('other')).id;
      for (const subject of ['one', 'two', 'three']) await a.append(box, { content: simpleMessage({ subject }) });
      const first = await sortData(a, box);
      assert.deepEqual(first.map((m) => m.subject), ['ONE', 'TWO', 'THREE']);
      if (a.sortData) assert.equal(await a.sortData(box), first, 'the same array while the mailbox is unchanged');
      // A flag change alters no key.
      await a.updateFlags(box, [first[0]!.uid], 'add', ['\\Deleted']);
      assert.deepEqual((await sortData(a, box)).map(plainSortable), await expected(a, box));
      await a.expunge(box);
      await a.append(box, { content: simpleMessage({ subject: 'four' }) });
      await a.copy(box, [first[1]!.uid], other);
      const after = await sortData(a, box);
      assert.deepEqual(after.map((m) => m.subject), ['TWO', 'THREE', 'FOUR']);
      assert.deepEqual(after.map(plainSortable), await expected(a, box));
      assert.deepEqual((await sortData(a, other)).map((m) => m.subject), ['TWO']);
    });

    test('integer THREAD keys, when a store gives them, stand exactly for the strings', async (env) => {
      const a = await env.open();
      const box = (await a.create('keyed')).id;
      const add = (m: Parameters<typeof simpleMessage>[0]) => a.append(box, { content: simpleMessage(m) });
      await add({ subject: 'Plan', extra: ['Message-ID: <p1@x>'] });
      await add({ subject: 'Re: Plan', extra: ['Message-ID: <p2@x>', 'References: <p0@x> <p1@x>'] });
      await add({ subject: 'Re: plan', extra: ['Message-ID: <p1@x>', 'In-Reply-To: <p2@x>'] });
      await add({ subject: '', extra: ['References: <p2@x> <p0@x>'] });
      const list = await sortData(a, box);
      const keyed = list.filter((m) => m.messageIdKey !== undefined || m.referenceKeys !== undefined || m.subjectKey !== undefined);
      if (keyed.length === 0) return; // the keys are optional; threading then hashes the strings
      assert.equal(keyed.length, list.length, 'all messages or none carry integer keys');
      // Within each kind (IDs, subjects): equal keys exactly for equal strings, 0 for none.
      type Pairs = Array<[string | null, number | undefined]>;
      const ids: Pairs = [];
      const subjects: Pairs = [];
      for (const m of list) {
        ids.push([m.messageId, m.messageIdKey]);
        subjects.push([m.subject === '' ? null : m.subject, m.subjectKey]);
        assert.equal(m.referenceKeys!.length, m.references.length);
        m.references.forEach((id, i) => ids.push([id, m.referenceKeys![i]]));
      }
      for (const pairs of [ids, subjects]) {
        for (const [s1, k1] of pairs) {
          assert.ok(Number.isInteger(k1) && k1! >= 0 && k1! < 2 ** 32, `key ${k1}`);
          assert.equal(k1 === 0, s1 === null, `0 exactly for no Message-ID or an empty subject (${s1})`);
          for (const [s2, k2] of pairs) if (s1 !== null && s2 !== null && (s1 === s2) !== (k1 === k2)) assert.fail(`${s1}=${k1} against ${s2}=${k2}`);
        }
      }
    });
  });
}
