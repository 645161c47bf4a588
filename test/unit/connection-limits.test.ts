import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionLimiter, holdPlace, slotFromPlace, type ConnectionSlot } from '../../src/net/connection-limits.js';

const limiter = (): ConnectionLimiter => new ConnectionLimiter({ maxConnections: 3, maxConnectionsPerIp: 2, maxConnectionsPerUser: 1 });

describe('ConnectionLimiter', () => {
  it('refuses past each limit and counts a released slot once', () => {
    const l = limiter();
    const a = l.admitConnection('10.0.0.1') as ConnectionSlot;
    l.admitConnection('10.0.0.1');
    assert.equal(l.admitConnection('10.0.0.1'), 'address');
    l.admitConnection('10.0.0.2');
    assert.equal(l.admitConnection('10.0.0.3'), 'total');
    a.release();
    a.release();
    assert.equal(l.open, 2);
    assert.notEqual(l.admitConnection('10.0.0.1'), 'address');
    const u = l.admitUser('Alice') as ConnectionSlot;
    assert.equal(l.admitUser('alice'), 'user');
    u.release();
    assert.equal(l.userSessions('ALICE'), 0);
  });

  it('keeps a held place counted without its slot, and releases it once when it becomes a slot again', () => {
    const l = limiter();
    const slot = l.admitConnection('10.0.0.1') as ConnectionSlot;
    const user = l.admitUser('alice') as ConnectionSlot;
    const place = holdPlace(slot)!;
    const userPlace = holdPlace(user)!;
    slot.release(); // spent: the place is no longer the slot's to release
    user.release();
    assert.equal(l.open, 1);
    assert.equal(l.userSessions('alice'), 1);
    assert.equal(l.admitUser('alice'), 'user');
    const again = slotFromPlace(place);
    const userAgain = slotFromPlace(userPlace);
    again.release();
    again.release();
    userAgain.release();
    assert.equal(l.open, 0);
    assert.equal(l.userSessions('alice'), 0);
    assert.equal(holdPlace(again), null, 'a released slot holds no place');
  });

  it('keeps a slot made elsewhere as it is', () => {
    let released = 0;
    const foreign: ConnectionSlot = { release: () => void released++ };
    const back = slotFromPlace(holdPlace(foreign)!);
    assert.equal(back, foreign);
    back.release();
    assert.equal(released, 1);
  });
});
