/**
 * URLAUTH (RFC 4467) over real sockets on every store: GENURLAUTH for the RFC's URL shapes (its
 * a775/a776 refusals are BAD), URLFETCH by the user the access identifier names, NIL for a wrong
 * key, another user, an expired URL and after RESETKEY; submit+ only for submission users; a
 * URLAUTH URL of another user's message in CATENATE; Python imaplib drives GENURLAUTH/URLFETCH.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { serverForSuite } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';
import { loggedIn, run } from '../helpers/raw-client.js';
import { StaticAuthenticator } from '../../src/auth/static-users.js';
import { fetched, generated } from '../helpers/urlauth.js';

const script = fileURLToPath(new URL('./python/imaplib_urlauth.py', import.meta.url));

const login = loggedIn;

const MESSAGE = 'Subject: joe\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: text/plain\r\n\r\nSi vis pacem, para bellum.\r\n--b--\r\n';

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`URLAUTH end to end (${storeName} store)`, () => {
    const server = serverForSuite(factory, {
      urlauthSubmitUsers: ['submitter'],
      auth: new StaticAuthenticator({ alice: 'secret', bob: 'hunter2', submitter: 'subpass' }),
    });

    it('GENURLAUTH, URLFETCH, wrong keys, expiry, access identifiers, RESETKEY', async () => {
      const alice = await login(server().port, 'alice', 'secret');
      const bob = await login(server().port, 'bob', 'hunter2');
      try {
        assert.match((await run(alice, 'cap', 'CAPABILITY'))[0]!, / URLAUTH /);
        alice.send(`a1 APPEND INBOX {${MESSAGE.length}+}\r\n${MESSAGE}\r\n`);
        assert.match(await alice.expect(/^a1 /), /^a1 OK/);
        const base = 'imap://alice@127.0.0.1/INBOX/;uid=1/;section=2';
        // RFC 4467 §7 examples a775 and a776: no access identifier, no owner: BAD.
        assert.match((await run(alice, 'a775', `GENURLAUTH "${base}" INTERNAL`)).at(-1)!, /^a775 BAD/);
        assert.match((await run(alice, 'a776', 'GENURLAUTH "imap://127.0.0.1/INBOX/;uid=1/;section=2;urlauth=user+bob" INTERNAL')).at(-1)!, /^a776 BAD/);
        assert.match((await run(alice, 'a7', 'GENURLAUTH "imap://bob@127.0.0.1/INBOX/;uid=1;urlauth=anonymous" INTERNAL')).at(-1)!, /^a7 BAD/);
        assert.match((await run(alice, 'a8', `GENURLAUTH "${base};urlauth=user+bob" XSAMPLE`)).at(-1)!, /^a8 BAD/);
        const forBob = generated(await run(alice, 'a777', `GENURLAUTH "${base};urlauth=user+bob" INTERNAL`));
        assert.match(forBob, new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')};urlauth=user\\+bob:internal:01[0-9a-f]{40}$`));
        // The same URL twice: the same token (deterministic, RFC 4467 §2.5).
        assert.equal(generated(await run(alice, 'a9', `GENURLAUTH "${base};urlauth=user+bob" INTERNAL`)), forBob);
        assert.equal(fetched(await run(bob, 'b1', `URLFETCH "${forBob}"`)), 'Si vis pacem, para bellum.');
        assert.equal(fetched(await run(alice, 'b2', `URLFETCH "${forBob}"`)), null, 'user+bob is for bob only');
        const last = forBob.at(-1) === '0' ? '1' : '0';
        assert.equal(fetched(await run(bob, 'b3', `URLFETCH "${forBob.slice(0, -1)}${last}"`)), null, 'a wrong key is NIL');
        assert.equal(fetched(await run(bob, 'b4', `URLFETCH "${forBob.replace(';uid=1/', ';uid=2/')}"`)), null, 'another URL with the token is NIL');
        // Several URLs in one URLFETCH: one response, NIL for the bad one, OK all the same.
        const both = await run(bob, 'b5', `URLFETCH "${forBob}" "imap://alice@127.0.0.1/INBOX/;uid=1;urlauth=anonymous:internal:0123456789abcdef0123456789abcdef"`);
        assert.match(both.at(-1)!, /^b5 OK/);
        assert.ok(both.some((l) => / NIL$/.test(l)), both.join('\n'));
        // Expiry: past is NIL, future reads; anonymous and authuser read for anyone logged in.
        const expired = generated(await run(alice, 'e1', 'GENURLAUTH "imap://alice@127.0.0.1/INBOX/;uid=1/;section=1;expire=2001-01-01T00:00:00Z;urlauth=authuser" INTERNAL'));
        assert.equal(fetched(await run(bob, 'e2', `URLFETCH "${expired}"`)), null);
        const future = generated(await run(alice, 'e3', 'GENURLAUTH "imap://alice@127.0.0.1/INBOX/;uid=1/;section=1;expire=2999-01-01T00:00:00Z;urlauth=anonymous" INTERNAL'));
        assert.equal(fetched(await run(bob, 'e4', `URLFETCH "${future}"`)), 'hello');
        // URL-PARTIAL in a URLAUTH URL.
        const partial = generated(await run(alice, 'p1', 'GENURLAUTH "imap://alice@127.0.0.1/INBOX/;uid=1/;section=2/;partial=3.4;urlauth=authuser" INTERNAL'));
        assert.equal(fetched(await run(bob, 'p2', `URLFETCH "${partial}"`)), 'vis ');
        // submit+: only for submission users.
        const submit = generated(await run(alice, 's1', `GENURLAUTH "${base};urlauth=submit+alice" INTERNAL`));
        assert.equal(fetched(await run(bob, 's2', `URLFETCH "${submit}"`)), null);
        const submitter = await login(server().port, 'submitter', 'subpass');
        try {
          assert.equal(fetched(await run(submitter, 's3', `URLFETCH "${submit}"`)), 'Si vis pacem, para bellum.');
        } finally {
          submitter.destroy();
        }
        // A URLAUTH URL of alice's message in bob's CATENATE.
        const cat = await run(bob, 'c1', `APPEND INBOX CATENATE (URL "${future}")`);
        assert.match(cat.at(-1)!, /^c1 OK \[APPENDUID \d+ \d+\]/);
        // RESETKEY INBOX revokes; RESETKEY removes every key.
        assert.match((await run(alice, 'r1', 'RESETKEY INBOX')).at(-1)!, /^r1 OK \[URLMECH INTERNAL\]/);
        assert.equal(fetched(await run(bob, 'r2', `URLFETCH "${forBob}"`)), null, 'revoked by RESETKEY');
        const fresh = generated(await run(alice, 'r3', `GENURLAUTH "${base};urlauth=user+bob" INTERNAL`));
        assert.notEqual(fresh, forBob);
        assert.equal(fetched(await run(bob, 'r4', `URLFETCH "${fresh}"`)), 'Si vis pacem, para bellum.');
        assert.match((await run(alice, 'r5', 'RESETKEY')).at(-1)!, /^r5 OK All keys removed/);
        assert.equal(fetched(await run(bob, 'r6', `URLFETCH "${fresh}"`)), null);
        assert.match((await run(alice, 'r7', 'RESETKEY NoSuchBox')).at(-1)!, /^r7 NO/);
      } finally {
        alice.destroy();
        bob.destroy();
      }
    });

    it('Python imaplib: GENURLAUTH and URLFETCH with raw commands', async () => {
      const out = await new Promise<string>((resolve, reject) => {
        execFile('python3', [script, '127.0.0.1', String(server().port)], { timeout: 30_000 }, (err, stdout, stderr) => {
          if (err) reject(new Error(`${err.message}\n${stdout}\n${stderr}`));
          else resolve(stdout);
        });
      });
      assert.match(out, /^fetched: Si vis pacem, para bellum\.$/m);
      assert.match(out, /^wrong key: None$/m);
      assert.match(out, /^catenated text: Si vis\s*$/m);
      assert.match(out, /^other user: NO/m);
    });
  });
}
