/** Sieve scripts and vacation memory (sieve-storage.ts): optional, but all or nothing. */
import assert from 'node:assert/strict';
import { claimVacation, hasSieveStorage, hasVacationClaim, releaseVacation, sieveStorage, SIEVE_STORAGE_METHODS, VACATION_CLAIM_METHODS } from '../sieve-storage.js';
import { rejectsWith, type Register } from './harness.js';

export function sieveTests(test: Register): void {
  test.group('sieve scripts', () => {
    test('a store keeps every script method or none, and says so clearly when none', async ({ open }) => {
      const mail = await open();
      const present = SIEVE_STORAGE_METHODS.filter((m) => typeof mail[m] === 'function');
      assert.ok(present.length === 0 || present.length === SIEVE_STORAGE_METHODS.length, `partial script storage: ${present.join(', ')}`);
      if (!hasSieveStorage(mail)) assert.throws(() => sieveStorage(mail), /does not keep Sieve scripts/);
    });

    test('put, get, list (sorted, sizes in octets), replace', async ({ open }) => {
      const mail = await open();
      if (!hasSieveStorage(mail)) return;
      assert.deepEqual(await mail.sieveList(), []);
      assert.equal(await mail.sieveActive(), null);
      await mail.sievePut('work', 'keep;\r\n');
      await mail.sievePut('Ärger', 'discard; # é\r\n');
      await mail.sievePut('a', 'stop;');
      const list = await mail.sieveList();
      assert.deepEqual(list.map((s) => s.name), ['a', 'work', 'Ärger']);
      assert.deepEqual(list.find((s) => s.name === 'Ärger'), { name: 'Ärger', active: false, size: Buffer.byteLength('discard; # é\r\n') });
      assert.equal(await mail.sieveGet('Ärger'), 'discard; # é\r\n');
      await mail.sievePut('work', 'fileinto "Work";');
      assert.equal(await mail.sieveGet('work'), 'fileinto "Work";');
      await rejectsWith(mail.sieveGet('missing'), 'nonexistent');
      await rejectsWith(mail.sieveGet('WORK'), 'nonexistent'); // names are case-sensitive
    });

    test('one active script; replacing it keeps it active; deleting it is refused', async ({ open }) => {
      const mail = await open();
      if (!hasSieveStorage(mail)) return;
      await mail.sievePut('one', 'keep;');
      await mail.sievePut('two', 'discard;');
      await mail.sieveSetActive('one');
      assert.deepEqual(await mail.sieveActive(), { name: 'one', content: 'keep;' });
      await mail.sieveSetActive('two');
      assert.deepEqual((await mail.sieveList()).filter((s) => s.active).map((s) => s.name), ['two']);
      await mail.sievePut('two', 'stop;');
      assert.deepEqual(await mail.sieveActive(), { name: 'two', content: 'stop;' });
      await rejectsWith(mail.sieveDelete('two'), 'inuse');
      await rejectsWith(mail.sieveSetActive('three'), 'nonexistent');
      assert.equal((await mail.sieveActive())?.name, 'two');
      await mail.sieveSetActive(null);
      assert.equal(await mail.sieveActive(), null);
      await mail.sieveDelete('two');
      await rejectsWith(mail.sieveDelete('two'), 'nonexistent');
      assert.deepEqual((await mail.sieveList()).map((s) => s.name), ['one']);
    });

    test('rename: the active script stays active; no overwrite', async ({ open }) => {
      const mail = await open();
      if (!hasSieveStorage(mail)) return;
      await mail.sievePut('old', 'keep;');
      await mail.sievePut('other', 'discard;');
      await mail.sieveSetActive('old');
      await mail.sieveRename('old', 'new');
      assert.deepEqual(await mail.sieveActive(), { name: 'new', content: 'keep;' });
      await rejectsWith(mail.sieveGet('old'), 'nonexistent');
      await rejectsWith(mail.sieveRename('new', 'other'), 'alreadyexists');
      await rejectsWith(mail.sieveRename('gone', 'x'), 'nonexistent');
      assert.equal(await mail.sieveGet('other'), 'discard;');
    });

    test('scripts and vacation memory belong to one user', async ({ open }) => {
      const a = await open('alice');
      const b = await open('bob');
      if (!hasSieveStorage(a) || !hasSieveStorage(b)) return;
      await a.sievePut('mine', 'keep;');
      await a.sieveSetActive('mine');
      await a.vacationRemember('h', 'x@example.org', new Date(Date.now() + 60_000));
      assert.deepEqual(await b.sieveList(), []);
      assert.equal(await b.sieveActive(), null);
      await rejectsWith(b.sieveGet('mine'), 'nonexistent');
      await rejectsWith(b.sieveSetActive('mine'), 'nonexistent');
      assert.equal(await b.vacationAnswered('h', 'x@example.org', new Date()), false);
      assert.equal(await a.vacationAnswered('h', 'x@example.org', new Date()), true);
    });

    test('vacation memory: per handle and address (case-insensitive), until a time; prune', async ({ open }) => {
      const mail = await open();
      if (!hasSieveStorage(mail)) return;
      const t0 = new Date('2026-12-01T00:00:00Z');
      const day = 86_400_000;
      await mail.vacationRemember('away', 'Ann@Example.ORG', new Date(t0.getTime() + 7 * day));
      await mail.vacationRemember('short', 'bob@example.org', new Date(t0.getTime() + day));
      assert.equal(await mail.vacationAnswered('away', 'ann@example.org', t0), true);
      assert.equal(await mail.vacationAnswered('other', 'ann@example.org', t0), false);
      assert.equal(await mail.vacationAnswered('away', 'ann@example.org', new Date(t0.getTime() + 7 * day)), false);
      // Remembering again moves the end.
      await mail.vacationRemember('away', 'ann@example.org', new Date(t0.getTime() + 2 * day));
      assert.equal(await mail.vacationAnswered('away', 'ann@example.org', new Date(t0.getTime() + 3 * day)), false);
      if (mail.vacationList) {
        // The migration's view: memories in effect after a time, the address as kept (lower case).
        const listed = (await mail.vacationList(t0)).map((m) => [m.handle, m.address, m.until.getTime() - t0.getTime()]).sort();
        assert.deepEqual(listed, [['away', 'ann@example.org', 2 * day], ['short', 'bob@example.org', day]]);
        assert.deepEqual((await mail.vacationList(new Date(t0.getTime() + day))).map((m) => m.handle), ['away']);
      }
      assert.equal(await mail.vacationPrune(new Date(t0.getTime() + day)), 1);
      assert.equal(await mail.vacationAnswered('short', 'bob@example.org', t0), false);
      assert.equal(await mail.vacationAnswered('away', 'ann@example.org', t0), true);
      assert.equal(await mail.vacationPrune(new Date(t0.getTime() + 10 * day)), 1);
      assert.equal(await mail.vacationAnswered('away', 'ann@example.org', t0), false);
    });

    test('vacation claim: of 20 concurrent claims exactly one wins; an ended memory can be claimed again', async ({ open }) => {
      const mail = await open();
      if (!hasSieveStorage(mail)) return;
      const t0 = new Date('2026-12-01T00:00:00Z');
      const day = 86_400_000;
      const until = new Date(t0.getTime() + day);
      // Claims on separate handles, as separate deliveries (or nodes) make them.
      const handles = [mail, ...(await Promise.all(Array.from({ length: 4 }, () => open())))].map((h) => sieveStorage(h));
      const won = await Promise.all(Array.from({ length: 20 }, (_, i) => claimVacation(handles[i % handles.length]!, 'away', i % 2 ? 'Pal@Example.org' : 'pal@example.org', t0, until)));
      assert.equal(won.filter(Boolean).length, 1, `winners: ${won.join(',')}`);
      assert.equal(await mail.vacationAnswered('away', 'pal@example.org', t0), true);
      assert.equal(await claimVacation(mail, 'away', 'pal@example.org', new Date(t0.getTime() + day - 1), new Date(t0.getTime() + 2 * day)), false);
      assert.equal(await claimVacation(mail, 'other', 'pal@example.org', t0, until), true, 'another handle is another memory');
      // At its end the memory is over: one of many claims wins again, with the new end.
      const later = new Date(t0.getTime() + day);
      const again = await Promise.all(Array.from({ length: 20 }, (_, i) => claimVacation(handles[i % handles.length]!, 'away', 'pal@example.org', later, new Date(later.getTime() + day))));
      assert.equal(again.filter(Boolean).length, 1);
      assert.equal(await mail.vacationAnswered('away', 'pal@example.org', new Date(later.getTime() + day - 1)), true);
      if (mail.vacationList) {
        const ends = (await mail.vacationList(t0)).filter((m) => m.handle === 'away').map((m) => m.until.getTime() - t0.getTime());
        assert.deepEqual(ends, [2 * day]);
      }
    });

    test('vacation release: gives back only the claim it names; the sender can be claimed at once', async ({ open }) => {
      const mail = await open();
      if (!hasSieveStorage(mail)) return;
      const t0 = new Date('2026-12-01T00:00:00Z');
      const until = new Date(t0.getTime() + 3_600_000);
      assert.equal(await claimVacation(mail, 'h', 'x@example.org', t0, until), true);
      await releaseVacation(mail, 'h', 'X@example.org', t0, until);
      assert.equal(await mail.vacationAnswered('h', 'x@example.org', t0), false);
      assert.equal(await claimVacation(mail, 'h', 'x@example.org', t0, until), true);
      if (!hasVacationClaim(mail)) return; // the fallback release cannot tell claims apart
      // A claim made after an earlier one ended is not given back by the earlier claimant.
      const later = new Date(until.getTime() + 1000);
      const laterUntil = new Date(later.getTime() + 3_600_000);
      assert.equal(await mail.vacationClaim('h', 'x@example.org', later, laterUntil), true);
      await mail.vacationRelease('h', 'x@example.org', until);
      assert.equal(await mail.vacationAnswered('h', 'x@example.org', later), true);
    });

    test('vacation claim and release come together or not at all', async ({ open }) => {
      const mail = await open();
      if (!hasSieveStorage(mail)) return;
      const present = VACATION_CLAIM_METHODS.filter((m) => typeof mail[m] === 'function');
      assert.ok(present.length === 0 || present.length === VACATION_CLAIM_METHODS.length, `only ${present.join(', ')}`);
    });

    test('scripts survive closing the handle', async ({ store, open }) => {
      const mail = await store.open('alice');
      if (!hasSieveStorage(mail)) return void (await mail.close());
      await mail.sievePut('kept', 'keep;');
      await mail.sieveSetActive('kept');
      await mail.close();
      const again = await open();
      assert.deepEqual(await sieveStorage(again).sieveActive(), { name: 'kept', content: 'keep;' });
    });
  });
}
