/**
 * THREAD (RFC 5256 §4) against hand-built reply trees: ORDEREDSUBJECT, REFERENCES (links, dummy
 * parents, pruning, subject merging, sibling order) and REFS; missing parents, loops in References,
 * duplicate Message-IDs; and chains and References lists far longer than any real mail, which must
 * neither overflow the stack nor take quadratic time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SortableMessage } from '../../src/store/types.js';
import { threadMessages, threadMessagesInSlices, threadUids, type ThreadAlgorithm } from '../../src/store/sort/thread.js';
import { formatThreads, formatThreadsInSlices } from '../../src/imap/search/thread-format.js';
import { threadMessages as referenceThreads } from '../helpers/thread-reference.js';
import { formatThreads as referenceFormat } from '../helpers/thread-reference-format.js';
import { servedClock } from '../helpers/served-time.js';

const DAY = 86_400_000;
const base = Date.UTC(2000, 2, 1);

interface Spec {
  uid: number;
  day?: number;
  id?: string | null;
  refs?: string[];
  subject?: string;
  reply?: boolean;
}

function m(s: Spec): SortableMessage {
  return {
    uid: s.uid,
    internalDate: base,
    size: 100,
    sentDate: s.day === undefined ? null : base + s.day * DAY,
    subject: s.subject ?? '',
    replyOrForward: s.reply ?? false,
    from: '',
    to: '',
    cc: '',
    displayFrom: '',
    displayTo: '',
    messageId: s.id === undefined ? `m${s.uid}` : s.id,
    references: s.refs ?? [],
  };
}

const thread = (specs: Spec[], algorithm: ThreadAlgorithm = 'references'): string =>
  formatThreads(threadMessages(specs.map(m), algorithm), (uid) => uid);

// The mailbox of the RFC 5256 §4 response example, "(2)(3 6 (4 23)(44 7 96))", renumbered 1–8:
// 3 starts a thread, 6 answers it, 4 and 5 answer 6, 8 answers 4, 7 answers 5 and 1 answers 7
// (1 came first into the mailbox: "the messages were probably moved from some other mailbox").
const RFC_TREE: Spec[] = [
  { uid: 1, day: 10, refs: ['m3', 'm6', 'm5', 'm7'], subject: 'PLAN', reply: true },
  { uid: 2, day: 1, subject: 'OTHER' },
  { uid: 3, day: 2, subject: 'PLAN' },
  { uid: 4, day: 4, refs: ['m3', 'm6'], subject: 'PLAN', reply: true },
  { uid: 5, day: 5, refs: ['m3', 'm6'], subject: 'PLAN', reply: true },
  { uid: 6, day: 3, refs: ['m3'], subject: 'PLAN', reply: true },
  { uid: 7, day: 6, refs: ['m3', 'm6', 'm5'], subject: 'PLAN', reply: true },
  { uid: 8, day: 7, refs: ['m3', 'm6', 'm4'], subject: 'PLAN', reply: true },
];

test('REFERENCES: the RFC 5256 §4 example tree', () => {
  assert.equal(thread(RFC_TREE), '(2)(3 6 (4 8)(5 7 1))');
});

test('REFERENCES: siblings whose parent is missing share a dummy at the top: "((4)(5))"', () => {
  // Only 4 and 5 searched: their parent 6 and its parent 3 become dummies; 6 is spliced away, the
  // top dummy stays because it has two children (RFC 5256 §4 step 3).
  assert.equal(thread(RFC_TREE.filter((s) => s.uid === 4 || s.uid === 5)), '((4)(5))');
  // One child of a missing parent takes its place.
  assert.equal(thread(RFC_TREE.filter((s) => s.uid === 4)), '(4)');
  // A missing message in the middle of a chain is spliced out.
  assert.equal(thread(RFC_TREE.filter((s) => s.uid !== 6)), '(2)(3 (4 8)(5 7 1))');
});

test('ORDEREDSUBJECT: threads by base subject, all later messages children of the first', () => {
  assert.equal(thread(RFC_TREE, 'orderedsubject'), '(2)(3 (6)(4)(5)(7)(8)(1))');
  assert.equal(thread([{ uid: 1, day: 2, subject: 'A' }, { uid: 2, day: 1, subject: 'A' }], 'orderedsubject'), '(2 1)');
  // Threads ordered by their first message's date; equal dates by sequence number.
  assert.equal(thread([{ uid: 1, day: 5, subject: 'B' }, { uid: 2, day: 3, subject: 'A' }, { uid: 3, day: 5, subject: 'C' }], 'orderedsubject'), '(2)(1)(3)');
});

test('REFS: the same links, no subject merging, threads ordered by their newest message', () => {
  const specs = [...RFC_TREE, { uid: 9, day: 20, refs: ['m2'], subject: 'OTHER', reply: true }];
  assert.equal(thread(specs, 'references'), '(2 9)(3 6 (4 8)(5 7 1))');
  assert.equal(thread(specs, 'refs'), '(3 6 (4 8)(5 7 1))(2 9)');
  // No subject merging in REFS: a "Re:" with no references stays a thread of its own.
  const orphan = [...RFC_TREE, { uid: 10, day: 11, subject: 'PLAN', reply: true }];
  assert.equal(thread(orphan, 'refs'), '(2)(3 6 (4 8)(5 7 1))(10)');
});

test('REFERENCES step 5: threads with the same base subject merge', () => {
  // A reply with no references joins the thread whose root is not a reply.
  const orphan = [...RFC_TREE, { uid: 10, day: 11, subject: 'PLAN', reply: true }];
  assert.equal(thread(orphan), '(2)(3 (6 (4 8)(5 7 1))(10))');
  // Two non-replies with the same subject: a new dummy holds both.
  assert.equal(thread([{ uid: 1, day: 1, subject: 'X' }, { uid: 2, day: 2, subject: 'X' }]), '((1)(2))');
  // The subject table prefers a non-reply: the reply that came first becomes its child.
  assert.equal(thread([{ uid: 1, day: 1, subject: 'X', reply: true }, { uid: 2, day: 2, subject: 'X' }]), '(2 1)');
  // Two dummies: their children become siblings under one.
  assert.equal(
    thread([
      { uid: 1, day: 1, refs: ['a'], subject: 'X', reply: true },
      { uid: 2, day: 2, refs: ['a'], subject: 'X', reply: true },
      { uid: 3, day: 3, refs: ['b'], subject: 'X', reply: true },
      { uid: 4, day: 4, refs: ['b'], subject: 'X', reply: true },
    ]),
    '((1)(2)(3)(4))',
  );
  // An empty subject never merges.
  assert.equal(thread([{ uid: 1, day: 1 }, { uid: 2, day: 2 }]), '(1)(2)');
});

test('siblings by sent date, ties by sequence number; no date means the internal date', () => {
  assert.equal(
    thread([
      { uid: 1, day: 1 },
      { uid: 2, day: 9, refs: ['m1'] },
      { uid: 3, day: 5, refs: ['m1'] },
      { uid: 4, day: 5, refs: ['m1'] },
    ]),
    '(1 (3)(4)(2))',
  );
  // uid 2 has no Date: its internal date (the base) sorts before day 1.
  assert.equal(thread([{ uid: 1, day: 1 }, { uid: 2 }]), '(2)(1)');
});

test('loops in References are never created', () => {
  // a and b reference each other: 1 says b is its parent, so 2 may not make a its parent too;
  // c references itself.
  assert.equal(
    thread([
      { uid: 1, day: 1, id: 'a', refs: ['b'] },
      { uid: 2, day: 2, id: 'b', refs: ['a'] },
      { uid: 3, day: 3, id: 'c', refs: ['c'] },
    ]),
    '(2 1)(3)',
  );
  // A longer cycle spread over References lines: x→y→z→x.
  assert.equal(
    thread([
      { uid: 1, day: 1, id: 'x', refs: ['z', 'y'] },
      { uid: 2, day: 2, id: 'y', refs: ['x', 'z'] },
      { uid: 3, day: 3, id: 'z', refs: ['y', 'x'] },
    ]).replace(/[()]/g, ' ').trim().split(/\s+/).sort().join(' '),
    '1 2 3',
    'every message appears exactly once',
  );
});

test('duplicate and missing Message-IDs: only the first message owns an ID', () => {
  assert.equal(
    thread([
      { uid: 1, day: 1, id: 'dup' },
      { uid: 2, day: 2, id: 'dup' },
      { uid: 3, day: 3, id: 'r', refs: ['dup'] },
      { uid: 4, day: 4, id: null, refs: ['dup'] },
    ]),
    '(1 (3)(4))(2)',
  );
  // A later message whose ID a reference already named as a dummy fills that dummy.
  assert.equal(thread([{ uid: 1, day: 2, refs: ['m2'] }, { uid: 2, day: 1 }]), '(2 1)');
});

test('a truncated References line is corrected by a later message (step 1B)', () => {
  // 3 first claims that 2 is its parent (via 1's References), then says its parent is 1.
  assert.equal(
    thread([
      { uid: 1, day: 1 },
      { uid: 2, day: 2, refs: ['m1'] },
      { uid: 4, day: 4, refs: ['m2', 'm3'] },
      { uid: 3, day: 3, refs: ['m1'] },
    ]),
    '(1 (2)(3 4))',
  );
});

test('a chain 20,000 messages deep and References of 10,000 IDs: no stack overflow, linear time', () => {
  const n = 20_000;
  const chain = Array.from({ length: n }, (_, i) => m({ uid: i + 1, day: i, refs: i === 0 ? [] : [`m${i}`] }));
  // Served time: less what the machine's other load kept this process off the CPU (served-time.ts).
  let clock = servedClock();
  const text = formatThreads(threadMessages(chain, 'references'), (uid) => uid);
  assert.equal(text, `(${Array.from({ length: n }, (_, i) => i + 1).join(' ')})`);
  // Generous bound: the quadratic walk this guards against takes minutes at this size.
  assert.ok(clock.served() < 10_000, `threaded in ${clock.served().toFixed(0)} ms served`);

  // Branching at every level: nesting as deep as the chain, still no recursion.
  const comb = Array.from({ length: 5_000 }, (_, i) => m({ uid: i + 1, day: i, refs: i < 2 ? [] : [`m${i - 1}`] }));
  assert.ok(formatThreads(threadMessages(comb, 'references'), (uid) => uid).length > 0);

  const refs = Array.from({ length: 10_000 }, (_, i) => `r${i}`);
  clock = servedClock();
  const one = threadMessages([m({ uid: 1, day: 1, refs }), m({ uid: 2, day: 2, refs: [...refs].reverse() })], 'references');
  assert.ok(clock.served() < 10_000, `threaded in ${clock.served().toFixed(0)} ms served`);
  assert.equal(formatThreads(one, (uid) => uid).replace(/[()]/g, ' ').trim().split(/\s+/).length, 2);
});

// Issue 13: THREAD writes its answer in steps of 16,384 tokens with the loop let go between them
// (formatThreadsInSlices) and reads the links in steps (threadMessagesInSlices): the same text,
// for forests large enough to cross many steps — a chain, a comb, and threads merged by subject.
test('the threads and their text made in steps are those made in one go', async () => {
  const pause = (): Promise<void> => new Promise((r) => setImmediate(r));
  const forests = [
    Array.from({ length: 12_000 }, (_, i) => m({ uid: i + 1, day: i, refs: i === 0 ? [] : [`m${i}`] })),
    Array.from({ length: 9_000 }, (_, i) => m({ uid: i + 1, day: i % 97, refs: i < 2 ? [] : [`m${i - 1 - (i % 3)}`] })),
    Array.from({ length: 10_000 }, (_, i) => m({ uid: i + 1, day: i % 13, refs: i % 5 === 0 ? [] : [`m${i - (i % 5) + 1}`], subject: `s${i % 41}` })),
    // One subject, no links: step 5 gives one dummy 10,000 children, sorted in steps (ties by date).
    Array.from({ length: 10_000 }, (_, i) => m({ uid: i + 1, day: (i * 7919) % 31, id: null, subject: 'same' })),
    // A parent with 9,000 answers: its children sorted in steps in the pruning pass.
    Array.from({ length: 9_000 }, (_, i) => m({ uid: i + 1, day: (i * 7919) % 23, refs: i === 0 ? [] : ['m1'], subject: `t${i}` })),
  ];
  for (const list of forests) {
    for (const algorithm of ['references', 'refs', 'orderedsubject'] as const) {
      const threads = threadMessages(list, algorithm);
      const expected = formatThreads(threads, (uid) => uid);
      // The earlier implementation (objects and recursion, no steps) as the reference.
      assert.equal(expected, referenceFormat(referenceThreads(list, algorithm), (uid) => uid), algorithm);
      assert.equal(formatThreads(await threadMessagesInSlices(list, algorithm, pause), (uid) => uid), expected, algorithm);
      assert.equal(await formatThreadsInSlices(threads, (uid) => uid + 1, pause), formatThreads(threads, (uid) => uid + 1), algorithm);
      assert.equal(await formatThreadsInSlices(threads, (uid) => uid, pause), expected, algorithm);
    }
  }
});

test('threadUids answers from its cache while the key list and the selection are the same', () => {
  const list = RFC_TREE.map(m);
  const first = threadUids(list, [1, 2, 3, 4, 5, 6, 7, 8], 'references');
  assert.equal(threadUids(list, [1, 2, 3, 4, 5, 6, 7, 8], 'references'), first);
  const fewer = threadUids(list, [4, 5], 'references');
  assert.notEqual(fewer, first);
  assert.equal(formatThreads(fewer, (uid) => uid), '((4)(5))');
});
