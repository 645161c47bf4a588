/**
 * Real clients against OBJECTID (RFC 8474), SAVEDATE (RFC 8514) and PREVIEW (RFC 8970), every
 * store: imapflow fetches `emailId`/`threadId` (it asks for EMAILID on every FETCH, and THREADID when asked, once OBJECTID is
 * offered) and reads MAILBOXID from CREATE; Python imaplib drives the raw items and keys.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ImapFlow } from 'imapflow';
import { serverForSuite, type TestServer } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';

const script = fileURLToPath(new URL('./python/objectid_scenario.py', import.meta.url));

function client(server: TestServer): ImapFlow {
  return new ImapFlow({ host: server.host, port: server.port, secure: false, auth: { user: 'alice', pass: 'secret' }, logger: false, disableAutoIdle: true, tls: { rejectUnauthorized: false } });
}

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`OBJECTID, SAVEDATE and PREVIEW with real clients (${storeName} store)`, () => {
    const server = serverForSuite(factory);

    it('imapflow: emailId and threadId across COPY and MOVE, threadId shared by a reply, mailboxId from CREATE', async () => {
      const c = client(server());
      await c.connect();
      try {
        assert.ok(c.capabilities.has('OBJECTID'));
        const created = await c.mailboxCreate('flow-objectid');
        assert.match(String((created as { mailboxId?: string }).mailboxId), /^F[0-9a-f]{24}$/);
        await c.append('INBOX', 'Subject: root\r\nMessage-ID: <root@flow.example>\r\n\r\nroot\r\n');
        await c.append('INBOX', 'Subject: Re: root\r\nMessage-ID: <reply@flow.example>\r\nReferences: <root@flow.example>\r\n\r\nreply\r\n');
        await c.append('INBOX', 'Subject: alone\r\n\r\nno ids\r\n');
        await c.mailboxOpen('INBOX');
        const before = new Map<number, { emailId?: string; threadId?: string }>();
        for await (const m of c.fetch('1:*', { uid: true, threadId: true })) before.set(m.uid, { emailId: m.emailId, threadId: m.threadId });
        assert.equal(before.size, 3);
        const [root, reply, alone] = [...before.values()];
        assert.match(String(root!.emailId), /^M[0-9a-f]{24}$/);
        assert.notEqual(root!.emailId, reply!.emailId);
        assert.equal(root!.threadId, reply!.threadId, 'a reply shares its thread');
        assert.match(String(root!.threadId), /^T[0-9a-f]{24}$/);
        assert.equal(alone!.threadId, `T${alone!.emailId!.slice(1)}`, 'a message without Message-ID or references is a thread of its own');
        await c.messageMove('1', 'flow-objectid', { uid: true });
        await c.mailboxOpen('flow-objectid');
        const moved = [];
        for await (const m of c.fetch('1:*', { uid: true, threadId: true })) moved.push(m);
        assert.equal(moved.length, 1);
        assert.equal(moved[0]!.emailId, root!.emailId, 'MOVE keeps the EMAILID');
        assert.equal(moved[0]!.threadId, root!.threadId);
      } finally {
        await c.logout();
      }
    });

    it('Python imaplib: STATUS/SELECT MAILBOXID across RENAME, FETCH EMAILID THREADID SAVEDATE PREVIEW, SEARCH by them', async () => {
      const res = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile('python3', [script, server().host, String(server().port)], { timeout: 60_000 }, (err, stdout, stderr) => {
          resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
        });
      });
      assert.equal(res.status, 0, `imaplib scenario failed:\n${res.stderr}\n${res.stdout}`);
      const summary = JSON.parse(res.stdout.trim().split('\n').pop()!) as Record<string, string>;
      assert.match(summary.mailboxid!, /^F[0-9a-f]{24}$/);
      assert.match(summary.emailid!, /^M[0-9a-f]{24}$/);
      assert.match(summary.threadid!, /^T[0-9a-f]{24}$/);
    });
  });
}
