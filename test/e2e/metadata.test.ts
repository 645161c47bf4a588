/**
 * RFC 5464 METADATA end to end (docs/metadata.md), on every store:
 * - rights (§3.3 with RFC 4314): bob without `l` gets the answer of a mailbox that does not exist;
 *   with `l` alone NO [NOPERM]; with `lr` he reads and sets /private entries (his own) but not
 *   /shared ones (they need `w`); nothing changes on any refusal;
 * - limits: a value literal over maxMetadataValueSize is NO [METADATA MAXSIZE n] before the
 *   continuation, the connection carries on; an annotation beyond maxMetadataEntries is NO [METADATA
 *   TOOMANY] and nothing of that command is kept;
 * - NOTIFY (RFC 5465 §5.6/§5.7): another session hears MailboxMetadataChange and
 *   ServerMetadataChange as METADATA responses with names only; its own changes are not reported;
 * - Python imaplib through raw commands.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { serverForSuite, type TestServer } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';
import { RawClient, loggedIn, run, until } from '../helpers/raw-client.js';

const script = join(dirname(fileURLToPath(import.meta.url)), 'python', 'imaplib_metadata.py');

const login = (server: TestServer, user: string, pass: string): Promise<RawClient> => loggedIn(server.port, user, pass);

const last = (lines: string[]): string => lines[lines.length - 1]!;

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`METADATA end to end (${storeName} store)`, () => {
    const server = serverForSuite(factory, {
      adminContact: 'mailto:postmaster@example.com',
      limits: { maxMetadataValueSize: 2048, maxMetadataEntries: 12 },
    });

    it('rights: no l is no trace, l alone is NOPERM, lr reads and keeps private entries, shared ones need w', async () => {
      const owner = await server().store.open('alice');
      const secret = await owner.create('Secret');
      const team = await owner.create('Team');
      await owner.setMetadata!(team.id, [{ entry: '/shared/comment', value: Buffer.from('team notes') }]);
      await owner.setMetadata!(secret.id, [{ entry: '/shared/comment', value: Buffer.from('hidden') }]);
      await owner.setAcl!(team.id, 'bob', 'l');
      const bob = await login(server(), 'bob', 'hunter2');
      try {
        // No `l`: exactly the answer of a name that does not exist.
        const hidden = last(await run(bob, 'h1', 'GETMETADATA Shared/alice/Secret /shared/comment'));
        const missing = last(await run(bob, 'h2', 'GETMETADATA Shared/alice/Nothing /shared/comment'));
        assert.match(hidden, /^h1 NO \[NONEXISTENT\]/);
        assert.equal(hidden.replace('h1', 'h2').replace('Secret', 'Nothing'), missing, 'a hidden mailbox answers as a missing one');
        assert.match(last(await run(bob, 'h3', 'SETMETADATA Shared/alice/Secret (/shared/comment "mine")')), /^h3 NO \[NONEXISTENT\]/);
        // `l` without any of r s w i p: NO [NOPERM], for reading and writing.
        assert.match(last(await run(bob, 'p1', 'GETMETADATA Shared/alice/Team /shared/comment')), /^p1 NO \[NOPERM\]/);
        assert.match(last(await run(bob, 'p2', 'SETMETADATA Shared/alice/Team (/private/comment "mine")')), /^p2 NO \[NOPERM\]/);
        await owner.setAcl!(team.id, 'bob', 'lr');
        const got = await run(bob, 'r1', 'GETMETADATA Shared/alice/Team (/shared/comment /private/comment)');
        assert.deepEqual(got, ['* METADATA Shared/alice/Team (/shared/comment "team notes" /private/comment NIL)', 'r1 OK GETMETADATA completed']);
        assert.equal(last(await run(bob, 'r2', 'SETMETADATA Shared/alice/Team (/private/comment "bob only")')), 'r2 OK SETMETADATA completed');
        // A /shared entry needs `w` too; the private one of the same command is not kept either.
        assert.match(last(await run(bob, 'r3', 'SETMETADATA Shared/alice/Team (/private/comment "changed" /shared/comment "bob was here")')), /^r3 NO \[NOPERM\]/);
        assert.deepEqual(
          (await owner.getMetadata!(team.id, { viewer: 'bob' })).map((e) => [e.entry, e.value.toString()]),
          [['/private/comment', 'bob only'], ['/shared/comment', 'team notes']],
          'nothing of a refused command changed',
        );
        assert.deepEqual((await owner.getMetadata!(team.id)).map((e) => e.entry), ['/shared/comment'], "bob's private entry is not alice's");
        await owner.setAcl!(team.id, 'bob', 'lrw');
        assert.equal(last(await run(bob, 'w1', 'SETMETADATA Shared/alice/Team (/shared/comment "bob was here")')), 'w1 OK SETMETADATA completed');
        assert.equal((await owner.getMetadata!(team.id)).find((e) => e.entry === '/shared/comment')?.value.toString(), 'bob was here');
        // Server entries are bob's own; /shared/admin is read-only for everyone.
        assert.match(last(await run(bob, 's1', 'SETMETADATA "" (/shared/admin "tel:+1-555-0100")')), /^s1 NO \[NOPERM\]/);
        assert.deepEqual(await run(bob, 's2', 'GETMETADATA "" /shared/admin'), ['* METADATA "" (/shared/admin "mailto:postmaster@example.com")', 's2 OK GETMETADATA completed']);
      } finally {
        bob.destroy();
      }
    });

    it('limits: MAXSIZE before the literal, TOOMANY keeps nothing of the command, bad input is answered and the session goes on', async () => {
      const c = await login(server(), 'bob', 'hunter2');
      try {
        // A huge synchronising literal: refused before the continuation, nothing of it is read.
        c.send('m1 SETMETADATA INBOX (/private/comment {10000000}\r\n');
        assert.equal(await c.expect(/^m1 /), 'm1 NO [METADATA MAXSIZE 2048] Literal too large (limit 2048 octets)');
        // The same value as a quoted string over the limit.
        assert.equal(last(await run(c, 'm2', `SETMETADATA INBOX (/private/comment "${'x'.repeat(2049)}")`)), 'm2 NO [METADATA MAXSIZE 2048] Annotation value larger than 2048 octets');
        assert.equal(last(await run(c, 'm3', `SETMETADATA INBOX (/private/comment "${'x'.repeat(2048)}")`)), 'm3 OK SETMETADATA completed');
        const pairs = Array.from({ length: 11 }, (_, i) => `/shared/n${i} "v${i}"`).join(' ');
        assert.equal(last(await run(c, 't1', `SETMETADATA INBOX (${pairs})`)), 't1 OK SETMETADATA completed');
        assert.equal(last(await run(c, 't2', 'SETMETADATA INBOX (/shared/n0 NIL /shared/x "1" /shared/y "2")')), 't2 NO [METADATA TOOMANY] Too many annotations (limit 12)');
        const kept = await run(c, 't3', 'GETMETADATA INBOX (/shared/n0 /shared/x)');
        assert.deepEqual(kept, ['* METADATA INBOX (/shared/n0 "v0" /shared/x NIL)', 't3 OK GETMETADATA completed'], 'nothing of the refused command is kept');
        assert.equal(last(await run(c, 't4', 'SETMETADATA INBOX (/shared/n0 NIL /shared/x "1")')), 't4 OK SETMETADATA completed', 'one removed makes room for one');
        // Garbage is BAD; the session answers the next command.
        assert.match(last(await run(c, 'b1', 'GETMETADATA INBOX (DEPTH 3) /shared')), /^b1 BAD /);
        assert.match(last(await run(c, 'b2', 'GETMETADATA INBOX (DEPTH infinity DEPTH 0) /shared')), /^b2 BAD /);
        assert.match(last(await run(c, 'b3', 'SETMETADATA INBOX (/shared/\x01x "v")')), /^b3 BAD /);
        assert.match(last(await run(c, 'b4', 'SETMETADATA INBOX (/private/caf\u00e9 "v")')), /^b4 BAD /);
        assert.match(last(await run(c, 'b5', 'SETMETADATA INBOX /shared/comment "v"')), /^b5 BAD /);
        assert.match(last(await run(c, 'b6', `GETMETADATA INBOX /shared/${'a'.repeat(1100)}`)), /^b6 BAD /);
        assert.equal(last(await run(c, 'n1', 'NOOP')), 'n1 OK NOOP completed');
      } finally {
        c.destroy();
      }
    });

    it('a non-synchronising value literal over the limit ends the session with BYE (its bytes are on the way), nothing is stored', async () => {
      const c = await login(server(), 'bob', 'hunter2');
      try {
        c.send(`m SETMETADATA INBOX (/private/vendor/big/x {5000+}\r\n${'x'.repeat(5000)})\r\n`);
        assert.equal(await c.expect(/^\* BYE/), '* BYE Literal too large (limit 2048 octets)');
        await until('the connection is closed', () => c.closed);
      } finally {
        c.destroy();
      }
      const bob = await server().store.open('bob');
      assert.deepEqual((await bob.getMetadata!((await bob.get('INBOX')).id)).filter((e) => e.entry.startsWith('/private/vendor/big')), []);
    });

    it('NOTIFY: another session hears MailboxMetadataChange and ServerMetadataChange, names only, not its own', async () => {
      const watcher = await login(server(), 'alice', 'secret');
      const writer = await login(server(), 'alice', 'secret');
      try {
        assert.equal(last(await run(watcher, 'c', 'CREATE Notes')).startsWith('c OK'), true);
        assert.equal(last(await run(watcher, 'n', 'NOTIFY SET (personal (MailboxMetadataChange)) (inboxes (ServerMetadataChange))')), 'n OK NOTIFY completed');
        assert.equal(last(await run(writer, 'w1', 'SETMETADATA Notes (/shared/comment "hi" /private/comment "me")')), 'w1 OK SETMETADATA completed');
        assert.equal(last(await run(writer, 'w2', 'SETMETADATA "" (/private/vendor/x/y NIL)')), 'w2 OK SETMETADATA completed');
        // Names only (RFC 5464 §4.4.2), in as many responses as the changes were reported in.
        const heard = (): string[] =>
          watcher.transcript
            .filter((l) => l.startsWith('* METADATA '))
            .flatMap((l) => {
              const [, mailbox, names] = /^\* METADATA ("[^"]*"|\S+) (.*)$/.exec(l)!;
              return names!.split(' ').map((n) => `${mailbox} ${n}`);
            })
            .sort();
        await until('the three names are heard', () => heard().length >= 3);
        assert.deepEqual(heard(), ['"" /private/vendor/x/y', 'Notes /private/comment', 'Notes /shared/comment']);
        // The watcher's own SETMETADATA is not reported to it (RFC 5465 §5).
        assert.equal(last(await run(watcher, 'o', 'SETMETADATA Notes (/shared/comment "own")')), 'o OK SETMETADATA completed');
        const after = await run(watcher, 'p', 'NOOP');
        assert.deepEqual(after, ['p OK NOOP completed']);
      } finally {
        watcher.destroy();
        writer.destroy();
      }
    });

    it('Python imaplib sets and reads annotations with raw commands', async () => {
      const out = await new Promise<Record<string, unknown>>((resolve, reject) => {
        execFile('python3', [script, server().host, String(server().port)], { timeout: 60_000 }, (err, stdout, stderr) => {
          if (err) reject(new Error(`${err.message}\n${stderr}`));
          else resolve(JSON.parse(stdout) as Record<string, unknown>);
        });
      });
      assert.deepEqual(out.capabilities, ['METADATA', 'METADATA-SERVER']);
      assert.equal(out.set, 'OK');
      assert.equal(out.set_literal, 'OK');
      assert.equal(out.get, 'OK');
      const flat = JSON.stringify(out.data);
      for (const part of ['/private/comment', 'from imaplib', '/shared/comment', 'hello', '/shared/vendor/python/notes', 'line one\\r\\nline two']) {
        assert.ok(flat.includes(part), `GETMETADATA data has ${part}: ${flat}`);
      }
      assert.ok(JSON.stringify(out.server).includes('mailto:postmaster@example.com'), JSON.stringify(out.server));
      assert.match(String(out.bad), /Invalid annotation entry name/);
    });
  });
}
