/** The failed-login guard's keys: (address, user) pairs, addresses and user names, each with its own threshold. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoginGuard } from '../../src/auth/login-guard.js';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

test('ten failures lock that user from that address only (a shared NAT keeps working)', () => {
  const c = clock();
  const g = new LoginGuard({}, c.now);
  for (let i = 0; i < 10; i++) g.failure('10.0.0.1', 'Ann');
  assert.equal(g.isLocked('10.0.0.1', 'ann'), true, 'the pair is locked (user names are case-insensitive)');
  assert.equal(g.isLocked('10.0.0.1', 'bob'), false, 'another user behind the same address');
  assert.equal(g.isLocked('10.0.0.2', 'ann'), false, 'the same user elsewhere');
  assert.equal(g.isLocked('10.0.0.1'), false, 'the address as a whole');
  c.advance(300_001);
  assert.equal(g.isLocked('10.0.0.1', 'ann'), false, 'the lockout ends');
});

test('spraying many users from one address locks the address at maxFailuresPerAddress', () => {
  const g = new LoginGuard({ maxFailuresPerAddress: 40 });
  for (let i = 0; i < 39; i++) g.failure('10.0.0.9', `user${i}`);
  assert.equal(g.isLocked('10.0.0.9', 'someone'), false);
  g.failure('10.0.0.9', 'user39');
  assert.equal(g.isLocked('10.0.0.9', 'someone'), true);
  assert.equal(g.isLocked('10.0.0.9'), true);
});

test('guessing one user from many addresses locks the user name at maxFailuresPerUser', () => {
  const g = new LoginGuard({});
  for (let i = 0; i < 30; i++) g.failure(`10.1.0.${i}`, 'ann');
  assert.equal(g.isLocked('10.2.0.1', 'ann'), true);
  assert.equal(g.isLocked('10.2.0.1', 'bob'), false);
});

test('a success clears the pair and the user, not the address', () => {
  const g = new LoginGuard({ maxFailures: 3, maxFailuresPerAddress: 4 });
  g.failure('10.0.0.1', 'ann');
  g.failure('10.0.0.1', 'ann');
  g.success('10.0.0.1', 'ann');
  g.failure('10.0.0.1', 'ann');
  assert.equal(g.isLocked('10.0.0.1', 'ann'), false, 'the pair started over');
  g.failure('10.0.0.1', 'bob');
  assert.equal(g.isLocked('10.0.0.1', 'carol'), true, "the address kept its count: 4 failures, whoever's");
});

test('delays double per failure of the pair, up to maxDelayMs; 0 turns delays off', () => {
  const g = new LoginGuard({ baseDelayMs: 100, maxDelayMs: 1000 });
  const delays = Array.from({ length: 6 }, () => g.failure('10.0.0.1', 'ann'));
  assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000]);
  const none = new LoginGuard({ baseDelayMs: 0 });
  assert.equal(none.failure('10.0.0.1', 'ann'), 0);
});

test('a threshold of 0 never locks', () => {
  const g = new LoginGuard({ maxFailures: 0, maxFailuresPerAddress: 0, maxFailuresPerUser: 0, baseDelayMs: 0 });
  for (let i = 0; i < 500; i++) g.failure('10.0.0.1', 'ann');
  assert.equal(g.isLocked('10.0.0.1', 'ann'), false);
});

test('failures without a user name count against the address and the unnamed pair', () => {
  const g = new LoginGuard({ maxFailures: 3 });
  for (let i = 0; i < 3; i++) g.failure('10.0.0.1');
  assert.equal(g.isLocked('10.0.0.1'), true, 'unnamed attempts from the address');
  assert.equal(g.isLocked('10.0.0.1', 'ann'), false, 'a named user from the same address');
});

test('the observer hears delays, lockouts and refusals', () => {
  const heard: string[] = [];
  const g = new LoginGuard({ maxFailures: 2, baseDelayMs: 10 });
  g.observer = { delayed: (ms) => heard.push(`delay ${ms}`), lockedOut: (scope) => heard.push(`locked ${scope}`), refused: () => heard.push('refused') };
  g.failure('10.0.0.1', 'ann');
  g.failure('10.0.0.1', 'ann');
  g.isLocked('10.0.0.1', 'ann');
  assert.deepEqual(heard, ['delay 10', 'locked pair', 'delay 20', 'refused']);
});

test('options are checked', () => {
  assert.throws(() => new LoginGuard({ maxFailure: 3 } as never), /unknown login guard option "maxFailure"/);
  assert.throws(() => new LoginGuard({ lockoutSeconds: -1 }), /must be a number of 0 or more/);
});
