/**
 * Two users end to end with real clients (RFC 4314 + RFC 2342): alice shares "Team" read-only with
 * bob (Python imaplib's setacl); bob finds it under the shared namespace with imapflow and imaplib,
 * reads it, and can neither flag, expunge nor delete it; alice grants "w"; bob's flag change reaches
 * alice's IDLE (imapflow), and alice's new message reaches bob's IDLE on the shared mailbox.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { ImapFlow } from 'imapflow';
import { serverForSuite, type TestServer } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';
import { until } from '../helpers/raw-client.js';

const script = join(dirname(fileURLToPath(import.meta.url)), 'python', 'imaplib_sharing.py');

function python(server: TestServer, step: string): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    execFile('python3', [script, server.host, String(server.port), step], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${step}: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as Record<string, string>);
    });
  });
}

function flow(server: TestServer, user: string, pass: string): ImapFlow {
  return new ImapFlow({ host: server.host, port: server.port, secure: false, doSTARTTLS: false, auth: { user, pass }, logger: false });
}

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`sharing with real clients (${storeName} store)`, () => {
    const server = serverForSuite(factory);

    it('alice shares read-only, bob reads but cannot change; alice grants w; IDLE both ways', async () => {
      await python(server(), 'alice-share');

      // bob with imapflow: the shared namespace, the mailbox in LIST, opened read-only.
      const bob = flow(server(), 'bob', 'hunter2');
      await bob.connect();
      try {
        const ns = (bob as unknown as { namespaces: { other?: Array<{ prefix: string; delimiter: string }> } }).namespaces;
        assert.deepEqual(ns.other, [{ prefix: 'Shared/', delimiter: '/' }]);
        const names = (await bob.list()).map((b) => b.path);
        assert.ok(names.includes('Shared/alice/Team'), names.join(', '));
        const box = await bob.mailboxOpen('Shared/alice/Team');
        assert.equal(box.readOnly, true);
        assert.equal(box.exists, 2);
        const msg = await bob.fetchOne('1', { source: true });
        assert.ok(msg && msg.source?.toString().includes('Subject: team 1'));
        assert.equal(await bob.messageFlagsAdd('1', ['\\Flagged']), false);
        assert.equal(await bob.messageDelete('1'), false);
        await bob.mailboxClose();
        await assert.rejects(bob.mailboxDelete('Shared/alice/Team'));
      } finally {
        await bob.logout();
      }
      const py = await python(server(), 'bob-readonly');
      assert.match(py['delete']!, /NOPERM/);

      // Nothing of alice's changed.
      const aliceStore = await server().store.open('alice');
      const team = await aliceStore.get('Team');
      const snap = await aliceStore.snapshot(team.id);
      assert.deepEqual(snap.messages.map((m) => m.flags), [[], []]);

      await python(server(), 'alice-grant');

      // alice IDLEs on Team; bob (imaplib) flags message 1; alice hears it.
      const alice = flow(server(), 'alice', 'secret');
      await alice.connect();
      const flagsSeen: Array<{ uid?: number; flags: Set<string> }> = [];
      alice.on('flags', (e: { uid?: number; flags: Set<string> }) => flagsSeen.push(e));
      try {
        await alice.mailboxOpen('Team');
        const idling = alice.idle();
        await python(server(), 'bob-flag');
        await until('alice hears bob\'s flag', () => flagsSeen.some((e) => e.flags.has('\\Flagged')), 10_000);
        void idling;
      } finally {
        await alice.logout();
      }

      // And the other way: bob IDLEs on the shared mailbox; alice appends; bob hears EXISTS.
      const bob2 = flow(server(), 'bob', 'hunter2');
      await bob2.connect();
      const exists: number[] = [];
      bob2.on('exists', (e: { count: number }) => exists.push(e.count));
      try {
        await bob2.mailboxOpen('Shared/alice/Team');
        void bob2.idle();
        await aliceStore.append(team.id, { content: Buffer.from('Subject: three\r\n\r\nthree\r\n') });
        await until('bob hears alice\'s new message', () => exists.includes(3), 10_000);
      } finally {
        await bob2.logout();
      }
    });
  });
}
