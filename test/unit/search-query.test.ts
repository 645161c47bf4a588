/** Session keys → store query (src/imap/search/to-query.ts) and the SEARCH/ESEARCH answers (results.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SelectedMailboxView } from '../../src/imap/session/selected-view.js';
import { toStoreQuery, viewRanges } from '../../src/imap/search/to-query.js';
import {
  esearchResponse,
  esearchResponseInSlices,
  formatOrderedSet,
  formatOrderedSetInSlices,
  modseqSubject,
  numberListInSlices,
  savedUids,
  searchResponse,
  searchResponseInSlices,
  wantsEsearch,
} from '../../src/imap/search/results.js';
import type { ReturnOptions, SearchKey } from '../../src/imap/search/keys.js';
import type { ImapValue } from '../../src/imap/wire/types.js';
import { ParseError } from '../../src/imap/wire/args.js';

/** A view of UIDs 10 20 21 22 40 50 (seq 1..6); UIDs >= 40 are \Recent for this session. */
function makeView(): SelectedMailboxView {
  const uids = [10, 20, 21, 22, 40, 50];
  return new SelectedMailboxView(
    {
      mailbox: { id: 'm1', name: 'INBOX', noselect: false, subscribed: true },
      uidValidity: 7,
      uidNext: 51,
      highestModseq: 9,
      messages: uids.map((uid) => ({ uid, flags: [], modseq: 1 })),
    },
    false,
    40,
    { untagged: () => undefined },
    'me',
    { reportModseq: () => false },
  );
}

const seqs = (...ranges: Array<[number, number | '*']>): SearchKey => ({
  type: 'seqset',
  set: { saved: false, ranges: ranges.map(([start, end]) => ({ start, end })) },
});

test('neighbouring messages in the view become one UID range, gaps included', () => {
  const view = makeView();
  assert.deepEqual(viewRanges(view, [10, 20, 21, 22, 50]), [[10, 22], [50, 50]]);
  assert.deepEqual(viewRanges(view, [10, 21]), [[10, 10], [21, 21]]);
  assert.deepEqual(viewRanges(view, [99]), []);
});

test('sequence sets become UID ranges; "*" is the last message', () => {
  const view = makeView();
  assert.deepEqual(toStoreQuery(seqs([2, 4]), view), { type: 'uid', ranges: [[20, 22]] });
  assert.deepEqual(toStoreQuery(seqs([6, '*']), view), { type: 'uid', ranges: [[50, 50]] });
  assert.deepEqual(toStoreQuery(seqs([1, 1], [5, 6]), view), { type: 'uid', ranges: [[10, 10], [40, 50]] });
});

test('sequence numbers beyond EXISTS name no message: the search is not BAD (as Dovecot and Cyrus answer)', () => {
  assert.deepEqual(toStoreQuery(seqs([7, 7]), makeView()), { type: 'uid', ranges: [] });
  // A range reaching past the end keeps the part that exists.
  const view = makeView();
  assert.deepEqual(toStoreQuery(seqs([view.exists, view.exists + 5]), view), { type: 'uid', ranges: [[view.uidAt(view.exists), view.uidAt(view.exists)]] });
});

test('UID sets keep only UIDs in the view', () => {
  const view = makeView();
  const key: SearchKey = { type: 'uidset', set: { saved: false, ranges: [{ start: 15, end: 45 }] } };
  assert.deepEqual(toStoreQuery(key, view), { type: 'uid', ranges: [[20, 40]] });
  const none: SearchKey = { type: 'uidset', set: { saved: false, ranges: [{ start: 1, end: 5 }] } };
  assert.deepEqual(toStoreQuery(none, view), { type: 'uid', ranges: [] });
});

test('"$" uses the saved result, as message numbers or UIDs alike', () => {
  const view = makeView();
  view.savedResult = [21, 50, 999];
  const expected = { type: 'uid', ranges: [[21, 21], [50, 50]] };
  assert.deepEqual(toStoreQuery({ type: 'seqset', set: { saved: true } }, view), expected);
  assert.deepEqual(toStoreQuery({ type: 'uidset', set: { saved: true } }, view), expected);
});

test('RECENT and OLD are answered from the session', () => {
  const view = makeView();
  assert.deepEqual(toStoreQuery({ type: 'recent', set: true }, view), { type: 'uid', ranges: [[40, 50]] });
  assert.deepEqual(toStoreQuery({ type: 'recent', set: false }, view), { type: 'uid', ranges: [[10, 22]] });
});

test('store keys pass through; AND/OR/NOT are rebuilt around converted leaves', () => {
  const view = makeView();
  const key: SearchKey = {
    type: 'or',
    of: [{ type: 'not', of: seqs([1, 1]) }, { type: 'and', of: [{ type: 'flag', flag: '\\Seen', set: true }, { type: 'body', value: 'x' }] }],
  };
  assert.deepEqual(toStoreQuery(key, view), {
    type: 'or',
    of: [
      { type: 'not', of: { type: 'uid', ranges: [[10, 10]] } },
      { type: 'and', of: [{ type: 'flag', flag: '\\Seen', set: true }, { type: 'body', value: 'x' }] },
    ],
  });
});

/** Renders values the way the encoder would, enough to compare response lines. */
function show(values: ImapValue[]): string {
  const one = (v: ImapValue): string => {
    if (v === null) return 'NIL';
    if (Array.isArray(v)) return `(${v.map(one).join(' ')})`;
    if (typeof v === 'string') return JSON.stringify(v);
    if (typeof v === 'number' || typeof v === 'bigint') return String(v);
    if (Buffer.isBuffer(v)) return JSON.stringify(v.toString());
    if (v.kind === 'atom') return v.text;
    return '{literal}';
  };
  return values.map(one).join(' ');
}

const opts = (o: Partial<ReturnOptions>): ReturnOptions => ({ min: false, max: false, all: false, count: false, save: false, ...o });
const found = { uids: [20, 21, 22, 50], seqs: [2, 3, 4, 6] };
const none = { uids: [], seqs: [] };

test('SEARCH answers with sequence numbers, UID SEARCH with UIDs, and an empty line when nothing matched', () => {
  assert.equal(show(searchResponse(found, false, undefined)), 'SEARCH 2 3 4 6');
  assert.equal(show(searchResponse(found, true, undefined)), 'SEARCH 20 21 22 50');
  assert.equal(show(searchResponse(none, false, 5)), 'SEARCH');
  assert.equal(show(searchResponse(found, false, 917)), 'SEARCH 2 3 4 6 (MODSEQ 917)');
});

test('ESEARCH (RFC 4731 §3.1): MIN/MAX/ALL only when something matched, COUNT always', () => {
  assert.equal(show(esearchResponse('A282', found.seqs, false, opts({ min: true, count: true }), undefined)), 'ESEARCH (TAG "A282") MIN 2 COUNT 4');
  assert.equal(show(esearchResponse('A283', found.seqs, false, opts({ all: true }), undefined)), 'ESEARCH (TAG "A283") ALL 2:4,6');
  assert.equal(show(esearchResponse('A285', found.uids, true, opts({ min: true, max: true }), undefined)), 'ESEARCH (TAG "A285") UID MIN 20 MAX 50');
  assert.equal(show(esearchResponse('x', none.seqs, false, opts({ min: true, max: true, all: true, count: true }), 3)), 'ESEARCH (TAG "x") COUNT 0');
  assert.equal(show(esearchResponse('m', found.seqs, false, opts({ max: true }), 12)), 'ESEARCH (TAG "m") MAX 6 MODSEQ 12');
});

test('SAVE alone sends no ESEARCH; "$" holds MIN/MAX only when nothing else was asked (RFC 5182 §2.4)', () => {
  assert.equal(wantsEsearch(opts({ save: true })), false);
  assert.equal(wantsEsearch(opts({ save: true, count: true })), true);
  assert.deepEqual(savedUids(found, opts({ save: true })), [20, 21, 22, 50]);
  assert.deepEqual(savedUids(found, opts({ save: true, min: true })), [20]);
  assert.deepEqual(savedUids(found, opts({ save: true, max: true })), [50]);
  assert.deepEqual(savedUids(found, opts({ save: true, min: true, max: true })), [20, 50]);
  assert.deepEqual(savedUids(found, opts({ save: true, min: true, count: true })), [20, 21, 22, 50]);
  assert.deepEqual(savedUids({ uids: [7], seqs: [1] }, opts({ save: true, min: true, max: true })), [7]);
});

test('MODSEQ is computed over the messages returned (RFC 4731 §3.2)', () => {
  assert.deepEqual(modseqSubject(found, undefined), [20, 21, 22, 50]);
  assert.deepEqual(modseqSubject(found, opts({ min: true })), [20]);
  assert.deepEqual(modseqSubject(found, opts({ min: true, max: true })), [20, 50]);
  assert.deepEqual(modseqSubject(found, opts({ min: true, count: true })), [20, 21, 22, 50]);
  assert.deepEqual(modseqSubject(none, opts({ all: true })), []);
});

// Issue 13: the answers of 100,000 numbers are written in steps with the event loop let go between
// them (results.ts *InSlices). The same text as the one-go functions, across step boundaries
// (8,192 numbers): runs that cross one, lists of one step exactly, empty lists.
test('the answers written in steps are the text written in one go', async () => {
  let seed = 7;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  let pauses = 0;
  const pause = (): Promise<void> => {
    pauses++;
    return new Promise((r) => setImmediate(r));
  };
  const lists: number[][] = [[], [5], Array.from({ length: 8192 }, (_, i) => i + 1), Array.from({ length: 8193 }, (_, i) => 8193 - i)];
  for (let round = 0; round < 12; round++) {
    // Ascending with gaps (runs of consecutive numbers of random length), or in any order.
    const n = random(40_000);
    const list: number[] = [];
    let v = 1;
    for (let i = 0; i < n; i++) list.push((v += random(4) === 0 ? 1 + random(50) : 1));
    if (round % 3 === 2) list.sort(() => random(3) - 1);
    lists.push(list);
  }
  for (const list of lists) {
    const found = { uids: list, seqs: list.map((_, i) => i + 1) };
    assert.equal(await numberListInSlices(list, pause), list.join(' '));
    assert.equal(await numberListInSlices(Uint32Array.from(list), pause), list.join(' '));
    assert.equal(await formatOrderedSetInSlices(list, pause), formatOrderedSet(list));
    assert.equal(show(await searchResponseInSlices(found, true, 3, pause)), show(searchResponse(found, true, 3)));
    assert.equal(show(await searchResponseInSlices(found, false, undefined, pause)), show(searchResponse(found, false, undefined)));
    const all = opts({ all: true, min: true, count: true });
    assert.equal(show(await esearchResponseInSlices('t', list, true, all, 9, pause)), show(esearchResponse('t', list, true, all, 9)));
  }
  assert.ok(pauses > lists.length, `${pauses} pauses`);
});
