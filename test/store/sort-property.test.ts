/**
 * Property: SORT's order equals a reference sort of the parsed keys (RFC 5256 §3 read directly:
 * i;unicode-casemap order for strings, dates and sizes ascending, REVERSE per criterion, mailbox
 * order on ties) — over generated messages with awkward subjects, addresses, dates and sizes,
 * random sort programs and random search results. The keys come from the memory store, the SQLite
 * store and the generic fallback, which must agree with each other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MemoryStore } from '../../src/store/memory/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { plainSortable, sortData } from '../../src/store/sort/sort-data.js';
import { sortIndexes, sortIndexesInSlices, sortUids, type SortCriterion, type SortKey } from '../../src/store/sort/sort.js';
import { compareCasemap } from '../../src/mime/collation.js';
import type { SortableMessage, UserMailbox } from '../../src/store/types.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs('postroom-sort-prop-');

const words = ['hello', 'Hello', 'HELLO', 'été', 'ÉTÉ', 'Ete', 'straße', 'STRASSE', 'zebra', 'Zebra', 'ǆungla', 'Ǆungla', '\u{1f600} smile', '\ue000 private', '\ufffd odd', '\uff46ull', 'a', 'b', ''];
const subject = fc
  .tuple(fc.constantFrom('', 'Re: ', 'RE: ', 'Fwd: ', 're[2]: ', '[list] ', 'Re: [x] ', '[fwd: '), fc.constantFrom(...words), fc.constantFrom('', ' (fwd)', ']', '  '))
  .map(([a, b, c]) => `${a}${b}${c}`);
const local = fc.constantFrom('ann', 'Ann', 'bob', 'carol', 'zed', 'Zed', 'a.b', '"quoted name"');
const name = fc.constantFrom(...words.filter((w) => w !== ''));
const address = fc.oneof(
  local.map((l) => `${l}@x.test`),
  fc.tuple(name, local).map(([n, l]) => `"${n}" <${l}@x.test>`),
  fc.tuple(local, name).map(([l, n]) => `${l}@x.test (${n})`),
  fc.tuple(local).map(([l]) => `<${l} (c)@ (c) x.test>`),
  fc.constant('<>'),
  fc.constant('undisclosed-recipients:;'),
  fc.constant('"Only A Name"'),
);
const date = fc.oneof(
  fc.constant(null),
  fc.constant('not a date'),
  fc
    .tuple(fc.integer({ min: 1, max: 28 }), fc.constantFrom('Jan', 'Feb', 'Dec'), fc.integer({ min: 1990, max: 2030 }), fc.integer({ min: 0, max: 23 }), fc.constantFrom('+0000', '-0800', '+0530', 'EST', 'XYZ'))
    .map(([d, m, y, h, z]) => `${d} ${m} ${y} ${String(h).padStart(2, '0')}:30:00 ${z}`),
);
const messageSpec = fc.record({
  subject: fc.option(subject, { nil: undefined }),
  from: fc.option(address, { nil: undefined }),
  to: fc.option(address, { nil: undefined }),
  cc: fc.option(address, { nil: undefined }),
  date,
  pad: fc.nat({ max: 40 }),
  arrival: fc.integer({ min: 0, max: 5 }),
});
type Spec = typeof messageSpec extends fc.Arbitrary<infer T> ? T : never;

function raw(s: Spec, i: number): Buffer {
  const lines: string[] = [];
  if (s.from !== undefined) lines.push(`From: ${s.from}`);
  if (s.to !== undefined) lines.push(`To: ${s.to}`);
  if (s.cc !== undefined) lines.push(`Cc: ${s.cc}`);
  if (s.subject !== undefined) lines.push(`Subject: ${s.subject}`);
  if (s.date !== null) lines.push(`Date: ${s.date}`);
  lines.push(`Message-ID: <p${i}@x.test>`, '', 'x'.repeat(s.pad));
  return Buffer.from(lines.join('\r\n'), 'utf8');
}

const KEYS: SortKey[] = ['arrival', 'cc', 'date', 'from', 'size', 'subject', 'to', 'displayfrom', 'displayto'];
const program = fc.uniqueArray(fc.record({ key: fc.constantFrom(...KEYS), reverse: fc.boolean() }), { minLength: 1, maxLength: 4, selector: (c) => c.key });

/** RFC 5256 §3 as written, over the keys: no caches, no comparable-string tricks. */
function reference(list: readonly SortableMessage[], uids: readonly number[], criteria: readonly SortCriterion[]): number[] {
  const value = (m: SortableMessage, key: SortKey): number | string => {
    switch (key) {
      case 'arrival':
        return m.internalDate;
      case 'date':
        return m.sentDate ?? m.internalDate;
      case 'size':
        return m.size;
      case 'displayfrom':
        return m.displayFrom;
      case 'displayto':
        return m.displayTo;
      default:
        return m[key];
    }
  };
  const wanted = new Set(uids);
  return list
    .filter((m) => wanted.has(m.uid))
    .sort((a, b) => {
      for (const c of criteria) {
        const x = value(a, c.key);
        const y = value(b, c.key);
        const r = typeof x === 'number' ? x - (y as number) : compareCasemap(x, y as string);
        if (r !== 0) return c.reverse ? -r : r;
      }
      return a.uid - b.uid;
    })
    .map((m) => m.uid);
}

/** The same handle with its sortData hidden: SORT then runs on the generic fallback. */
function withoutSortData(handle: UserMailbox): UserMailbox {
  return Object.assign(Object.create(handle) as UserMailbox, { sortData: undefined });
}

test('SORT order equals the reference over generated messages, in every store and the fallback', async () => {
  const dir = tempDir();
  const sqlite = await SqliteStore.open({ directory: dir });
  const memory = new MemoryStore();
  const s = await sqlite.open('alice');
  const m = await memory.open('alice');
  let run = 0;
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(messageSpec, { minLength: 1, maxLength: 14 }), fc.array(program, { minLength: 1, maxLength: 3 }), fc.integer(), async (specs, programs, seed) => {
        run++;
        const sBox = (await s.create(`p${run}`)).id;
        const mBox = (await m.create(`p${run}`)).id;
        for (const [i, spec] of specs.entries()) {
          const input = { content: raw(spec, i), internalDate: new Date(Date.UTC(2020, 0, 1 + spec.arrival)) };
          await s.append(sBox, input);
          await m.append(mBox, input);
        }
        const lists = [await sortData(m, mBox), await sortData(s, sBox), await sortData(withoutSortData(m), mBox)];
        const plain = lists.map((l) => l.map(plainSortable));
        assert.deepEqual(plain[1], plain[0], 'SQLite keys equal the memory store keys');
        assert.deepEqual(plain[2], plain[0], 'fallback keys equal the memory store keys');
        const all = lists[0]!.map((k) => k.uid);
        // A pseudo-random search result, always including the empty and the full one over runs.
        const subset = all.filter((uid, i) => ((seed >>> (i % 31)) & 1) === 1 || seed % 7 === 0);
        for (const criteria of programs) {
          for (const uids of [all, subset]) {
            const want = reference(lists[0]!, uids, criteria);
            for (const list of lists) assert.deepEqual(sortUids(list, uids, criteria), want, JSON.stringify(criteria));
          }
        }
      }),
      { numRuns: 40 },
    );
  } finally {
    await sqlite.close();
    await memory.close();
  }
});

/**
 * The SORT command sorts in time slices (sortIndexesInSlices: runs sorted apart, then merged) so
 * that a large mailbox does not hold the event loop (issue 13). Over lists long enough for several
 * runs and merge rounds, with many equal keys (ties decided by mailbox order), the order is the one
 * a single sort gives — whether the pause yields every time or never.
 */
test('SORT in time slices gives the order of one sort, over lists of several runs', async () => {
  const keyed = fc.record({
    subject: fc.constantFrom(...words.slice(0, 8)),
    from: fc.constantFrom('ann', 'bob', '', 'zed'),
    sentDate: fc.option(fc.integer({ min: 0, max: 50 }), { nil: null }),
    internalDate: fc.integer({ min: 0, max: 50 }),
    size: fc.integer({ min: 1, max: 30 }),
  });
  await fc.assert(
    fc.asyncProperty(
      fc.array(keyed, { minLength: 1, maxLength: 30 }),
      fc.integer({ min: 4_000, max: 20_000 }),
      fc.array(program, { minLength: 1, maxLength: 2 }),
      fc.boolean(),
      async (pool, n, programs, yields) => {
        const list: SortableMessage[] = Array.from({ length: n }, (_, i) => {
          const k = pool[(i * 7919) % pool.length]!;
          return { ...k, uid: i + 1, replyOrForward: false, to: '', cc: '', displayFrom: '', displayTo: '', messageId: null, references: [] };
        });
        const uids = list.filter((m) => m.uid % 3 !== 0).map((m) => m.uid);
        const pause = yields ? () => new Promise<void>((r) => setImmediate(r)) : () => Promise.resolve();
        for (const criteria of programs) {
          for (const selection of [list.map((m) => m.uid), uids]) {
            // A fresh list each time: the orders are cached per list.
            const want = [...sortIndexes([...list], selection, criteria)];
            const got = [...(await sortIndexesInSlices([...list], selection, criteria, pause))];
            assert.deepEqual(got, want, JSON.stringify(criteria));
          }
        }
      },
    ),
    { numRuns: 8 },
  );
});
