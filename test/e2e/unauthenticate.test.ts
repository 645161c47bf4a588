/**
 * UNAUTHENTICATE (RFC 8437) end to end: the per-user resources of the first login are given back —
 * the per-user connection slot (another session can then log in under maxConnectionsPerUser), the
 * selected mailbox's change-feed subscription (the first user's new mail never reaches the
 * connection again) — and a second LOGIN as another user sees only that user's data; Python's
 * imaplib drives the same over its own command machinery. The RFC's rules, state by state, are in
 * test/transcripts/unauthenticate.txt for every store.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { serverForSuite, startImapServer } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';
import { RawClient, run, sleep } from '../helpers/raw-client.js';

describe('UNAUTHENTICATE (RFC 8437) end to end', () => {
  it('gives back the per-user connection slot and the selected mailbox; the next user sees only their data', async (t) => {
    const s = await startImapServer({ limits: { maxConnectionsPerUser: 1 } });
    t.after(() => s.close());
    const a = new RawClient(s.port);
    const b = new RawClient(s.port);
    try {
      await a.login();
      await run(a, 'c', 'CREATE alice-only');
      await run(a, 'p', 'APPEND INBOX {16+}\r\nSubject: first\r\n');
      assert.match((await run(a, 's', 'SELECT INBOX')).join('\n'), /\* 1 EXISTS/);
      await b.expect(/^\* OK/);
      assert.match((await run(b, 'l', 'LOGIN alice secret')).at(-1)!, /^l NO \[LIMIT\]/);

      assert.match((await run(a, 'u', 'UNAUTHENTICATE')).at(-1)!, /^u OK/);
      // Alice's slot is free again, and this connection is not authenticated any more.
      assert.match((await run(b, 'l2', 'LOGIN alice secret')).at(-1)!, /^l2 OK/);
      assert.match((await run(a, 'n', 'NOOP')).at(-1)!, /^n OK/);
      assert.match((await run(a, 'x', 'STATUS INBOX (MESSAGES)')).at(-1)!, /^x BAD/);

      assert.match((await run(a, 'l3', 'LOGIN bob hunter2')).at(-1)!, /^l3 OK/);
      assert.match((await run(a, 'st', 'STATUS alice-only (MESSAGES)')).at(-1)!, /^st NO \[NONEXISTENT\]/);
      const list = await run(a, 'li', 'LIST "" *');
      assert.doesNotMatch(list.join('\n'), /alice-only/);
      assert.match((await run(a, 's2', 'SELECT INBOX')).join('\n'), /\* 0 EXISTS/);
      // New mail for alice: her old view would report it; bob's session hears nothing of it.
      await run(b, 'p2', 'APPEND INBOX {17+}\r\nSubject: second\r\n');
      await sleep(100);
      const heard = await run(a, 'n2', 'NOOP');
      assert.deepEqual(heard, ['n2 OK NOOP completed']);
      // Alice's INBOX has both messages: the UNAUTHENTICATE expunged nothing.
      assert.match((await run(b, 'st2', 'STATUS INBOX (MESSAGES)'))[0]!, /MESSAGES 2/);
    } finally {
      a.destroy();
      b.destroy();
    }
  });

  for (const [storeName, factory] of Object.entries(storeFactories())) {
    describe(`Python imaplib (${storeName} store)`, () => {
      const server = serverForSuite(factory);
      it('UNAUTHENTICATE, then LOGIN as bob on the same connection: only bob\'s mailboxes and messages', async () => {
        const script = fileURLToPath(new URL('./python/imaplib_unauthenticate.py', import.meta.url));
        const res = await new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
          execFile('python3', [script, server().host, String(server().port)], { timeout: 60_000 }, (err, stdout, stderr) => {
            resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
          });
        });
        assert.equal(res.status, 0, `imaplib script failed:\n${res.stderr}\n${res.stdout}`);
        const summary = JSON.parse(res.stdout.trim().split('\n').pop()!) as { bob_mailboxes: string[] };
        assert.ok(summary.bob_mailboxes.some((l) => /INBOX/.test(l)));
      });
    });
  }
});
