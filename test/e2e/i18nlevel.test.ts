/**
 * I18NLEVEL=1 (RFC 5255 §4) end to end, on every store: SEARCH with non-ASCII keys matched by the
 * i;unicode-casemap comparator (RFC 5051 — titlecase, then NFKD), from Python's imaplib (CHARSET
 * UTF-8, the key as a literal) and from imapflow (which sends CHARSET UTF-8 itself).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ImapFlow } from 'imapflow';
import { serverForSuite } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';

const script = fileURLToPath(new URL('./python/imaplib_i18n.py', import.meta.url));

const MESSAGES = [
  'From: =?utf-8?q?Andr=C3=A9?= <andre@example.org>\r\nSubject: =?utf-8?q?Caf=C3=A9_Stra=C3=9Fe?=\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nTreffen im Café.\r\n',
  'From: =?utf-8?q?=EF=BC=AD=EF=BD=81=EF=BD=92=EF=BD=89=EF=BD=81?= <m@example.org>\r\nSubject: STRASSE 12\r\n\r\nplain\r\n',
  'From: k@example.org\r\nSubject: ISTANBUL trip\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nΣΟΦΟΣ and the oﬃce\r\n',
  'From: d@example.org\r\nSubject: =?utf-8?q?=C7=84EMAL_STRA=E1=BA=9EE?=\r\n\r\ndz\r\n',
];

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`I18NLEVEL=1 end to end (${storeName} store)`, () => {
    const server = serverForSuite(factory);

    it('Python imaplib: SEARCH CHARSET UTF-8 with literals finds by i;unicode-casemap', async () => {
      const res = await new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
        // Asynchronous: a synchronous spawn would block the event loop this server runs on.
        execFile('python3', [script, server().host, String(server().port)], { timeout: 60_000 }, (err, stdout, stderr) => {
          resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
        });
      });
      assert.equal(res.status, 0, `imaplib scenario failed:\n${res.stderr}\n${res.stdout}`);
      const summary = JSON.parse(res.stdout.trim().split('\n').pop()!) as Record<string, number[]>;
      assert.deepEqual(summary['ıstanbul'], [3]);
      assert.deepEqual(summary['straße'], [1]);
    });

    it('imapflow: search() with non-ASCII keys', async () => {
      const client = new ImapFlow({ host: server().host, port: server().port, secure: false, auth: { user: 'alice', pass: 'secret' }, tls: { rejectUnauthorized: false }, logger: false, disableAutoIdle: true });
      await client.connect();
      try {
        assert.ok(client.capabilities.has('I18NLEVEL=1'));
        await client.mailboxCreate('flow-i18n');
        for (const m of MESSAGES) await client.append('flow-i18n', Buffer.from(m));
        await client.mailboxOpen('flow-i18n');
        const find = async (q: Parameters<ImapFlow['search']>[0]): Promise<number[]> => (await client.search(q, { uid: false })) || [];
        assert.deepEqual(await find({ subject: 'cafe' }), [1]);
        assert.deepEqual(await find({ subject: 'straße' }), [1], 'ẞ in message 4 is its own titlecase, ß has none');
        assert.deepEqual(await find({ subject: 'STRASSE' }), [2]);
        assert.deepEqual(await find({ from: 'maria' }), [2]);
        assert.deepEqual(await find({ subject: 'ıstanbul' }), [3]);
        assert.deepEqual(await find({ body: 'σοφοσ' }), [3]);
        assert.deepEqual(await find({ subject: 'ǆemal' }), [4]);
        assert.deepEqual(await find({ subject: 'dz' }), []);
        assert.deepEqual(await find({ body: 'ﬁ' }), [3]);
        assert.deepEqual(await find({ or: [{ subject: 'ＡＢＣ' }, { from: 'ＡＮＤＲＥ' }] }), [1]);
      } finally {
        await client.logout().catch(() => client.close());
      }
    });
  });
}
