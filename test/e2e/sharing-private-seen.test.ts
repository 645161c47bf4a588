/**
 * Per-user \Seen in a shared mailbox, two users end to end (docs/sharing.md): alice shares "Team"
 * with bob ("lrs"); bob reads message 1 with Python imaplib (FETCH BODY[]) and sees it \Seen while
 * alice does not; alice's IDLE (imapflow) hears nothing of it; bob's other session (CONDSTORE) does,
 * with a new MODSEQ, and CHANGEDSINCE finds it; SEARCH and STATUS UNSEEN answer per user; COPY out
 * takes bob's \Seen; EXPUNGE takes bob's rows with the message.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { ImapFlow } from 'imapflow';
import { serverForSuite, type TestServer } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';
import { RawClient, loggedIn, run, until } from '../helpers/raw-client.js';

const script = join(dirname(fileURLToPath(import.meta.url)), 'python', 'imaplib_private_seen.py');

interface BobView {
  flags: Record<string, string[]>;
  seen: string;
  unseen: string;
  status: string;
}

function bobReads(server: TestServer): Promise<BobView> {
  return new Promise((resolve, reject) => {
    execFile('python3', [script, server.host, String(server.port)], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as BobView);
    });
  });
}

const login = (server: TestServer, user: string, pass: string): Promise<RawClient> => loggedIn(server.port, user, pass);

const last = (lines: string[]): string => lines[lines.length - 1]!;
const message = (n: number): Buffer => Buffer.from(`From: alice@example.org\r\nSubject: team ${n}\r\n\r\nhello ${n}\r\n`);

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`per-user \\Seen in a shared mailbox (${storeName} store)`, () => {
    const server = serverForSuite(factory);

    it("bob's \\Seen is his own: alice, her IDLE and her STATUS see none of it; bob's other session does", async () => {
      const alice = await server().store.open('alice');
      const team = await alice.create('Team');
      // alice has read 2 and 3 herself (the owner's \Seen, in the message's flags).
      for (const n of [1, 2, 3]) await alice.append(team.id, { content: message(n), flags: n === 1 ? [] : ['\\Seen'] });
      await alice.setAcl!(team.id, 'bob', 'lrs');

      // alice IDLEs on Team with imapflow and records every flag change she hears.
      const flow = new ImapFlow({ host: server().host, port: server().port, secure: false, doSTARTTLS: false, auth: { user: 'alice', pass: 'secret' }, logger: false });
      await flow.connect();
      const aliceFlags: Array<{ uid?: number; seq: number; flags: Set<string> }> = [];
      const aliceExists: number[] = [];
      flow.on('flags', (e: { uid?: number; seq: number; flags: Set<string> }) => aliceFlags.push(e));
      flow.on('exists', (e: { count: number }) => aliceExists.push(e.count));
      // bob's second session, CONDSTORE, selected before the read.
      const bob2 = await login(server(), 'bob', 'hunter2');
      try {
        await flow.mailboxOpen('Team');
        void flow.idle();
        const sel = await run(bob2, 's', 'SELECT Shared/alice/Team (CONDSTORE)');
        assert.match(last(sel), /^s OK \[READ-WRITE\]/, sel.join('\n'));
        const highest = Number(/HIGHESTMODSEQ (\d+)/.exec(sel.join('\n'))![1]);
        const before = await run(bob2, 'f0', 'FETCH 1:* (FLAGS)');
        assert.equal(before.filter((l) => l.includes('\\Seen')).length, 0, "alice's \\Seen is not bob's: " + before.join('\n'));

        // bob reads message 1 with Python imaplib.
        const view = await bobReads(server());
        assert.deepEqual(view.flags, { '1': ['\\Seen'], '2': [], '3': [] });
        assert.equal(view.seen, '1');
        assert.equal(view.unseen, '2 3');
        assert.match(view.status, /UNSEEN 2\)/);

        // bob's other session hears his \Seen, with a MODSEQ above what it had.
        // (Published before the FETCH that set it completed: the NOOP's answer has it.)
        const heard = await run(bob2, 'n', 'NOOP');
        const fetchLine = heard.find((l) => /^\* 1 FETCH /.test(l));
        assert.ok(fetchLine && fetchLine.includes('\\Seen'), heard.join('\n'));
        const modseq = Number(/MODSEQ \((\d+)\)/.exec(fetchLine)![1]);
        assert.ok(modseq > highest, fetchLine);
        const changed = await run(bob2, 'c', `FETCH 1:* (FLAGS) (CHANGEDSINCE ${highest})`);
        assert.deepEqual(
          changed.filter((l) => l.startsWith('* ')).map((l) => l.replace(/ MODSEQ \(\d+\)/, '')),
          ['* 1 FETCH (FLAGS (\\Seen))'],
          changed.join('\n'),
        );

        // A new message is the sentinel: alice hears it, and nothing before it about bob's \Seen
        // (her feed delivers in commit order).
        await alice.append(team.id, { content: message(4) });
        await until('alice hears the new message', () => aliceExists.includes(4), 10_000);
        assert.deepEqual(aliceFlags, [], "alice's IDLE heard bob's \\Seen");
        // alice flags message 2, which she has read: bob hears \Flagged, and not her \Seen.
        await alice.updateFlags(team.id, [2], 'add', ['\\Flagged']);
        const told = await run(bob2, 'n1', 'NOOP');
        const two = told.find((l) => /^\* 2 FETCH /.test(l));
        assert.ok(two && two.includes('\\Flagged') && !two.includes('\\Seen'), told.join('\n'));
      } finally {
        await flow.logout().catch(() => undefined);
      }

      // alice's own view: message 1 unread for her; STATUS UNSEEN per user.
      const a = await login(server(), 'alice', 'secret');
      try {
        assert.match(last(await run(a, 'sel', 'SELECT Team')), /^sel OK/);
        const flags = await run(a, 'f', 'FETCH 1:3 (FLAGS)');
        const sorted = flags
          .filter((l) => l.startsWith('* '))
          .map((l) => l.replace(/FLAGS \(([^)]*)\)/, (_, f: string) => `FLAGS (${f.split(' ').filter(Boolean).sort().join(' ')})`));
        assert.deepEqual(sorted, ['* 1 FETCH (FLAGS ())', '* 2 FETCH (FLAGS (\\Flagged \\Seen))', '* 3 FETCH (FLAGS (\\Seen))'], flags.join('\n'));
        assert.ok((await run(a, 'st', 'STATUS Team (UNSEEN)')).includes('* STATUS Team (UNSEEN 2)'));
        const bst = await run(bob2, 'st', 'STATUS Shared/alice/Team (UNSEEN)');
        assert.ok(bst.includes('* STATUS Shared/alice/Team (UNSEEN 3)'), bst.join('\n'));

        // STORE -FLAGS \Seen by bob is his own too; STORE +FLAGS \Seen on 4 likewise.
        assert.match(last(await run(bob2, 'n2', 'NOOP')), /^n2 OK/);
        assert.match(last(await run(bob2, 'u', 'STORE 4 +FLAGS (\\Seen)')), /^u OK/);
        assert.match(last(await run(bob2, 'u2', 'STORE 1 -FLAGS (\\Seen)')), /^u2 OK/);
        const bobSearch = await run(bob2, 'se', 'SEARCH SEEN');
        assert.ok(bobSearch.includes('* SEARCH 4'), bobSearch.join('\n'));
        const aliceSearch = await run(a, 'se', 'SEARCH UNSEEN');
        assert.ok(aliceSearch.includes('* SEARCH 1 4'), aliceSearch.join('\n'));

        // COPY out of the shared mailbox: the copies take bob's \Seen, not alice's.
        assert.match(last(await run(bob2, 'cp', 'COPY 1:4 INBOX')), /^cp OK/);
        const bob = await server().store.open('bob');
        const inbox = await bob.snapshot((await bob.get('INBOX')).id);
        assert.deepEqual(
          inbox.messages.map((m) => m.flags.includes('\\Seen')),
          [false, false, false, true],
        );

        // EXPUNGE by alice takes bob's rows with the message.
        assert.equal((await alice.privateSeen!(team.id, 'bob')).some((r) => r.uid === 4), true);
        await alice.updateFlags(team.id, [4], 'add', ['\\Deleted']);
        await alice.expunge(team.id);
        assert.equal((await alice.privateSeen!(team.id, 'bob')).some((r) => r.uid === 4), false);
      } finally {
        a.destroy();
        bob2.destroy();
      }
    });
  });
}
