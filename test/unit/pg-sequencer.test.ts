/**
 * The per-mailbox sequencer of the PostgreSQL change feed, against a fake database: our own writes
 * and other nodes' are published in modseq order, each once, ours with their origin.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MailboxSequencer, type CatchUpRows, type SequencerHost } from '../../src/store/postgres/sequencer.js';
import type { MailboxChange } from '../../src/store/types.js';

/** A fake mailbox: rows as the tables would hold them, and what the sequencer published. */
class FakeHost implements SequencerHost {
  highest = 0;
  messages: CatchUpRows['messages'] = [];
  expunged: CatchUpRows['expunged'] = [];
  privateSeen: NonNullable<CatchUpRows['privateSeen']> = [];
  published: MailboxChange[] = [];
  failNext = 0;
  catchUps = 0;
  private gate: Promise<void> | null = null;
  private openGate: (() => void) | null = null;

  /** The next catch-ups wait until release() (a slow query). */
  hold(): void {
    this.gate = new Promise((r) => (this.openGate = r));
  }
  release(): void {
    this.openGate?.();
    this.gate = null;
  }

  /** Another node's append: the message exists from modseq m on. */
  remoteAppend(uid: number): number {
    const m = ++this.highest;
    this.messages.push({ uid, flags: '', modseq: m, created: m });
    return m;
  }
  remoteFlags(uid: number, flags: string): number {
    const m = ++this.highest;
    const row = this.messages.find((r) => r.uid === uid)!;
    row.flags = flags;
    row.modseq = m;
    return m;
  }

  async catchUp(_mailbox: number, after: number): Promise<CatchUpRows | null> {
    this.catchUps++;
    // A slow query: it reads the tables as they are when it finally runs.
    if (this.gate) await this.gate;
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('database down');
    }
    return {
      highest: this.highest,
      messages: this.messages.filter((r) => r.modseq > after).map((r) => ({ ...r })),
      expunged: this.expunged.filter((r) => r.modseq > after),
      privateSeen: this.privateSeen.filter((r) => r.modseq > after).map((r) => ({ ...r })),
    };
  }
  publish(_user: string, change: MailboxChange): void {
    this.published.push(change);
  }
  watched(): boolean {
    return true;
  }
  parseFlags(stored: string): string[] {
    return stored === '' ? [] : stored.split(' ');
  }
  onCatchUpError(): void {}
  idle(): void {}
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 5));
const summary = (changes: MailboxChange[]): string[] =>
  changes.map((c) =>
    c.kind === 'exists' || c.kind === 'expunge'
      ? `${c.kind} ${c.uids.join(',')}${c.origin ? ` by ${c.origin}` : ''}`
      : c.kind === 'flags'
        ? `flags ${c.changes.map((x) => `${x.uid}@${x.modseq}=${x.flags.join('+')}`).join(',')}${c.origin ? ` by ${c.origin}` : ''}`
        : c.kind,
  );

describe('MailboxSequencer', () => {
  it("publishes another node's per-user \\Seen change for that viewer only, with the message's other flags", async () => {
    const host = new FakeHost();
    const seq = new MailboxSequencer('alice', 1, 0, host);
    host.remoteAppend(1);
    host.remoteFlags(1, '\\Seen $Work'); // alice's own \Seen (modseq 2)
    const m = ++host.highest; // bob's own \Seen on another node (modseq 3)
    host.privateSeen.push({ uid: 1, viewer: 'bob', seen: true, flags: '\\Seen $Work', modseq: m });
    seq.poke();
    await settle();
    const last = host.published[host.published.length - 1]!;
    assert.ok(last.kind === 'flags');
    assert.equal(last.viewer, 'bob');
    assert.deepEqual(last.changes, [{ uid: 1, flags: ['\\Seen', '$Work'], modseq: 3 }]);
    assert.equal(host.published.filter((c) => c.kind === 'flags' && c.viewer === undefined).length, 0, 'message 1 is new to this node (exists): no shared flags change');
  });

  it('publishes an own write at once when nothing else happened', async () => {
    const host = new FakeHost();
    const seq = new MailboxSequencer('alice', 1, 0, host);
    const m = ++host.highest;
    const r = seq.reserve(m);
    host.messages.push({ uid: 1, flags: '', modseq: m, created: m });
    await r.commit([{ kind: 'exists', mailboxId: '1', uids: [1], origin: 's1' }]);
    assert.deepEqual(summary(host.published), ['exists 1 by s1']);
    assert.equal(host.catchUps, 0, 'no database read for our own write');
  });

  it('reads another node’s earlier write before publishing ours, and never reports ours as theirs', async () => {
    const host = new FakeHost();
    const seq = new MailboxSequencer('alice', 1, 0, host);
    host.remoteAppend(1); // modseq 1, its hint not here yet
    const m = ++host.highest; // ours: modseq 2
    const r = seq.reserve(m);
    host.messages.push({ uid: 2, flags: '', modseq: m, created: m });
    await r.commit([{ kind: 'exists', mailboxId: '1', uids: [2], origin: 's1' }]);
    assert.deepEqual(summary(host.published), ['exists 1', 'exists 2 by s1']);
    seq.poke(); // its hint arrives late: nothing more to say
    await settle();
    assert.deepEqual(summary(host.published), ['exists 1', 'exists 2 by s1']);
  });

  it('a slow catch-up that sees our committed write leaves it to us', async () => {
    const host = new FakeHost();
    const seq = new MailboxSequencer('alice', 1, 0, host);
    host.remoteAppend(1);
    host.hold();
    seq.poke(); // the catch-up starts, its answer is slow
    const m = ++host.highest; // our write commits meanwhile...
    const r = seq.reserve(m);
    host.messages.push({ uid: 2, flags: '', modseq: m, created: m });
    host.remoteFlags(1, '\\Seen'); // ...and another node's after it (modseq 3)
    host.release();
    await settle();
    await r.commit([{ kind: 'exists', mailboxId: '1', uids: [2], origin: 's1' }]);
    seq.poke();
    await settle();
    assert.deepEqual(summary(host.published), ['exists 1', 'exists 2 by s1', 'flags 1@3=\\Seen']);
  });

  it("another node's write after our pending one is published once ours is, without waiting for another hint", async () => {
    const host = new FakeHost();
    const seq = new MailboxSequencer('alice', 1, 0, host);
    host.remoteAppend(1); // modseq 1, another node
    const r = seq.reserve(++host.highest); // ours: modseq 2, not committed yet
    host.messages.push({ uid: 2, flags: '', modseq: 2, created: 2 });
    host.remoteFlags(1, '\\Seen'); // modseq 3, another node
    seq.poke(); // the hints for 1 and 3 have both arrived: one catch-up reads up to 3
    await settle();
    assert.deepEqual(summary(host.published), ['exists 1'], 'nothing past our pending write');
    await r.commit([{ kind: 'exists', mailboxId: '1', uids: [2], origin: 's1' }]);
    await settle();
    // No further hint comes for modseq 3: the catch-up already saw it, so the sequencer must know
    // it is behind (before, it waited for the 30 s check).
    assert.deepEqual(summary(host.published), ['exists 1', 'exists 2 by s1', 'flags 1@3=\\Seen']);
  });

  it('waits for a pending own write before publishing later ones; an aborted one is read from the tables', async () => {
    const host = new FakeHost();
    const seq = new MailboxSequencer('alice', 1, 0, host);
    const r1 = seq.reserve(1);
    host.highest = 1;
    host.messages.push({ uid: 1, flags: '', modseq: 1, created: 1 });
    host.remoteAppend(2); // another node's write after ours
    seq.poke();
    await settle();
    assert.deepEqual(host.published, [], 'nothing overtakes our pending write');
    r1.abort(); // outcome unknown (the COMMIT's answer was lost), but it did commit
    await settle();
    assert.deepEqual(summary(host.published), ['exists 1,2']);
  });

  it('when the database cannot be read, our committed write is published anyway, once', async () => {
    const host = new FakeHost();
    const seq = new MailboxSequencer('alice', 1, 0, host);
    host.remoteAppend(1);
    host.failNext = 1;
    const r = seq.reserve(2);
    host.highest = 2;
    host.messages.push({ uid: 2, flags: '', modseq: 2, created: 2 });
    await r.commit([{ kind: 'exists', mailboxId: '1', uids: [2], origin: 's1' }]);
    assert.deepEqual(summary(host.published), ['exists 2 by s1'], 'the command did not hang on the failed read');
    await new Promise((resolve) => setTimeout(resolve, 200)); // the retry (100 ms backoff)
    assert.deepEqual(summary(host.published), ['exists 2 by s1', 'exists 1']);
  });

  it('syncTo resolves once the cursor reached the modseq a snapshot read', async () => {
    const host = new FakeHost();
    const seq = new MailboxSequencer('alice', 1, 0, host);
    host.remoteAppend(1);
    host.remoteAppend(2);
    await seq.syncTo(2);
    assert.equal(seq.cursor, 2);
    assert.deepEqual(summary(host.published), ['exists 1,2']);
  });
});
