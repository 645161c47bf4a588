/**
 * SelectedMailboxView.freeze()/thaw() (IDLE hibernation): a view frozen, then thawed after other
 * sessions changed the mailbox, must tell its client exactly what a view that stayed awake and
 * heard every change would tell it — same responses, same order, same sequence numbers.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../../src/store/memory/index.js';
import { SelectedMailboxView, type ViewOutput } from '../../src/imap/session/selected-view.js';
import { encodeResponse } from '../../src/imap/wire/encoder.js';
import type { ImapValue, ResponseCode } from '../../src/imap/wire/types.js';

function recorder(): ViewOutput & { lines: string[] } {
  const lines: string[] = [];
  const text = (r: Parameters<typeof encodeResponse>[0]): string =>
    Buffer.concat(encodeResponse(r).map((c) => (Buffer.isBuffer(c) ? c : Buffer.alloc(0)))).toString().trimEnd();
  return {
    lines,
    untagged: (...values: ImapValue[]) => lines.push(text({ type: 'data', values })),
    status: (_tag: '*', status: 'OK', t: string, code?: ResponseCode) => lines.push(text({ type: 'status', tag: '*', status, text: t, code })),
  };
}

const message = (n: number): Buffer => Buffer.from(`Subject: m${n}\r\n\r\nbody ${n}\r\n`);
const options = { reportModseq: () => true };

describe('frozen views', () => {
  it('thaw and report what an awake view would have reported', async () => {
    const store = new MemoryStore();
    const mine = await store.open('alice', { origin: 'me' });
    const other = await store.open('alice', { origin: 'other' });
    const box = await mine.create('Box');
    for (let i = 1; i <= 6; i++) await other.append(box.id, { content: message(i) });
    const start = await mine.snapshot(box.id);

    // The awake view hears every change through the feed; the other is frozen before them.
    const awakeOut = recorder();
    const awake = new SelectedMailboxView(start, true, 1, awakeOut, 'me', options);
    const unwatch = store.watch('alice', (c) => awake.onChange(c));
    const frozenFrom = new SelectedMailboxView(start, true, 1, recorder(), 'me', options).freeze();
    assert.ok(frozenFrom);
    const frozen = { ...frozenFrom, uids: Uint32Array.from(frozenFrom.uids) };

    await other.updateFlags(box.id, [2, 5], 'add', ['\\Deleted']);
    await other.expunge(box.id);
    await other.updateFlags(box.id, [4], 'add', ['\\Flagged']);
    await other.updateFlags(box.id, [1], 'add', ['$Label']);
    await other.updateFlags(box.id, [6], 'add', ['\\Seen']);
    await other.updateFlags(box.id, [6], 'remove', ['\\Seen']); // changed and changed back: still reported
    await other.append(box.id, { content: message(7) });
    await other.append(box.id, { content: message(8), flags: ['\\Draft'] });
    unwatch();

    await awake.flush(mine, true);
    const thawedOut = recorder();
    const thawed = SelectedMailboxView.thaw(frozen, await mine.snapshot(box.id), thawedOut, 'me-again', options);
    await thawed.flush(mine, true);

    assert.ok(awakeOut.lines.includes('* 5 EXPUNGE') && awakeOut.lines.includes('* 6 EXISTS'), awakeOut.lines.join(' | '));
    assert.deepEqual(thawedOut.lines, awakeOut.lines);
    assert.deepEqual([...thawed.uids()], [...awake.uids()]);
    assert.deepEqual(thawed.uids(), [1, 3, 4, 6, 7, 8]);
    assert.equal(thawed.highestModseq, awake.highestModseq);
    for (const uid of thawed.uids()) assert.deepEqual(thawed.flagsOf(uid), awake.flagsOf(uid), `flags of ${uid}`);
    await store.close();
  });

  it('will not freeze while changes wait to be reported', async () => {
    const store = new MemoryStore();
    const mine = await store.open('alice', { origin: 'me' });
    const box = await mine.create('Box');
    await mine.append(box.id, { content: message(1) });
    const view = new SelectedMailboxView(await mine.snapshot(box.id), false, 1, recorder(), 'me', options);
    view.onChange({ kind: 'exists', mailboxId: box.id, uids: [2], origin: 'other' });
    assert.equal(view.freeze(), null);
    await store.close();
  });
});
