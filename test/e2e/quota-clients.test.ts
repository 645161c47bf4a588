/**
 * QUOTA through real clients: imapflow's getQuota() and Python imaplib's getquotaroot/getquota/
 * setquota, with an APPEND refused as [OVERQUOTA] (RFC 9208).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { ImapFlow } from 'imapflow';
import { serverForSuite } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';

const script = join(dirname(fileURLToPath(import.meta.url)), 'python', 'imaplib_quota.py');

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`QUOTA with real clients (${storeName} store)`, () => {
    const server = serverForSuite(factory, { administrators: ['alice'] });

    it('Python imaplib: setquota, two APPENDs, the third refused with [OVERQUOTA], getquotaroot/getquota/status agree', async () => {
      const out = await new Promise<string>((resolve, reject) => {
        execFile('python3', [script, server().host, String(server().port)], { timeout: 60_000 }, (err, stdout, stderr) => {
          if (err) reject(new Error(`${err.message}\n${stderr}`));
          else resolve(stdout);
        });
      });
      const summary = JSON.parse(out) as { refused: string; quota: string };
      assert.match(summary.refused, /OVERQUOTA/);
    });

    it('imapflow: getQuota() reports usage and limits in octets', async () => {
      await server().store.setQuota!('bob', { storage: 10 * 1024, messages: 50 });
      const client = new ImapFlow({ host: server().host, port: server().port, secure: false, doSTARTTLS: false, auth: { user: 'bob', pass: 'hunter2' }, logger: false });
      await client.connect();
      try {
        await client.append('INBOX', Buffer.from(`Subject: flow\r\n\r\n${'y'.repeat(3000)}\r\n`));
        const quota = await client.getQuota('INBOX');
        assert.ok(quota, 'getQuota answered');
        // imapflow keys the resources by their lower-case names and turns STORAGE into octets.
        const got = quota as unknown as Record<string, unknown>;
        assert.deepEqual(
          { storage: got['storage'], message: got['message'] },
          { storage: { usage: 2048, limit: 10240, status: '20%' }, message: { usage: 1, limit: 50, status: '2%' } },
        );
      } finally {
        await client.logout();
      }
    });
  });
}
