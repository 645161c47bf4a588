/**
 * THREAD over the store's integer keys (SortableMessage.messageIdKey, referenceKeys, subjectKey)
 * answers exactly as over the strings, and both exactly as the earlier string-keyed implementation
 * (test/helpers/thread-reference.ts) — over generated mailboxes with shared and duplicate
 * Message-IDs, References that loop or name the message itself, missing parents, equal and empty
 * subjects, equal and missing dates — for REFERENCES, REFS and ORDEREDSUBJECT. A list where a key
 * is missing or not a usable integer is threaded by its strings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { SortableMessage } from '../../src/store/types.js';
import { threadMessages, threadMessagesInSlices, type ThreadAlgorithm } from '../../src/store/sort/thread.js';
import { formatThreads } from '../../src/imap/search/thread-format.js';
import { threadMessages as referenceThreads } from '../helpers/thread-reference.js';
import { formatThreads as referenceFormat } from '../helpers/thread-reference-format.js';

const ALGORITHMS: ThreadAlgorithm[] = ['references', 'refs', 'orderedsubject'];
const base = Date.UTC(2001, 0, 1);

const id = fc.constantFrom('a@x', 'b@x', 'c@x', 'd@x', 'e@x', 'f@x', 'g@x', 'h@x');
const spec = fc.record({
  id: fc.option(id, { nil: null }),
  refs: fc.array(id, { maxLength: 5 }),
  subject: fc.constantFrom('', 'PLAN', 'OTHER', 'LUNCH'),
  reply: fc.boolean(),
  day: fc.option(fc.integer({ min: 0, max: 6 }), { nil: null }),
});
const mailbox = fc.array(spec, { minLength: 1, maxLength: 40 });

type Spec = { id: string | null; refs: string[]; subject: string; reply: boolean; day: number | null };

function messages(specs: Spec[]): SortableMessage[] {
  return specs.map((s, i) => ({
    uid: 3 * i + 1,
    internalDate: base + (i % 3) * 1000,
    size: 10,
    sentDate: s.day === null ? null : base + s.day * 86_400_000,
    subject: s.subject,
    replyOrForward: s.reply,
    from: '',
    to: '',
    cc: '',
    displayFrom: '',
    displayTo: '',
    messageId: s.id,
    references: s.refs,
  }));
}

/** The same messages with integer keys, interned from `start` up (large starts exercise the whole range). */
function keyed(list: SortableMessage[], start: number): SortableMessage[] {
  const ids = new Map<string, number>();
  const key = (s: string): number => {
    let k = ids.get(s);
    if (k === undefined) ids.set(s, (k = start + ids.size));
    return k;
  };
  return list.map((m) => ({
    ...m,
    messageIdKey: m.messageId === null ? 0 : key(m.messageId),
    referenceKeys: m.references.map(key),
    subjectKey: m.subject === '' ? 0 : key(m.subject),
  }));
}

const text = (list: SortableMessage[], algorithm: ThreadAlgorithm): string => formatThreads(threadMessages(list, algorithm), (uid) => uid);

test('integer keys, strings and the earlier implementation give the same threads', () => {
  fc.assert(
    fc.property(mailbox, fc.constantFrom(1, 1000, 2 ** 31 - 5, 2 ** 32 - 100), (specs, start) => {
      const plain = messages(specs);
      for (const algorithm of ALGORITHMS) {
        const expected = referenceFormat(referenceThreads(plain, algorithm), (uid) => uid);
        assert.equal(text(plain, algorithm), expected, `${algorithm}, strings`);
        assert.equal(text(keyed(plain, start), algorithm), expected, `${algorithm}, integer keys from ${start}`);
      }
    }),
    { numRuns: 400 },
  );
});

// The THREAD command threads in passes with the event loop let go between them (issue 13): the
// same threads as the reference, whether each pause yields or not.
test('threading in time slices gives the reference threads', async () => {
  await fc.assert(
    fc.asyncProperty(mailbox, fc.boolean(), async (specs, yields) => {
      const plain = messages(specs);
      const pause = yields ? () => new Promise<void>((r) => setImmediate(r)) : () => Promise.resolve();
      for (const algorithm of ALGORITHMS) {
        const expected = referenceFormat(referenceThreads(plain, algorithm), (uid) => uid);
        for (const list of [plain, keyed(plain, 1)]) {
          assert.equal(formatThreads(await threadMessagesInSlices(list, algorithm, pause), (uid) => uid), expected, algorithm);
        }
      }
    }),
    { numRuns: 200 },
  );
});

test('a list with a missing or unusable integer key is threaded by its strings', () => {
  const plain = messages([
    { id: 'a@x', refs: [], subject: 'PLAN', reply: false, day: 1 },
    { id: 'b@x', refs: ['a@x'], subject: 'PLAN', reply: true, day: 2 },
    { id: 'c@x', refs: [], subject: 'PLAN', reply: true, day: 3 },
    { id: 'd@x', refs: ['b@x'], subject: 'OTHER', reply: false, day: 4 },
  ]);
  const expected = text(plain, 'references');
  assert.equal(expected, '(1 (4 10)(7))');
  const spoilers: Array<(m: SortableMessage) => SortableMessage> = [
    (m) => ({ ...m, messageIdKey: undefined }),
    (m) => ({ ...m, referenceKeys: undefined }),
    (m) => ({ ...m, subjectKey: undefined }),
    (m) => ({ ...m, messageIdKey: 2 ** 33 }),
    (m) => ({ ...m, subjectKey: -1 }),
    (m) => ({ ...m, referenceKeys: [1.5] }),
  ];
  for (const spoil of spoilers) {
    for (let at = 0; at < plain.length; at++) {
      const list = keyed(plain, 1).map((m, i) => (i === at ? spoil(m) : m));
      for (const algorithm of ALGORITHMS) assert.equal(text(list, algorithm), text(plain, algorithm), `${algorithm}, spoiled at ${at}`);
    }
  }
});
