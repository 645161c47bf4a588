/**
 * NOTIFY (RFC 5465) across sessions: one session asks for events, another changes mail, and the
 * first hears of it as the RFC says — between commands (no command running) and in IDLE. On every
 * store. The one-session rules (BADEVENT, BAD, STATUS indicator) are in test/transcripts/notify.txt.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { serverForSuite, startImapServer, type TestServer } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';
import { RawClient, run } from '../helpers/raw-client.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { ChangeFeed } from '../../src/store/change-feed.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { postgresUnavailable, testDatabaseUrl } from '../helpers/postgres.js';

let counter = 0;

async function alice(server: TestServer): Promise<RawClient> {
  const c = new RawClient(server.port);
  await c.login();
  return c;
}

async function append(c: RawClient, mailbox: string, subject: string): Promise<void> {
  const msg = `Subject: ${subject}\r\n\r\nbody\r\n`;
  const lines = await run(c, 'a', `APPEND ${mailbox} {${msg.length}+}\r\n${msg}`);
  assert.match(lines.at(-1)!, /^a OK/);
}

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`NOTIFY (${storeName} store)`, () => {
    const server = serverForSuite(factory, { allowInsecureAuth: true });

    it('is advertised after login', async () => {
      const c = await alice(server());
      const caps = await run(c, 'c', 'CAPABILITY');
      assert.match(caps[0]!, / NOTIFY( |$)/);
      c.destroy();
    });

    it('reports another session’s APPEND, flag change, CREATE, RENAME, DELETE, SUBSCRIBE as STATUS and LIST, between commands', async () => {
      const work = `work${++counter}`;
      const a = await alice(server());
      const b = await alice(server());
      await run(b, 'c', `CREATE ${work}`);
      const inbox = await run(a, 's', 'SELECT INBOX');
      const exists = Number(/^\* (\d+) EXISTS/.exec(inbox.find((l) => / EXISTS$/.test(l))!)![1]);
      const set = await run(a, 'n', 'NOTIFY SET (selected (MessageNew (UID FLAGS) MessageExpunge FlagChange)) (inboxes (MessageNew MessageExpunge FlagChange)) (personal (MailboxName SubscriptionChange))');
      assert.equal(set.at(-1), 'n OK NOTIFY completed');

      // MessageNew in another mailbox: STATUS (§5.2), with no command running in session a.
      await append(b, work, 'hello');
      assert.match(await a.expect(/^\* STATUS/), new RegExp(`^\\* STATUS ${work} \\(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \\d+ UNSEEN 1\\)$`));
      // FlagChange there: STATUS again, UNSEEN now 0 (§5.1).
      await run(b, 's', `SELECT ${work}`);
      await run(b, 'f', 'STORE 1 +FLAGS (\\Seen)');
      assert.match(await a.expect(/^\* STATUS/), new RegExp(`^\\* STATUS ${work} \\(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \\d+ UNSEEN 0\\)$`));
      // MessageExpunge there.
      await run(b, 'x', 'STORE 1 +FLAGS (\\Deleted)');
      await a.expect(/^\* STATUS/);
      await run(b, 'e', 'EXPUNGE');
      assert.match(await a.expect(/^\* STATUS/), new RegExp(`^\\* STATUS ${work} \\(MESSAGES 0 UIDNEXT 2 UIDVALIDITY \\d+ UNSEEN 0\\)$`));
      await run(b, 'u', 'UNSELECT');

      // MailboxName (§5.4): CREATE, RENAME with OLDNAME, DELETE with \NonExistent.
      await run(b, 'c2', `CREATE ${work}-new`);
      assert.equal(await a.expect(/^\* LIST/), `* LIST (\\HasNoChildren) "/" ${work}-new`);
      await run(b, 'r', `RENAME ${work}-new ${work}-renamed`);
      assert.equal(await a.expect(/^\* LIST/), `* LIST (\\HasNoChildren) "/" ${work}-renamed ("OLDNAME" (${work}-new))`);
      await run(b, 'd', `DELETE ${work}-renamed`);
      assert.equal(await a.expect(/^\* LIST/), `* LIST (\\NonExistent) "/" ${work}-renamed`);
      // SubscriptionChange (§5.5).
      await run(b, 'sub', `SUBSCRIBE ${work}`);
      assert.equal(await a.expect(/^\* LIST/), `* LIST (\\HasNoChildren \\Subscribed) "/" ${work}`);
      await run(b, 'uns', `UNSUBSCRIBE ${work}`);
      assert.equal(await a.expect(/^\* LIST/), `* LIST (\\HasNoChildren) "/" ${work}`);
      // A child: the mailbox and its direct parent are affected (§5.4).
      await run(b, 'c3', `CREATE ${work}/child`);
      assert.equal(await a.expect(/^\* LIST/), `* LIST (\\HasNoChildren) "/" ${work}/child`);
      assert.equal(await a.expect(/^\* LIST/), `* LIST (\\HasChildren) "/" ${work}`);
      await run(b, 'd3', `DELETE ${work}/child`);
      assert.equal(await a.expect(/^\* LIST/), `* LIST (\\NonExistent) "/" ${work}/child`);
      assert.equal(await a.expect(/^\* LIST/), `* LIST (\\HasNoChildren) "/" ${work}`);
      // RENAME of a parent: one LIST with OLDNAME, none for the child renamed with it (§5.4).
      await run(b, 'c4', `CREATE ${work}-p/c1`);
      const created = [await a.expect(/^\* LIST/), await a.expect(/^\* LIST/)].sort();
      assert.deepEqual(created, [`* LIST (\\HasChildren) "/" ${work}-p`, `* LIST (\\HasNoChildren) "/" ${work}-p/c1`]);
      await run(b, 'r4', `RENAME ${work}-p ${work}-q`);
      assert.equal(await a.expect(/^\* LIST/), `* LIST (\\HasChildren) "/" ${work}-q ("OLDNAME" (${work}-p))`);
      await run(a, 'z4', 'NOOP');
      assert.ok(!a.transcript.some((l) => l.includes(`${work}-q/c1`)), a.transcript.join('\n'));

      // The selected mailbox (SELECTED): EXISTS then FETCH with the asked attributes (§5.2), at once.
      await append(b, 'INBOX', 'to the selected one');
      assert.equal(await a.expect(/^\* \d+ EXISTS/), `* ${exists + 1} EXISTS`);
      assert.match(await a.expect(/FETCH/), new RegExp(`^\\* ${exists + 1} FETCH \\(UID \\d+ FLAGS \\(\\\\Recent\\)\\)$`));
      await run(b, 's2', 'SELECT INBOX');
      await run(b, 'f2', `STORE ${exists + 1} +FLAGS (\\Flagged)`);
      assert.match(await a.expect(/FETCH/), new RegExp(`^\\* ${exists + 1} FETCH \\(.*FLAGS \\([^)]*\\\\Flagged[^)]*\\).*\\)$`));
      await run(b, 'f3', `STORE ${exists + 1} +FLAGS (\\Deleted)`);
      await a.expect(/FETCH/);
      await run(b, 'e2', 'EXPUNGE');
      assert.equal(await a.expect(/EXPUNGE/), `* ${exists + 1} EXPUNGE`);
      // The selected mailbox never gets a STATUS (§5.1–5.3: STATUS is for other mailboxes).
      assert.ok(!a.transcript.some((l) => l.startsWith('* STATUS INBOX')), a.transcript.join('\n'));
      a.destroy();
      b.destroy();
    });

    it('reports during IDLE too (§4), and nothing of the client’s own changes (§5)', async () => {
      const box = `idle${++counter}`;
      const a = await alice(server());
      const b = await alice(server());
      await run(b, 'c', `CREATE ${box}`);
      await run(a, 'n', 'NOTIFY SET (personal (MessageNew MessageExpunge MailboxName))');
      // a's own CREATE: no LIST for it.
      await run(a, 'c', `CREATE ${box}-own`);
      await run(a, 'z', 'NOOP');
      assert.ok(!a.transcript.some((l) => l.startsWith('* LIST')), a.transcript.join('\n'));
      // The selected mailbox is not in the set (no SELECTED): IDLE sends exactly NOTIFY's events
      // (§4), so its new message waits for the end of a command (§3.1).
      const selected = await run(a, 's', `SELECT ${box}-own`);
      assert.ok(selected.includes('* 0 EXISTS'), selected.join('|'));
      a.send('i IDLE\r\n');
      await a.expect(/^\+ /);
      await append(b, `${box}-own`, 'to the selected one');
      await append(b, box, 'during idle');
      assert.match(await a.expect(/^\* STATUS/), new RegExp(`^\\* STATUS ${box} \\(MESSAGES 1 UIDNEXT 2 `));
      assert.ok(!a.transcript.some((l) => / EXISTS$/.test(l) && l !== '* 0 EXISTS'), a.transcript.join('\n'));
      a.send('DONE\r\n');
      assert.equal(await a.expect(/^i /), 'i OK IDLE terminated');
      // §3.1: without SELECTED the client wants no message events for the selected mailbox — not
      // at a command's end either; they are held (sequence numbers stay as the client knows them).
      const noop = await run(a, 'z1', 'NOOP');
      assert.deepEqual(noop, ['z1 OK NOOP completed']);
      assert.ok(!a.transcript.some((l) => / EXISTS$/.test(l) && l !== '* 0 EXISTS'), a.transcript.join('\n'));
      // NOTIFY NONE (an implicit NOOP, §3.1): what was held comes now; then silence for others' mailboxes.
      const none = await run(a, 'o', 'NOTIFY NONE');
      assert.deepEqual(none.filter((l) => / EXISTS$/.test(l)), ['* 1 EXISTS']);
      await append(b, box, 'after none');
      await run(a, 'z2', 'NOOP');
      assert.equal(a.transcript.filter((l) => l.startsWith('* STATUS')).length, 1, a.transcript.join('\n'));
      a.destroy();
      b.destroy();
    });

    it('UPDATE (fetch-att) of a search context (§7): EXISTS, one FETCH with NOTIFY’s and the context’s attributes, then ADDTO — between commands and in IDLE', async () => {
      const box = `ctx${++counter}`;
      const a = await alice(server());
      const b = await alice(server());
      await run(b, 'c', `CREATE ${box}`);
      await run(a, 's', `SELECT ${box}`);
      await run(a, 'n', 'NOTIFY SET (selected (MessageNew (UID) MessageExpunge))');
      const search = await run(a, 'q', 'SEARCH RETURN (COUNT UPDATE (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])) SUBJECT "boss"');
      assert.deepEqual(search, ['* ESEARCH (TAG "q") COUNT 0', 'q OK SEARCH completed']);
      // Not matching: NOTIFY's FETCH only, no ADDTO.
      await append(b, box, 'lunch');
      assert.equal(await a.expect(/EXISTS/), '* 1 EXISTS');
      assert.equal(await a.expect(/FETCH/), '* 1 FETCH (UID 1)');
      // Matching: the attributes combined in one FETCH (UID once), before the ADDTO.
      await append(b, box, 'from the boss');
      assert.equal(await a.expect(/EXISTS/), '* 2 EXISTS');
      assert.equal(await a.expect(/FETCH/), '* 2 FETCH (UID 2 BODY[HEADER.FIELDS (SUBJECT)] {26}');
      assert.equal(await a.expect(/.*/), 'Subject: from the boss');
      assert.equal(await a.expect(/.*/), '');
      assert.equal(await a.expect(/.*/), ')');
      assert.equal(await a.expect(/ESEARCH/), '* ESEARCH (TAG "q") ADDTO (0 2)');
      // In IDLE the same order.
      a.send('i IDLE\r\n');
      await a.expect(/^\+ /);
      await append(b, box, 'boss again');
      assert.equal(await a.expect(/EXISTS/), '* 3 EXISTS');
      assert.match(await a.expect(/FETCH/), /^\* 3 FETCH \(UID 3 BODY\[HEADER\.FIELDS \(SUBJECT\)\] \{23\}$/);
      assert.equal(await a.expect(/ESEARCH/), '* ESEARCH (TAG "q") ADDTO (0 3)');
      a.send('DONE\r\n');
      await a.expect(/^i OK/);
      const order = a.transcript.filter((l) => /EXISTS|FETCH|ESEARCH/.test(l)).slice(-3);
      assert.deepEqual(order.map((l) => l.split(' ')[2]), ['EXISTS', 'FETCH', '(TAG']);
      a.destroy();
      b.destroy();
    });

    it('SELECTED-DELAYED keeps the selected mailbox’s changes for a command (§6.1.2); with CONDSTORE, STATUS carries HIGHESTMODSEQ (§5.2)', async () => {
      const box = `delayed${++counter}`;
      const other = `${box}-other`;
      const a = await alice(server());
      const b = await alice(server());
      await run(b, 'c', `CREATE ${box}`);
      await run(b, 'c2', `CREATE ${other}`);
      await append(b, box, 'one');
      await run(a, 'e', 'ENABLE CONDSTORE');
      await run(a, 's', `SELECT ${box}`);
      await run(a, 'n', 'NOTIFY SET (selected-delayed (MessageNew MessageExpunge)) (personal (MessageNew MessageExpunge))');
      await run(b, 's', `SELECT ${box}`);
      await run(b, 'f', 'STORE 1 +FLAGS (\\Deleted)');
      await run(b, 'x', 'EXPUNGE');
      await append(b, other, 'elsewhere');
      // The other mailbox's STATUS arrives unasked; the selected one's EXPUNGE does not.
      assert.match(await a.expect(/^\* STATUS/), new RegExp(`^\\* STATUS ${other} \\(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \\d+ UNSEEN 1 HIGHESTMODSEQ \\d+\\)$`));
      assert.ok(!a.transcript.some((l) => / EXPUNGE$/.test(l)), a.transcript.join('\n'));
      const noop = await run(a, 'z', 'NOOP');
      assert.ok(noop.includes('* 1 EXPUNGE'), noop.join('\n'));
      a.destroy();
      b.destroy();
    });

    it('NOTIFY SET STATUS over many mailboxes answers a STATUS each; too many names is NO [NOTIFICATIONOVERFLOW]', async () => {
      const a = await alice(server());
      const names = Array.from({ length: 10_000 }, (_, i) => `m${i}`);
      // 10,000 names in one command: refused cleanly — by maxTokens (10,000) before NOTIFY sees it,
      // or, with that raised, by maxNotifyMailboxNames (1,000).
      const lines = await run(a, 'n', `NOTIFY SET (mailboxes (${names.join(' ')}) (MessageNew MessageExpunge))`);
      assert.match(lines.at(-1)!, /^n (NO \[NOTIFICATIONOVERFLOW\]|BAD) /);
      const ok = await run(a, 'n2', `NOTIFY SET (mailboxes (${names.slice(0, 1000).join(' ')}) (MessageNew MessageExpunge))`);
      assert.equal(ok.at(-1), 'n2 OK NOTIFY completed');
      const tooMany = await run(a, 'n3', `NOTIFY SET (mailboxes (${names.slice(0, 1001).join(' ')}) (MessageNew MessageExpunge))`);
      assert.match(tooMany.at(-1)!, /^n3 NO \[NOTIFICATIONOVERFLOW\] /);
      a.destroy();
    });
  });
}

describe('NOTIFY limits and access', () => {
  it('without SELECTED, held changes of the selected mailbox beyond maxNotifyQueuedEvents end NOTIFY with NOTIFICATIONOVERFLOW and are reported (§5.8)', async () => {
    const server = await startImapServer({ limits: { maxNotifyQueuedEvents: 3 } });
    try {
      const a = await alice(server);
      const b = await alice(server);
      await run(a, 's', 'SELECT INBOX');
      await run(a, 'n', 'NOTIFY SET (mailboxes Nowhere (MessageNew MessageExpunge))');
      for (let i = 0; i < 5; i++) await append(b, 'INBOX', `m${i}`);
      const lines = await run(a, 'z', 'NOOP');
      assert.ok(lines.some((l) => l.startsWith('* OK [NOTIFICATIONOVERFLOW]')), lines.join('\n'));
      assert.ok(lines.includes('* 5 EXISTS'), lines.join('\n'));
      a.destroy();
      b.destroy();
    } finally {
      await server.close();
    }
  });

  it('PERSONAL over 10,000 mailboxes: a STATUS each with the STATUS indicator, then one STATUS per changed mailbox', async () => {
    const store = new MemoryStore();
    const server = await startImapServer({ store, limits: { maxMailboxesPerUser: 10_001 } });
    try {
      const handle = await store.open('alice');
      const ids: string[] = [];
      for (let i = 0; i < 10_000; i++) ids.push((await handle.create(`many/m${i}`)).id);
      const a = await alice(server);
      const lines = await run(a, 'n', 'NOTIFY SET STATUS (personal (MessageNew MessageExpunge))');
      assert.equal(lines.at(-1), 'n OK NOTIFY completed');
      // INBOX, "many" (made a mailbox by CREATE) and the 10,000.
      assert.equal(lines.filter((l) => l.startsWith('* STATUS ')).length, 10_002);
      await handle.append(ids[4321]!, { content: Buffer.from('Subject: x\r\n\r\nx\r\n') });
      assert.match(await a.expect(/^\* STATUS/), /^\* STATUS many\/m4321 \(MESSAGES 1 /);
      a.destroy();
    } finally {
      await server.close();
    }
  });

  it('overflow: beyond maxNotifyQueuedEvents the session gets OK [NOTIFICATIONOVERFLOW] and no more until the next NOTIFY SET (§5.8)', async () => {
    const feed = new ChangeFeed();
    const store = new MemoryStore({ feed });
    const server = await startImapServer({ store, limits: { maxNotifyQueuedEvents: 3 } });
    try {
      const handle = await store.open('alice');
      const box = await handle.create('busy');
      const a = await alice(server);
      await run(a, 'n', 'NOTIFY SET (personal (MessageNew MessageExpunge FlagChange))');
      // Four changes heard before the session could report any (one synchronous burst of the feed).
      for (let i = 0; i < 4; i++) feed.publish('alice', { kind: 'flags', mailboxId: box.id, changes: [] });
      assert.match(await a.expect(/^\* OK \[NOTIFICATIONOVERFLOW\]/), /^\* OK \[NOTIFICATIONOVERFLOW\] /);
      // Off now: a real change is not reported.
      await handle.append(box.id, { content: Buffer.from('Subject: x\r\n\r\nx\r\n') });
      const quiet = await run(a, 'z', 'NOOP');
      assert.deepEqual(quiet, ['z OK NOOP completed']);
      // A new NOTIFY SET turns it back on.
      await run(a, 'n2', 'NOTIFY SET (personal (MessageNew MessageExpunge FlagChange))');
      await handle.append(box.id, { content: Buffer.from('Subject: y\r\n\r\ny\r\n') });
      assert.match(await a.expect(/^\* STATUS/), /^\* STATUS busy \(MESSAGES 2 /);
      a.destroy();
    } finally {
      await server.close();
    }
  });

  it('shared mailboxes: without l never reported, l without r is LIST (\\NoAccess), lr gets STATUS, losing l is \\NonExistent', async () => {
    const store = new MemoryStore();
    const server = await startImapServer({ store });
    try {
      const owner = await store.open('alice');
      const hidden = await owner.create('Hidden');
      const listOnly = await owner.create('ListOnly');
      const team = await owner.create('Team');
      await owner.setAcl!(hidden.id, 'bob', 'r');
      await owner.setAcl!(listOnly.id, 'bob', 'l');
      await owner.setAcl!(team.id, 'bob', 'lr');
      const bob = new RawClient(server.port);
      bob.send('L LOGIN bob hunter2\r\n');
      await bob.expect(/^L OK/);
      const set = await run(bob, 'n', 'NOTIFY SET STATUS (mailboxes (Shared/alice/Hidden Shared/alice/ListOnly Shared/alice/Team INBOX) (MessageNew MessageExpunge MailboxName))');
      assert.ok(!set.some((l) => l.includes('Hidden')), set.join('\n'));
      assert.ok(set.includes('* LIST (\\NoAccess) "/" Shared/alice/ListOnly'), set.join('\n'));
      assert.ok(set.some((l) => l.startsWith('* STATUS Shared/alice/Team (MESSAGES 0 ')), set.join('\n'));
      assert.ok(!set.some((l) => l.startsWith('* STATUS Shared/alice/ListOnly')), set.join('\n'));
      assert.equal(set.at(-1), 'n OK NOTIFY completed');
      // Changes by the owner: Team (lr) is reported, Hidden and ListOnly never.
      await owner.append(hidden.id, { content: Buffer.from('Subject: s\r\n\r\ns\r\n') });
      await owner.append(listOnly.id, { content: Buffer.from('Subject: s\r\n\r\ns\r\n') });
      await owner.append(team.id, { content: Buffer.from('Subject: t\r\n\r\nt\r\n') });
      assert.match(await bob.expect(/^\* STATUS/), /^\* STATUS Shared\/alice\/Team \(MESSAGES 1 /);
      await owner.rename('Hidden', 'Hidden2');
      // Bob's own INBOX still reported.
      const bobInbox = await store.open('bob');
      await bobInbox.append((await bobInbox.get('INBOX')).id, { content: Buffer.from('Subject: b\r\n\r\nb\r\n') });
      assert.match(await bob.expect(/^\* STATUS/), /^\* STATUS INBOX \(MESSAGES 1 /);
      // Revoking l is a deletion for bob (§5.4).
      await owner.setAcl!(team.id, 'bob', '');
      assert.equal(await bob.expect(/^\* LIST/), '* LIST (\\NonExistent) "/" Shared/alice/Team');
      await run(bob, 'z', 'NOOP');
      assert.ok(!bob.transcript.some((l) => l.includes('Hidden')), bob.transcript.join('\n'));
      assert.ok(!bob.transcript.some((l) => l.startsWith('* STATUS Shared/alice/ListOnly')), bob.transcript.join('\n'));
      bob.destroy();
    } finally {
      await server.close();
    }
  });
});

describe('NOTIFY across cluster nodes (PostgreSQL)', { skip: postgresUnavailable() ?? false }, () => {
  it('a session on one node hears an APPEND and a CREATE made on another node', { timeout: 60_000 }, async () => {
    const url = await testDatabaseUrl();
    const storeA = await PostgresStore.open({ connectionString: url, poolSize: 3 });
    const storeB = await PostgresStore.open({ connectionString: url, poolSize: 3 });
    const nodeA = await startImapServer({ store: storeA });
    const nodeB = await startImapServer({ store: storeB });
    try {
      const b = await alice(nodeB);
      await run(b, 'c', 'CREATE remote');
      const a = await alice(nodeA);
      await run(a, 'n', 'NOTIFY SET (personal (MessageNew MessageExpunge MailboxName))');
      await append(b, 'remote', 'from the other node');
      assert.match(await a.expect(/^\* STATUS/, 10_000), /^\* STATUS remote \(MESSAGES 1 UIDNEXT 2 /);
      await run(b, 'c2', 'CREATE remote2');
      assert.equal(await a.expect(/^\* LIST/, 10_000), '* LIST (\\HasNoChildren) "/" remote2');
      a.destroy();
      b.destroy();
    } finally {
      await nodeA.close();
      await nodeB.close();
      await storeA.close();
      await storeB.close();
    }
  });
});
