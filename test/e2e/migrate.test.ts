/**
 * `postroom migrate`: SQLite → PostgreSQL → SQLite again, each checked with --verify (every mailbox,
 * message, flag, modseq, date and body compared, and ACLs, each viewer's own \Seen, annotations and
 * quota limits), and the verifier shown to catch a difference.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { sieveStorage } from '../../src/store/sieve-storage.js';
import { migrateMail } from '../../src/store/migrate/copy.js';
import { verifyMigration } from '../../src/store/migrate/verify.js';
import type { MailStore, UserMailbox } from '../../src/store/types.js';
import { postroom } from '../helpers/cli.js';
import { startImapServer } from '../helpers/imap-server.js';
import { RawClient, run } from '../helpers/raw-client.js';
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
    // Sharing: alice's Team shared with bob (less the negative "w"), anyone may see it, carol (no
    // user of this store) may read; bob's own \Seen on it (one row cleared again, with its modseq).
    const team = await alice.create('Team');
    for (let i = 1; i <= 3; i++) await alice.append(team.id, { content: msg(`team ${i}`), flags: i === 3 ? ['\\Seen'] : [] });
    await alice.setAcl!(team.id, 'bob', 'lrswi');
    await alice.setAcl!(team.id, '-bob', 'w');
    await alice.setAcl!(team.id, 'anyone', 'l');
    await alice.setAcl!(team.id, 'carol', 'lr');
    await alice.setPrivateSeen!(team.id, 'bob', [1, 2], true);
    await alice.setPrivateSeen!(team.id, 'bob', [2], false);
    await store.setQuota('alice', { storage: 50 * 1024 * 1024, messages: 1000 });
    // Annotations: alice's server scope and Team, /shared and /private, and bob's /private on Team.
    const text = (t: string): Buffer => Buffer.from(t);
    await alice.setMetadata!(null, [{ entry: '/shared/comment', value: text('Alice at home') }, { entry: '/private/vendor/x/y', value: Buffer.from([0, 1, 255]) }]);
    await alice.setMetadata!(team.id, [{ entry: '/shared/comment', value: text('Support queue') }, { entry: '/private/comment', value: text("alice's note") }]);
    await alice.setMetadata!(team.id, [{ entry: '/private/comment', value: text("bob's note") }], { viewer: 'bob' });
  } finally {
    await store.close();
  }
}

/** What sharing, quota and annotations look like in a store: alice's Team and server scope, bob's view of them. */
async function sharedState(store: MailStore): Promise<Record<string, unknown>> {
  const alice = await store.open('alice');
  try {
    const team = (await alice.get('Team')).id;
    const hex = (list: Array<{ entry: string; value: Buffer }>): string[][] => list.map((e) => [e.entry, e.value.toString('hex')]);
    const quota = await store.getQuota!('alice');
    return {
      acl: await alice.getAcl!(team),
      bobSeen: await alice.privateSeen!(team, 'bob'),
      teamHighestModseq: (await alice.snapshot(team)).highestModseq,
      quota: { source: quota.source, limits: quota.limits },
      server: hex(await alice.getMetadata!(null)),
      team: hex(await alice.getMetadata!(team)),
      teamForBob: hex(await alice.getMetadata!(team, { viewer: 'bob' })),
    };
  } finally {
    await alice.close();
  }
}

async function sharedStateOf(directory: string): Promise<Record<string, unknown>> {
  const store = await SqliteStore.open({ directory });
  try {
    return await sharedState(store);
  } finally {
    await store.close();
  }
}

/** `target` without the given members (a store that does not keep what they keep), and with `replaced` ones. */
function without<T extends object>(target: T, members: string[], replaced: Record<string, unknown> = {}): T {
  return new Proxy(target, {
    get(t, p) {
      if (typeof p === 'string' && p in replaced) return replaced[p];
      if (typeof p === 'string' && members.includes(p)) return undefined;
      const v: unknown = Reflect.get(t, p, t);
      return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(t) : v;
    },
  });
}

describe('postroom migrate', { timeout: 180_000 }, () => {
  it('SQLite → PostgreSQL → SQLite keeps every mailbox and message, checked by --verify', async () => {
    const source = tempDir();
    await fill(source);
    const expected = await sharedStateOf(source);
    // What fill() set, as the source store answers it (the rest of the test compares with this).
    assert.deepEqual(expected['acl'], [
      { identifier: '-bob', rights: 'w' },
      { identifier: 'anyone', rights: 'l' },
      { identifier: 'bob', rights: 'lrswi' },
      { identifier: 'carol', rights: 'lr' },
    ]);
    const bobSeen = expected['bobSeen'] as Array<{ uid: number; seen: boolean; modseq: number }>;
    assert.deepEqual(bobSeen.map((r) => [r.uid, r.seen]), [[1, true], [2, false]]);
    assert.ok(bobSeen[1]!.modseq > bobSeen[0]!.modseq);
    assert.deepEqual(expected['quota'], { source: 'store', limits: { storage: 50 * 1024 * 1024, messages: 1000 } });
    assert.deepEqual(expected['teamForBob'], [['/private/comment', Buffer.from("bob's note").toString('hex')], ['/shared/comment', Buffer.from('Support queue').toString('hex')]]);
    const url = await testDatabaseUrl();

    const there = await postroom(['migrate', '--from', `sqlite:${source}`, '--to', url, '--verify', '--no-progress']);
    assert.equal(there.code, 0, there.stderr);
    assert.match(there.stdout, /migrated 16 messages .* in 9 mailboxes of 2 users .*; 3 Sieve scripts, 1 vacation memories/);
    assert.match(there.stdout, /4 ACL entries, 2 private \\Seen rows, 5 annotations, 1 quota limits/);
    assert.match(there.stdout, /verified: 2 users, 9 mailboxes, 16 messages identical/);

    // Spot checks through the PostgreSQL store itself.
    const pg = await PostgresStore.open({ connectionString: url });
    try {
      assert.deepEqual(await sharedState(pg), expected);
      // bob finds alice's Team through the ACL, as the shared namespace does.
      const shared = await pg.sharedMailboxes!('bob');
      assert.deepEqual(shared.map((r) => [r.owner, r.name, r.acl.length]), [['alice', 'Team', 4]]);
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

    // Over IMAP on the PostgreSQL store: bob sees alice's Team with his rights, his own \Seen and his
    // annotation; alice sees her ACL and her quota limits. Nothing here changes anything.
    const imapStore = await PostgresStore.open({ connectionString: url });
    const imap = await startImapServer({ store: imapStore });
    const clients: RawClient[] = [];
    try {
      const login = async (user: string, pass: string): Promise<RawClient> => {
        const c = new RawClient(imap.port);
        clients.push(c);
        await c.expect(/^\* OK/);
        c.send(`L LOGIN ${user} ${pass}\r\n`);
        await c.expect(/^L OK/);
        return c;
      };
      const bob = await login('bob', 'hunter2');
      const rights = (await run(bob, 'm', 'MYRIGHTS Shared/alice/Team')).join('\n');
      assert.match(rights, /^\* MYRIGHTS Shared\/alice\/Team lrsi$/m, rights);
      assert.match((await run(bob, 'e', 'EXAMINE Shared/alice/Team')).at(-1)!, /^e OK/);
      const flags = (await run(bob, 'f', 'UID FETCH 1:* (FLAGS)')).join('\n');
      assert.match(flags, /UID 1 FLAGS \(\\Seen\)/, flags);
      assert.match(flags, /UID 2 FLAGS \(\)/, flags);
      assert.match(flags, /UID 3 FLAGS \(\)/, flags); // alice's \Seen is hers only
      const notes = (await run(bob, 'g', 'GETMETADATA Shared/alice/Team (/private/comment /shared/comment)')).join('\n');
      assert.match(notes, /\/private\/comment "bob's note" \/shared\/comment "Support queue"/, notes);
      const alice = await login('alice', 'secret');
      const acl = (await run(alice, 'a', 'GETACL Team')).join('\n');
      assert.match(acl, /^\* ACL Team .*-bob w.* anyone l.* bob lrswi.* carol lr/m, acl);
      const quota = (await run(alice, 'q', 'GETQUOTAROOT INBOX')).join('\n');
      assert.match(quota, /\* QUOTA \S+ \(STORAGE \d+ 51200 MESSAGE \d+ 1000\)/, quota);
    } finally {
      for (const c of clients) c.destroy();
      await imap.close();
      await imapStore.close();
    }

    const back = tempDir();
    // The appended message (UID 14) is now in PostgreSQL only: going back carries it too.
    const home = await postroom(['migrate', '--from', url, '--to', `sqlite:${back}`, '--verify', '--no-progress']);
    assert.equal(home.code, 0, home.stderr);
    assert.match(home.stdout, /verified: 2 users, 9 mailboxes, 17 messages identical/);
    assert.match(home.stdout, /3 Sieve scripts, 1 vacation memories, 4 ACL entries, 2 private \\Seen rows, 5 annotations, 1 quota limits/);
    assert.deepEqual(await sharedStateOf(back), expected);
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

  it('the verifier reports a flag, a modseq, a mailbox, an ACL, a private \\Seen, annotations and a quota limit that differ', async () => {
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
      const team = (await alice.get('Team')).id;
      await alice.setAcl!(team, 'anyone', null);
      await alice.setPrivateSeen!(team, 'bob', [3], true);
      await alice.setMetadata!(team, [{ entry: '/private/comment', value: Buffer.from('changed') }], { viewer: 'bob' });
      await alice.setMetadata!(null, [{ entry: '/shared/comment', value: null }]);
      await to.setQuota!('alice', { storage: 1024 });
      const result = await verifyMigration(from, to, ['alice', 'bob']);
      assert.ok(result.differences.some((d) => /alice\/INBOX: .*uid 5 .*in the target/.test(d)), result.differences.join('\n'));
      assert.ok(result.differences.some((d) => /highestModseq/.test(d)));
      assert.ok(result.differences.some((d) => /alice: 8 mailboxes in the source, 9 in the target/.test(d)));
      assert.ok(result.differences.some((d) => /alice: Sieve script main is active in the source only/.test(d)), result.differences.join('\n'));
      assert.ok(result.differences.some((d) => /alice: Sieve script spare has different text/.test(d)));
      const found = (re: RegExp): void => assert.ok(result.differences.some((d) => re.test(d)), `${re} not in:\n${result.differences.join('\n')}`);
      found(/^alice\/Team: ACL -bob w, anyone l, bob lrswi, carol lr in the source, -bob w, bob lrswi, carol lr in the target$/);
      found(/^alice\/Team: bob's own \\Seen differs \(2 rows in the source, 3 in the target; first UID 3: no row in the source, seen modseq \d+ in the target\)$/);
      found(/^alice\/Team: annotations of bob differ: \/private\/comment$/);
      found(/^alice \(server\): annotations differ: \/shared\/comment$/);
      found(/^alice: quota limits storage 52428800 messages 1000 in the source, storage 1024 messages unlimited in the target$/);
      // Nothing else of Team was reported: alice's own annotations and the other entries are the same.
      assert.ok(!result.differences.some((d) => /Team: annotations differ/.test(d)), result.differences.join('\n'));
    } finally {
      await from.close();
      await to.close();
    }
  });

  it('refuses, naming the user, a target that keeps no ACLs, annotations or private \\Seen while the source has them', async () => {
    const source = tempDir();
    await fill(source);
    const cases: Array<[string[], RegExp]> = [
      [['getAcl', 'setAcl'], /^alice: the target store does not keep access control lists \(ACL\)$/],
      [['getMetadata', 'setMetadata'], /^alice: the target store does not keep annotations \(METADATA\)$/],
      [['privateSeen', 'setPrivateSeen'], /^alice: the target store does not keep each user's own \\Seen in shared mailboxes$/],
    ];
    const from = await SqliteStore.open({ directory: source });
    try {
      for (const [members, message] of cases) {
        const pg = await PostgresStore.open({ connectionString: await testDatabaseUrl() });
        try {
          const target = without(pg, [], { open: async (user: string): Promise<UserMailbox> => without(await pg.open(user), members) });
          await assert.rejects(migrateMail({ from, to: target, users: ['alice'] }), (err: Error) => message.test(err.message));
        } finally {
          await pg.close();
        }
      }
      const pg = await PostgresStore.open({ connectionString: await testDatabaseUrl() });
      try {
        await assert.rejects(migrateMail({ from, to: without(pg, ['setQuota']), users: ['alice'] }), /^Error: alice: the target store does not keep quota limits$/);
      } finally {
        await pg.close();
      }
    } finally {
      await from.close();
    }
  });
});
