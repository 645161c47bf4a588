/**
 * UTF8=ACCEPT (RFC 6855) and 8-bit text only where accepted: a client that enabled it gets UTF-8
 * mailbox names and parameter values, any other gets 7-bit forms (modified UTF-7 names, RFC 2231
 * `name*` values) — checked on the wire, with Python's imaplib and with imapflow both ways.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ImapFlow } from 'imapflow';
import { serverForSuite, type TestServer } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';
import { RawClient, run } from '../helpers/raw-client.js';

const script = fileURLToPath(new URL('./python/imaplib_utf8.py', import.meta.url));

const MESSAGE =
  'Subject: report\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n' +
  '--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n' +
  "--b\r\nContent-Type: text/csv; name*=utf-8''%C3%9Cbersicht.csv\r\n" +
  "Content-Disposition: attachment; filename*=utf-8''%C3%9Cbersicht.csv\r\n\r\na,b\r\n--b--\r\n";

function flow(server: TestServer, autoEnable: boolean): ImapFlow {
  return new ImapFlow({
    host: server.host,
    port: server.port,
    secure: false,
    auth: { user: 'alice', pass: 'secret' },
    tls: { rejectUnauthorized: false },
    logger: false,
    disableAutoIdle: true,
    disableAutoEnable: !autoEnable,
  });
}

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`UTF8=ACCEPT and 7-bit fallbacks (${storeName} store)`, () => {
    const server = serverForSuite(factory, { allowInsecureAuth: true });

    it('sends an RFC 2231 attachment name in 7-bit form unless UTF8=ACCEPT is enabled (wire)', async () => {
      const c = new RawClient(server().port);
      await c.login();
      await run(c, 'a', `APPEND INBOX {${Buffer.byteLength(MESSAGE)}+}\r\n${MESSAGE}`);
      await run(c, 's', 'SELECT INBOX');
      const plain = (await run(c, 'f', 'FETCH 1 BODYSTRUCTURE'))[0]!;
      // RawClient reads latin1: an 8-bit byte would show as a character above U+007F.
      assert.ok(!/[^\x00-\x7f]/.test(plain), plain);
      assert.ok(plain.includes(`"filename*" "utf-8''%C3%9Cbersicht.csv"`), plain);
      c.destroy();

      const u = new RawClient(server().port);
      await u.login();
      assert.deepEqual(await run(u, 'e', 'ENABLE UTF8=ACCEPT'), ['* ENABLED UTF8=ACCEPT', 'e OK ENABLE completed']);
      await run(u, 's', 'SELECT INBOX');
      const utf8 = Buffer.from((await run(u, 'f', 'FETCH 1 BODYSTRUCTURE'))[0]!, 'latin1').toString('utf8');
      assert.ok(utf8.includes('"filename" "Übersicht.csv"'), utf8);
      u.destroy();
    });

    it('takes APPEND UTF8 (~{n}) with a raw UTF-8 header after ENABLE, and refuses UTF8 (~{n}) before', async () => {
      const header = Buffer.from('Subject: Grüße\r\n\r\nhallo\r\n', 'utf8');
      const c = new RawClient(server().port);
      await c.login();
      // (A bare ~{n} is RFC 3516 BINARY's APPEND, accepted with or without UTF8=ACCEPT.)
      c.send(`b APPEND INBOX UTF8 (~{${header.length}+}\r\n`);
      c.send(Buffer.concat([header, Buffer.from(')\r\n')]));
      assert.match(await c.expect(/^b /), /^b BAD/);
      await run(c, 'e', 'ENABLE UTF8=ACCEPT');
      c.send(`a APPEND INBOX UTF8 (~{${header.length}+}\r\n`);
      c.send(Buffer.concat([header, Buffer.from(')\r\n')]));
      assert.match(await c.expect(/^a /), /^a OK \[APPENDUID/);
      await run(c, 's', 'SELECT INBOX');
      const fetched = Buffer.from((await run(c, 'f', 'FETCH * BODY.PEEK[HEADER.FIELDS (SUBJECT)]')).join('\n'), 'latin1').toString('utf8');
      assert.ok(fetched.includes('Subject: Grüße'), fetched);
      c.destroy();
    });

    it('imapflow reads the attachment name either way (with and without ENABLE UTF8=ACCEPT)', async () => {
      for (const autoEnable of [false, true]) {
        const f = flow(server(), autoEnable);
        await f.connect();
        assert.equal(f.enabled.has('UTF8=ACCEPT'), autoEnable);
        await f.mailboxOpen('INBOX');
        const m = await f.fetchOne('1', { bodyStructure: true });
        assert.ok(m, 'message 1 fetched');
        const attachment = m.bodyStructure?.childNodes?.[1];
        assert.equal(attachment?.dispositionParameters?.filename, 'Übersicht.csv', `autoEnable ${autoEnable}`);
        assert.equal(attachment?.parameters?.name, 'Übersicht.csv', `autoEnable ${autoEnable}`);
        await f.logout();
      }
    });

    it('Python imaplib: UTF-8 names and values after enable("UTF8=ACCEPT"), 7-bit forms without', async () => {
      const res = await new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
        execFile('python3', [script, server().host, String(server().port)], { timeout: 60_000 }, (err, stdout, stderr) => {
          resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
        });
      });
      assert.equal(res.status, 0, `imaplib UTF-8 script failed:\n${res.stderr}\n${res.stdout}`);
      const summary = JSON.parse(res.stdout.trim().split('\n').pop()!) as Record<string, string>;
      assert.match(summary.ascii_bodystructure!, /"filename\*" "utf-8''%C3%9Cbersicht\.csv"/);
      assert.match(summary.utf8_bodystructure!, /"filename" "Übersicht\.csv"/);
    });
  });
}
