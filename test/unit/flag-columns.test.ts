import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlagColumns } from '../../src/imap/session/flag-columns.js';

/**
 * FlagColumns against the plain arrays it replaced in the selected view (one flag array and one
 * modseq per message): random pushes, sets and closings-up, with flag sets given as shared frozen
 * arrays (a store's snapshot), fresh arrays (records) and arrays changed after they were given.
 */
test('FlagColumns holds the same flags and modseqs as two plain arrays would, whatever arrays it is given', async () => {
  const fc = (await import('fast-check')).default;
  const SETS = [[], ['\\Seen'], ['\\Seen', '\\Flagged'], ['$Junk'], ['\\Deleted', 'k2'], ['\\Seen', '$junk']].map((s) => Object.freeze(s));
  const flagSet = fc.record({ set: fc.integer({ min: 0, max: SETS.length - 1 }), how: fc.constantFrom('shared', 'fresh', 'mutated') });
  const op = fc.oneof(
    fc.record({ kind: fc.constant('push' as const), flags: flagSet, modseq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }) }),
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), flags: flagSet, modseq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }) }),
    fc.record({ kind: fc.constant('drop' as const), seed: fc.nat() }),
  );
  fc.assert(
    fc.property(fc.nat({ max: 20 }), fc.array(op, { maxLength: 120 }), (capacity, ops) => {
      const columns = new FlagColumns(capacity);
      const flags: string[][] = [];
      const modseqs: number[] = [];
      const arrayOf = (f: { set: number; how: string }): { given: readonly string[]; after?: () => void } => {
        const shared = SETS[f.set]!;
        if (f.how === 'shared') return { given: shared };
        const fresh = [...shared];
        // Changed by its owner after the columns took it: they must have kept what it was.
        return f.how === 'fresh' ? { given: fresh } : { given: fresh, after: () => fresh.push('\\Answered') };
      };
      for (const o of ops) {
        if (o.kind === 'push') {
          const { given, after } = arrayOf(o.flags);
          columns.push(given, o.modseq);
          flags.push([...given]);
          modseqs.push(o.modseq);
          after?.();
        } else if (o.kind === 'set') {
          if (flags.length === 0) continue;
          const at = o.at % flags.length;
          const { given, after } = arrayOf(o.flags);
          columns.set(at, given, o.modseq);
          flags[at] = [...given];
          modseqs[at] = o.modseq;
          after?.();
        } else {
          const drop = (i: number): boolean => (i * 7 + o.seed) % 3 === 0;
          const asked: number[] = [];
          columns.retain((i) => {
            asked.push(i);
            return drop(i);
          });
          assert.deepEqual(asked, [...flags.keys()], 'asked once per index, ascending');
          const keep = [...flags.keys()].filter((i) => !drop(i));
          const f2 = keep.map((i) => flags[i]!);
          const m2 = keep.map((i) => modseqs[i]!);
          flags.splice(0, flags.length, ...f2);
          modseqs.splice(0, modseqs.length, ...m2);
        }
        assert.equal(columns.length, flags.length);
      }
      for (let i = 0; i < flags.length; i++) {
        assert.deepEqual([...columns.flags(i)], flags[i]);
        assert.ok(Object.isFrozen(columns.flags(i)), 'handed out frozen');
        assert.equal(columns.modseq(i), modseqs[i]);
      }
      const unseen = flags.findIndex((f) => !f.includes('\\Seen'));
      assert.equal(columns.firstWithout('\\Seen'), unseen);
      // One table entry per distinct content, however many arrays carried it.
      const distinct = new Set(columns.distinctSets().map((s) => s.join('\n')));
      assert.equal(distinct.size, columns.distinctSets().length);
    }),
    { numRuns: 500 },
  );
});

/**
 * Review (s13): the table of distinct flag sets only ever grows — sets no message has any more stay
 * in `sets`, `byContent` (with their joined key) for the life of the view. A long-lived session
 * (IDLE on a busy or shared mailbox) or a client looping `STORE 1 +FLAGS ($kN)` / `-FLAGS ($kN)`
 * makes every session with the mailbox selected keep one frozen array and one key string per
 * change: ~104 MB for 20,000 changes to one message with 100 keywords of 40 characters (measured,
 * heapUsed after gc). The plain arrays this replaced let the old arrays go. Fails until the table
 * is compacted (e.g. re-interned from the live indices when it outgrows the messages).
 */
test('FlagColumns: flag sets no message has any more are not kept without bound', () => {
  const columns = new FlagColumns(1);
  columns.push(Object.freeze(['\\Seen']), 1);
  for (let n = 0; n < 10_000; n++) columns.set(0, ['\\Seen', `$k${n}`], n + 2);
  assert.equal(columns.length, 1);
  assert.deepEqual([...columns.flags(0)], ['\\Seen', '$k9999']);
  const kept = columns.distinctSets().length;
  assert.ok(kept <= 1_000, `${kept} distinct flag sets kept for a view of 1 message`);
});

test('FlagColumns: dropping unused flag sets keeps every message its own flags and modseq', () => {
  const columns = new FlagColumns(2);
  const shared = Object.freeze(['\\Seen', '$Shared']);
  for (let m = 0; m < 5; m++) columns.push(m % 2 ? shared : [`$m${m}`], 100 + m);
  for (let n = 0; n < 3_000; n++) {
    columns.set(n % 5 === 4 ? (n > 1_500 ? 3 : 4) : 0, [`$k${n}`], 1_000 + n);
    if (n === 1_500) columns.retain((i) => i === 2);
  }
  // Messages 1 and 3 (now at 1 and 2 after message 2's EXPUNGE) kept the shared set; 0 and 4 (now 3) the last they were given.
  assert.equal(columns.length, 4);
  assert.deepEqual([...columns.flags(1)], ['\\Seen', '$Shared']);
  assert.deepEqual([...columns.flags(2)], ['\\Seen', '$Shared']);
  assert.deepEqual([...columns.flags(0)], ['$k2998']);
  assert.deepEqual([...columns.flags(3)], ['$k2999']);
  assert.deepEqual([columns.modseq(0), columns.modseq(1), columns.modseq(2), columns.modseq(3)], [3_998, 101, 103, 3_999]);
  assert.ok(columns.distinctSets().length <= 2 * 4 + 64, `${columns.distinctSets().length} sets kept`);
  assert.equal(columns.firstWithout('$Shared'), 0);
});
