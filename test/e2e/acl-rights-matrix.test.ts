/**
 * RFC 4314 §4 rights matrix: alice shares "Team" (and its child "Team/Sub") with bob holding every
 * right but one; each command that needs that right, run by bob on alice's mailbox through the
 * shared namespace, fails with the RFC's response (NO [NOPERM], or for LIST the mailbox left out)
 * and changes nothing in either user's mail. Then "no right, no trace": without "l" the mailbox is
 * answered exactly like one that does not exist.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../../src/store/memory/index.js';
import { ALL_RIGHTS } from '../../src/store/acl.js';
import type { UserMailbox } from '../../src/store/types.js';
import { startImapServer } from '../helpers/imap-server.js';
import { RawClient, run } from '../helpers/raw-client.js';

const message = (n: number): string => `From: a${n}@example.org\r\nSubject: team ${n}\r\n\r\nbody ${n}\r\n`;

async function seeded(rights: string): Promise<{ store: MemoryStore; alice: UserMailbox }> {
  const store = new MemoryStore();
  const alice = await store.open('alice');
  const team = await alice.create('Team');
  const sub = await alice.create('Team/Sub');
  for (const n of [1, 2, 3]) await alice.append(team.id, { content: Buffer.from(message(n)), flags: n === 3 ? ['\\Deleted'] : [] });
  await alice.setAcl!(team.id, 'bob', rights);
  await alice.setAcl!(sub.id, 'bob', rights);
  const bob = await store.open('bob');
  await bob.append((await bob.get('INBOX')).id, { content: Buffer.from(message(9)) });
  return { store, alice };
}

/** Everything a command could change: both users' mailboxes, messages, flags and ACLs. */
async function state(store: MemoryStore): Promise<string> {
  const out: unknown[] = [];
  for (const user of ['alice', 'bob']) {
    const mail = await store.open(user);
    for (const box of (await mail.list()).sort((a, b) => a.name.localeCompare(b.name))) {
      const snap = box.noselect ? null : await mail.snapshot(box.id);
      // bob's own \Seen of alice's messages (per-user \Seen) is state too.
      const bobSeen = user === 'alice' && snap ? await mail.privateSeen!(box.id, 'bob') : [];
      out.push({ user, name: box.name, acl: await mail.getAcl!(box.id), messages: snap?.messages.map((m) => [m.uid, [...m.flags].sort()]), bobSeen });
    }
  }
  return JSON.stringify(out);
}

async function bobClient(port: number): Promise<RawClient> {
  const c = new RawClient(port);
  await c.expect(/^\* OK/);
  c.send('L LOGIN bob hunter2\r\n');
  await c.expect(/^L OK/);
  return c;
}

const last = (lines: string[]): string => lines[lines.length - 1]!;
const without = (right: string): string => [...ALL_RIGHTS].filter((r) => r !== right).join('');

interface Case {
  command: string;
  right: string;
  /** Commands run first (as bob), which must succeed. */
  before?: string[];
  run: string;
  /** The tagged answer expected; default NO [NOPERM]. */
  expect?: RegExp;
  /** Extra check on the untagged lines. */
  check?: (lines: string[]) => void;
}

const T = 'Shared/alice/Team';
const APPEND_LITERAL = `{${message(7).length}+}\r\n${message(7)}`;

const CASES: Case[] = [
  { command: 'LIST', right: 'l', run: 'LIST "" "*"', expect: /^t OK/, check: (l) => assert.ok(!l.some((x) => x.includes('Team')), l.join('\n')) },
  { command: 'SELECT', right: 'r', run: `SELECT ${T}` },
  { command: 'EXAMINE', right: 'r', run: `EXAMINE ${T}` },
  { command: 'STATUS', right: 'r', run: `STATUS ${T} (MESSAGES)` },
  { command: 'APPEND', right: 'i', run: `APPEND ${T} ${APPEND_LITERAL}` },
  { command: 'COPY', right: 'i', before: ['SELECT INBOX'], run: `COPY 1 ${T}` },
  { command: 'MOVE (into)', right: 'i', before: ['SELECT INBOX'], run: `MOVE 1 ${T}` },
  { command: 'CREATE', right: 'k', run: `CREATE ${T}/New` },
  { command: 'RENAME (new parent)', right: 'k', run: `RENAME ${T}/Sub ${T}/Sub2` },
  { command: 'RENAME (mailbox)', right: 'x', run: `RENAME ${T}/Sub ${T}/Sub2` },
  { command: 'DELETE', right: 'x', run: `DELETE ${T}/Sub` },
  { command: 'STORE \\Seen', right: 's', before: [`SELECT ${T}`], run: 'STORE 1 +FLAGS (\\Seen)' },
  { command: 'STORE \\Deleted', right: 't', before: [`SELECT ${T}`], run: 'STORE 1 +FLAGS (\\Deleted)' },
  { command: 'STORE \\Flagged', right: 'w', before: [`SELECT ${T}`], run: 'STORE 1 +FLAGS (\\Flagged)' },
  { command: 'STORE keyword', right: 'w', before: [`SELECT ${T}`], run: 'STORE 1 +FLAGS ($Work)' },
  { command: 'EXPUNGE', right: 'e', before: [`SELECT ${T}`], run: 'EXPUNGE' },
  { command: 'UID EXPUNGE', right: 'e', before: [`SELECT ${T}`], run: 'UID EXPUNGE 3' },
  { command: 'MOVE (out, t)', right: 't', before: [`SELECT ${T}`], run: 'MOVE 1 INBOX' },
  { command: 'MOVE (out, e)', right: 'e', before: [`SELECT ${T}`], run: 'MOVE 1 INBOX' },
  { command: 'SETACL', right: 'a', run: `SETACL ${T} carol lr` },
  { command: 'DELETEACL', right: 'a', run: `DELETEACL ${T} bob` },
  { command: 'GETACL', right: 'a', run: `GETACL ${T}` },
  { command: 'LISTRIGHTS', right: 'a', run: `LISTRIGHTS ${T} carol` },
  // Commands that do not fail without the right, but must not use it (RFC 4314 §4).
  { command: 'FETCH BODY[] (no \\Seen)', right: 's', before: [`SELECT ${T}`], run: 'FETCH 1 BODY[]', expect: /^t OK/, check: (l) => assert.ok(!l.some((x) => x.includes('\\Seen')), l.join('\n')) },
  { command: 'CLOSE (no expunge)', right: 'e', before: [`SELECT ${T}`], run: 'CLOSE', expect: /^t OK/ },
  { command: 'APPEND \\Seen (dropped)', right: 's', run: `APPEND ${T} (\\Seen) ${APPEND_LITERAL}`, expect: /^t OK/ },
];

describe('RFC 4314 §4 rights matrix: every command × the right it needs, removed', () => {
  for (const c of CASES) {
    test(`${c.command} without "${c.right}"`, async (t) => {
      const { store, alice } = await seeded(without(c.right));
      const server = await startImapServer({ store });
      t.after(() => server.close());
      const bob = await bobClient(server.port);
      t.after(() => bob.destroy());
      let i = 0;
      for (const cmd of c.before ?? []) assert.match(last(await run(bob, `b${i++}`, cmd)), /^b\d+ OK/, cmd);
      const before = await state(store);
      const lines = await run(bob, 't', c.run);
      assert.match(last(lines), c.expect ?? /^t NO \[NOPERM\]/, lines.join('\n'));
      c.check?.(lines);
      if (c.command.startsWith('APPEND \\Seen')) {
        // The message went in, without the flag bob may not set.
        const team = await alice.get('Team');
        const snap = await alice.snapshot(team.id);
        assert.equal(snap.messages.length, 4);
        assert.deepEqual(snap.messages[3]!.flags, []);
        return;
      }
      assert.equal(await state(store), before, 'nothing changed');
    });
  }

  test('with every right, the same commands succeed (the matrix is not vacuous)', async (t) => {
    const { store } = await seeded(ALL_RIGHTS);
    const server = await startImapServer({ store });
    t.after(() => server.close());
    const bob = await bobClient(server.port);
    t.after(() => bob.destroy());
    const ok = async (cmd: string): Promise<string[]> => {
      const lines = await run(bob, 'k', cmd);
      assert.match(last(lines), /^k OK/, `${cmd}\n${lines.join('\n')}`);
      return lines;
    };
    assert.ok((await ok('LIST "" "*"')).some((l) => l.includes(T)));
    await ok(`STATUS ${T} (MESSAGES)`);
    await ok(`GETACL ${T}`);
    await ok(`LISTRIGHTS ${T} carol`);
    await ok(`SETACL ${T} carol lr`);
    await ok(`DELETEACL ${T} carol`);
    await ok(`APPEND ${T} ${APPEND_LITERAL}`);
    await ok(`CREATE ${T}/New`);
    await ok(`RENAME ${T}/Sub ${T}/Sub2`);
    await ok(`DELETE ${T}/Sub2`);
    assert.match(last(await ok(`SELECT ${T}`)), /READ-WRITE/);
    await ok('STORE 1 +FLAGS (\\Seen \\Flagged $Work)');
    await ok('EXPUNGE');
    await ok('MOVE 1 INBOX');
    await ok('SELECT INBOX');
    await ok(`COPY 1 ${T}`);
  });
});

describe('no right, no trace: without "l" a mailbox is answered as if it did not exist', () => {
  test('LIST, STATUS, SELECT, EXAMINE, GETACL, MYRIGHTS, DELETE, APPEND and CREATE say the same for it as for a name that does not exist', async (t) => {
    // bob may read but not look up: still no trace.
    const { store } = await seeded('rswipkxtea');
    const server = await startImapServer({ store });
    t.after(() => server.close());
    const bob = await bobClient(server.port);
    t.after(() => bob.destroy());
    const list = await run(bob, 'l1', 'LIST "" "*"');
    assert.ok(!list.some((l) => /Team|alice/.test(l)), list.join('\n'));
    const lsub = await run(bob, 'l2', 'LIST "" "Shared/%"');
    assert.ok(!lsub.some((l) => /alice/.test(l)), lsub.join('\n'));
    const commands = [
      (n: string) => `STATUS ${n} (MESSAGES)`,
      (n: string) => `SELECT ${n}`,
      (n: string) => `EXAMINE ${n}`,
      (n: string) => `GETACL ${n}`,
      (n: string) => `MYRIGHTS ${n}`,
      (n: string) => `DELETE ${n}`,
      (n: string) => `APPEND ${n} ${APPEND_LITERAL}`,
      (n: string) => `SUBSCRIBE ${n}`,
    ];
    for (const cmd of commands) {
      const hidden = last(await run(bob, 'h', cmd(T)));
      const absent = last(await run(bob, 'h', cmd('Shared/alice/Nothing')));
      assert.equal(hidden.replace(T, 'X'), absent.replace('Shared/alice/Nothing', 'X'), `${cmd(T)}: ${hidden} vs ${absent}`);
    }
    // A user who shares nothing with bob, and a user who does not exist, look the same too.
    const a = last(await run(bob, 'u', 'STATUS Shared/alice/INBOX (MESSAGES)'));
    const b = last(await run(bob, 'u', 'STATUS Shared/nobody/INBOX (MESSAGES)'));
    assert.equal(a.replace('alice', 'X'), b.replace('nobody', 'X'));
    assert.match(a, /^u NO \[NONEXISTENT\]/);
    // Asking about a user does not create one.
    const known = (): Map<string, unknown> => Reflect.get(store, 'users') as Map<string, unknown>;
    assert.ok(!known().has('nobody'));
    assert.match(last(await run(bob, 'u', 'CREATE Shared/nobody/Box')), /^u NO /);
    assert.match(last(await run(bob, 'u', 'SELECT Shared/nobody')), /^u NO \[NONEXISTENT\]/);
    assert.ok(!known().has('nobody'));
  });
});

describe('a user whose own tree already has "Shared" keeps it', () => {
  test('own Shared/… mailboxes stay reachable; that user has no other users\' namespace', async (t) => {
    const { store } = await seeded('lr');
    const bobMail = await store.open('bob');
    await bobMail.create('Shared/Projects');
    const server = await startImapServer({ store });
    t.after(() => server.close());
    const bob = await bobClient(server.port);
    t.after(() => bob.destroy());
    assert.ok((await run(bob, 'n', 'NAMESPACE')).includes('* NAMESPACE (("" "/")) NIL NIL'));
    const list = await run(bob, 'l', 'LIST "" "*"');
    assert.ok(list.some((l) => l.endsWith('Shared/Projects')), list.join('\n'));
    assert.ok(!list.some((l) => l.includes('alice')), list.join('\n'));
    assert.match(last(await run(bob, 'c', 'CREATE Shared/alice/Mine')), /^c OK/);
    assert.ok((await bobMail.list()).some((b) => b.name === 'Shared/alice/Mine'));
  });
});

describe('the shared namespace as LIST, GETACL and SELECT show it', () => {
  test('Shared and Shared/alice are \\Noselect parents; GETACL lists the owner first; bob\'s IDLE-free NOOP sees alice\'s append', async (t) => {
    const { store, alice } = await seeded('lrsa');
    const server = await startImapServer({ store });
    t.after(() => server.close());
    const bob = await bobClient(server.port);
    t.after(() => bob.destroy());
    const top = await run(bob, 'l1', 'LIST "" "%"');
    assert.ok(top.includes('* LIST (\\Noselect \\HasChildren) "/" Shared'), top.join('\n'));
    const level = await run(bob, 'l2', 'LIST "" "Shared/%"');
    assert.ok(level.includes('* LIST (\\Noselect \\HasChildren) "/" Shared/alice'), level.join('\n'));
    const all = await run(bob, 'l3', 'LIST "" "Shared/*"');
    assert.ok(all.some((l) => l.endsWith('"/" Shared/alice/Team')), all.join('\n'));
    assert.ok(all.some((l) => l.endsWith('"/" Shared/alice/Team/Sub')), all.join('\n'));
    assert.match(last(await run(bob, 's1', 'SELECT Shared/alice')), /^s1 NO /);
    const acl = await run(bob, 'g', `GETACL ${T}`);
    assert.ok(acl.includes(`* ACL ${T} alice lrswipkxteacd bob lrsa`), acl.join('\n'));
    const sel = await run(bob, 's2', `SELECT ${T}`);
    // "s" alone makes it read-write (§5.2); PERMANENTFLAGS lists only \Seen, and no \*.
    assert.match(last(sel), /^s2 OK \[READ-WRITE\]/);
    assert.ok(sel.includes('* OK [PERMANENTFLAGS (\\Seen)] Flags permitted'), sel.join('\n'));
    await alice.append((await alice.get('Team')).id, { content: Buffer.from(message(4)) });
    const noop = await run(bob, 'n', 'NOOP');
    assert.ok(noop.includes('* 4 EXISTS'), noop.join('\n'));
    // A STORE naming one flag bob may change and one he may not changes the one (RFC 4314 §4).
    const store1 = await run(bob, 'st', 'STORE 1 +FLAGS (\\Seen \\Flagged)');
    assert.match(last(store1), /^st OK/);
    // \Seen is bob's own (per-user \Seen, docs/sharing.md): alice's flags stay as they were.
    const teamId = (await alice.get('Team')).id;
    assert.deepEqual((await alice.snapshot(teamId)).messages[0]!.flags, []);
    assert.deepEqual((await alice.privateSeen!(teamId, 'bob')).map((r) => [r.uid, r.seen]), [[1, true]]);
    assert.ok(store1.some((l) => /^\* 1 FETCH \(FLAGS \(\\Seen[ )]/.test(l)), store1.join('\n'));
  });
});
