import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeFeed } from '../../src/store/change-feed.js';
import type { MailboxChange } from '../../src/store/types.js';

const exists = (uid: number): MailboxChange => ({ kind: 'exists', mailboxId: 'm', uids: [uid] });

describe('ChangeFeed', () => {
  it('delivers to every listener of the user and only that user', () => {
    const feed = new ChangeFeed();
    const a1: MailboxChange[] = [];
    const a2: MailboxChange[] = [];
    const b: MailboxChange[] = [];
    feed.watch('a', (c) => a1.push(c));
    feed.watch('a', (c) => a2.push(c));
    feed.watch('b', (c) => b.push(c));
    feed.publish('a', exists(1));
    assert.deepEqual(a1, [exists(1)]);
    assert.deepEqual(a2, [exists(1)]);
    assert.deepEqual(b, []);
  });

  it('a throwing listener does not stop the others and is reported', () => {
    const errors: unknown[] = [];
    const feed = new ChangeFeed({ onListenerError: (e) => errors.push(e) });
    const got: number[] = [];
    feed.watch('a', () => {
      throw new Error('boom');
    });
    feed.watch('a', (c) => got.push(c.kind === 'exists' ? c.uids[0]! : -1));
    feed.publish('a', exists(7));
    assert.deepEqual(got, [7]);
    assert.equal(errors.length, 1);
  });

  it('unsubscribe stops delivery and is idempotent', () => {
    const feed = new ChangeFeed();
    let n = 0;
    const stop = feed.watch('a', () => n++);
    feed.publish('a', exists(1));
    stop();
    stop();
    feed.publish('a', exists(2));
    assert.equal(n, 1);
    assert.equal(feed.listenerCount('a'), 0);
  });

  it('keeps publish order for every listener when a listener publishes re-entrantly', () => {
    const feed = new ChangeFeed();
    const first: number[] = [];
    const second: number[] = [];
    const uidOf = (c: MailboxChange) => (c.kind === 'exists' ? c.uids[0]! : -1);
    feed.watch('a', (c) => {
      first.push(uidOf(c));
      if (uidOf(c) === 1) feed.publish('a', exists(2));
    });
    feed.watch('a', (c) => second.push(uidOf(c)));
    feed.publish('a', exists(1));
    assert.deepEqual(first, [1, 2]);
    assert.deepEqual(second, [1, 2]);
  });

  it('a listener removed during fan-out does not receive that change', () => {
    const feed = new ChangeFeed();
    let later = 0;
    let stopLater: () => void = () => {};
    feed.watch('a', () => stopLater());
    stopLater = feed.watch('a', () => later++);
    feed.publish('a', exists(1));
    assert.equal(later, 0);
  });
});

it('relayTo: changes published here go to the relay; changes from the relay reach listeners here and do not go back', () => {
  const feed = new ChangeFeed();
  const sent: Array<[string, MailboxChange]> = [];
  const heard: MailboxChange[] = [];
  feed.watch('ann', (c) => heard.push(c));
  const deliver = feed.relayTo({ published: (user, change) => sent.push([user, change]) });
  const local: MailboxChange = { kind: 'exists', mailboxId: '1', uids: [1] };
  const remote: MailboxChange = { kind: 'expunge', mailboxId: '1', uids: [1] };
  feed.publish('ann', local);
  deliver('ann', remote);
  deliver('bob', remote); // nobody here watches bob: nothing happens
  assert.deepEqual(sent, [['ann', local]]);
  assert.deepEqual(heard, [local, remote]);
});
