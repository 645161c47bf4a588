/**
 * `postroom migrate`: SQLite → PostgreSQL → SQLite again, each checked with --verify (every mailbox,
 * message, flag, modseq, date and body compared), and the verifier shown to catch a difference.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { sieveStorage } from '../../src/store/sieve-storage.js';
import { verifyMigration } from '../../src/store/migrate/verify.js';
import { postroom } from '../helpers/cli.js';
import { testDatabaseUrl } from '../helpers/postgres.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs('postroom-migrate-');
const msg = (subject: string, body = 'text'): Buffer => Buffer.from(`From: x@example.com\r\nSubject: ${subject}\r\n\r\n${body}\r\n`);

/** Mail with everything a migration must keep: gaps in UIDs, varied modseqs, keywords, a \Noselect parent, big bodies. */
async function fill(directory: string): Promise<void> {
  const store = await SqliteStore.open({ directory });
  try {
    const alice = await store.open('alice');
    const inbox = (await alice.get('INBOX')).id;
    for (let i = 1; i <= 12; i++) {
      await alice.append(inbox, { content: msg(`m${i}`), flags: i % 3 ? [] : ['\\Seen', '$Label1'], internalDate: new Date(Date.UTC(2020, 0, i, 8, 30)) });
    }
    await alice.updateFlags(inbox, [2, 4, 6], 'add', ['\\Deleted']);
    await alice.expunge(inbox);
    await alice.updateFlags(inbox, [7, 8], 'add', ['\\Flagged', 'Custom']);
    await alice.append(inbox, { content: Buffer.concat([msg('big'), Buffer.alloc(2.3 * 1024 * 1024, 'b')]) });
    const sent = await alice.create('Sent', { specialUse: '\\Sent' });
    await alice.copy(inbox, [1, 3], sent.id);
    await alice.create('Archive/2024/Q1');
    const parent = await alice.create('Old');
    await alice.create('Old/Kept');
    await alice.append(parent.id, { content: msg('gone with the parent') });
    await alice.delete('Old'); // leaves \Noselect "Old" with a child
    await alice.subscribe('Sent', true);
    await alice.subscribe('Not/There/Yet', true);
    const bob = await store.open('bob');
    await bob.append((await bob.get('INBOX')).id, { content: msg('for bob'), flags: ['\\Answered'] });
    // Sieve: two scripts, one active (non-ASCII text too), and vacation memory (one still in effect, one ended).
    await sieveStorage(alice).sievePut('main', 'require "fileinto";\r\nif header :contains "subject" "Grüße" { fileinto "Sent"; }\r\n');
    await sieveStorage(alice).sievePut('spare', 'keep;\r\n');
    await sieveStorage(alice).sieveSetActive('main');
    await sieveStorage(alice).vacationRemember('h1', 'Friend@Remote.test', new Date(Date.now() + 3 * 86_400_000));
    await sieveStorage(alice).vacationRemember('h1', 'old@remote.test', new Date(Date.now() - 1000));
    await sieveStorage(bob).sievePut('inactive', 'discard;\r\n');
  } finally {
    await store.close();
  }
}

describe('postroom migrate', { timeout: 180_000 }, () => {
  it('SQLite → PostgreSQL → SQLite keeps every mailbox and message, checked by --verify', async () => {
    const source = tempDir();
    await fill(source);
    const url = await testDatabaseUrl();

    const there = await postroom(['migrate', '--from', `sqlite:${source}`, '--to', url, '--verify', '--no-progress']);
    assert.equal(there.code, 0, there.stderr);
    assert.match(there.stdout, /migrated 13 messages .* in 8 mailboxes of 2 users .*; 3 Sieve scripts, 1 vacation memories/);
    assert.match(there.stdout, /verified: 2 users, 8 mailboxes, 13 messages identical/);

    // Spot checks through the PostgreSQL store itself.
    const pg = await PostgresStore.open({ connectionString: url });
    try {
      const alice = await pg.open('alice');
      const inbox = await alice.get('INBOX');
      const snap = await alice.snapshot(inbox.id);
      assert.deepEqual(snap.messages.map((m) => m.uid), [1, 3, 5, 7, 8, 9, 10, 11, 12, 13]);
      assert.equal(snap.uidNext, 14);
      assert.equal((await alice.get('Old')).noselect, true);
      assert.equal((await alice.get('Sent')).specialUse, '\\Sent');
      assert.ok((await alice.subscriptions()).includes('Not/There/Yet'));
      assert.deepEqual((await sieveStorage(alice).sieveList()).map((s) => [s.name, s.active]), [['main', true], ['spare', false]]);
      assert.match((await sieveStorage(alice).sieveActive())!.content, /Grüße/);
      assert.equal(await sieveStorage(alice).vacationAnswered('h1', 'friend@remote.test', new Date()), true);
      assert.equal(await sieveStorage(alice).vacationAnswered('h1', 'old@remote.test', new Date(0)), false);
      const bobThere = await pg.open('bob');
      assert.deepEqual((await sieveStorage(bobThere).sieveList()).map((s) => [s.name, s.active]), [['inactive', false]]);
      await bobThere.close();
      // A new message continues where the source left off, and UIDVALIDITY did not change.
      const next = await alice.append(inbox.id, { content: msg('after the move') });
      assert.equal(next.uid, 14);
      assert.equal(next.uidValidity, snap.uidValidity);
    } finally {
      await pg.close();
    }

    const back = tempDir();
    // The appended message (UID 14) is now in PostgreSQL only: going back carries it too.
    const home = await postroom(['migrate', '--from', url, '--to', `sqlite:${back}`, '--verify', '--no-progress']);
    assert.equal(home.code, 0, home.stderr);
    assert.match(home.stdout, /verified: 2 users, 8 mailboxes, 14 messages identical/);
    assert.match(home.stdout, /3 Sieve scripts, 1 vacation memories/);
    const sqliteBack = await SqliteStore.open({ directory: back });
    try {
      const alice = await sqliteBack.open('alice');
      assert.equal((await sieveStorage(alice).sieveActive())?.name, 'main');
      assert.equal(await sieveStorage(alice).vacationAnswered('h1', 'FRIEND@remote.test', new Date()), true);
      await alice.close();
    } finally {
      await sqliteBack.close();
    }

    const again = await postroom(['migrate', '--from', `sqlite:${source}`, '--to', url, '--no-progress']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /alice already has mail in the target store/);
  });

  it('the verifier reports a flag, a modseq and a mailbox that differ', async () => {
    const source = tempDir();
    await fill(source);
    const url = await testDatabaseUrl();
    assert.equal((await postroom(['migrate', '--from', `sqlite:${source}`, '--to', url, '--no-progress'])).code, 0);
    const [from, to] = [await SqliteStore.open({ directory: source }), await PostgresStore.open({ connectionString: url })];
    try {
      const alice = await to.open('alice');
      const inbox = (await alice.get('INBOX')).id;
      await alice.updateFlags(inbox, [5], 'add', ['$Changed']);
      await alice.create('Extra');
      await sieveStorage(alice).sievePut('spare', 'discard;\r\n');
      await sieveStorage(alice).sieveSetActive(null);
      const result = await verifyMigration(from, to, ['alice', 'bob']);
      assert.ok(result.differences.some((d) => /alice\/INBOX: .*uid 5 .*in the target/.test(d)), result.differences.join('\n'));
      assert.ok(result.differences.some((d) => /highestModseq/.test(d)));
      assert.ok(result.differences.some((d) => /alice: 7 mailboxes in the source, 8 in the target/.test(d)));
      assert.ok(result.differences.some((d) => /alice: Sieve script main is active in the source only/.test(d)), result.differences.join('\n'));
      assert.ok(result.differences.some((d) => /alice: Sieve script spare has different text/.test(d)));
    } finally {
      await from.close();
      await to.close();
    }
  });
});
