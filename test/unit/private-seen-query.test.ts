/**
 * The shared view's per-user \Seen helpers (src/store/sharing/private-seen.ts): a viewer's flags
 * and modseq of a message, and the SEARCH rewrite — SEEN/UNSEEN from the viewer's rows, MODSEQ
 * matching the rows' modseqs too.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { asViewer, needsViewerRows, queryForViewer, seenRows, toRanges, viewerFlags } from '../../src/store/sharing/private-seen.js';

const rows = [
  { uid: 1, seen: true, modseq: 10 },
  { uid: 2, seen: true, modseq: 10 },
  { uid: 4, seen: false, modseq: 12 },
  { uid: 7, seen: true, modseq: 3 },
];

describe('per-user \\Seen helpers', () => {
  it("replaces the owner's \\Seen with the viewer's, and takes the greater modseq", () => {
    assert.deepEqual(viewerFlags(['\\Seen', '$Work'], false), ['$Work']);
    assert.deepEqual(viewerFlags(['\\Flagged'], true), ['\\Seen', '\\Flagged']);
    const map = seenRows(rows);
    assert.deepEqual(asViewer({ uid: 4, flags: ['\\Seen'], modseq: 5 }, map), { uid: 4, flags: [], modseq: 12 });
    assert.deepEqual(asViewer({ uid: 7, flags: [], modseq: 9 }, map), { uid: 7, flags: ['\\Seen'], modseq: 9 });
    assert.deepEqual(asViewer({ uid: 9, flags: ['\\Seen'], modseq: 9 }, map), { uid: 9, flags: [], modseq: 9 });
  });

  it('compresses UIDs to ranges', () => {
    assert.deepEqual(toRanges([1, 2, 3, 5, 7, 8]), [[1, 3], [5, 5], [7, 8]]);
    assert.deepEqual(toRanges([]), []);
  });

  it('rewrites SEEN, UNSEEN and MODSEQ, anywhere in the tree, and leaves other keys alone', () => {
    assert.equal(needsViewerRows({ type: 'and', of: [{ type: 'size', op: 'larger', octets: 1 }, { type: 'not', of: { type: 'flag', flag: '\\seen', set: true } }] }), true);
    assert.equal(needsViewerRows({ type: 'flag', flag: '\\Flagged', set: true }), false);
    const seen = queryForViewer({ type: 'flag', flag: '\\Seen', set: true }, rows);
    assert.deepEqual(seen, { type: 'uid', ranges: [[1, 2], [7, 7]] });
    const unseen = queryForViewer({ type: 'or', of: [{ type: 'flag', flag: '\\Seen', set: false }, { type: 'flag', flag: '\\Flagged', set: true }] }, rows);
    assert.deepEqual(unseen, { type: 'or', of: [{ type: 'not', of: { type: 'uid', ranges: [[1, 2], [7, 7]] } }, { type: 'flag', flag: '\\Flagged', set: true }] });
    const modseq = queryForViewer({ type: 'modseq', min: 11 }, rows);
    assert.deepEqual(modseq, { type: 'or', of: [{ type: 'modseq', min: 11 }, { type: 'uid', ranges: [[4, 4]] }] });
  });
});
