/**
 * URLAUTH=BINARY (RFC 5524) over real sockets on every store: URLFETCH `("url" BINARY
 * BODYPARTSTRUCTURE BODY)` answers the part decoded (a literal8 when it holds a NUL), its
 * structure, and the part as stored; an unknown transfer encoding is `(BINARY NIL)`; ;PARTIAL= is
 * cut from the decoded bytes; a URL that does not verify is NIL; BODY with BINARY, or an unknown
 * parameter, is BAD; plain and extended URLs mix in one command.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { serverForSuite } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';
import { loggedIn, run } from '../helpers/raw-client.js';
import { StaticAuthenticator } from '../../src/auth/static-users.js';
import { generated } from '../helpers/urlauth.js';

const BINARY_BYTES = Buffer.from([0x00, 0x01, 0x02, 0xff, 0x0d, 0x0a, 0x41]);

const MESSAGE =
  'Subject: parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n' +
  '--b\r\nContent-Type: text/plain\r\n\r\nfirst\r\n' +
  `--b\r\nContent-Type: application/octet-stream; name="blob.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n${BINARY_BYTES.toString('base64')}\r\n` +
  '--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=C3=9Fe aus K=C3=B6ln=\r\n, soft break\r\n' +
  '--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: x-unknown\r\n\r\nbegin 644 x\r\n' +
  '--b--\r\n';

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`URLAUTH=BINARY: extended URLFETCH (${storeName} store)`, () => {
    const server = serverForSuite(factory, {
      urlauthSubmitUsers: ['submitter'],
      auth: new StaticAuthenticator({ alice: 'secret', submitter: 'subpass' }),
    });

    it('BINARY, BODYPARTSTRUCTURE and BODY of a URLAUTH URL; NIL, BAD and mixed forms', async () => {
      const alice = await loggedIn(server().port, 'alice', 'secret');
      const submitter = await loggedIn(server().port, 'submitter', 'subpass');
      try {
        assert.match((await run(alice, 'c', 'CAPABILITY'))[0]!, / URLAUTH URLAUTH=BINARY /);
        alice.send(`a APPEND INBOX {${MESSAGE.length}+}\r\n${MESSAGE}\r\n`);
        assert.match(await alice.expect(/^a /), /^a OK/);
        const url = async (tag: string, section: string): Promise<string> => {
          const lines = await run(alice, tag, `GENURLAUTH "imap://alice@127.0.0.1/INBOX/;uid=1/;section=${section};urlauth=submit+alice" INTERNAL`);
          return generated(lines);
        };
        const blob = await url('g2', '2');
        const qp = await url('g3', '3');
        const unknown = await url('g4', '4');
        const partial = await url('g5', '3/;partial=3.4');

        // base64 with a NUL: decoded, as a literal8.
        const wire = (await run(submitter, 'f1', `URLFETCH ("${blob}" BINARY)`)).join('\r\n');
        const head = `* URLFETCH "${blob}" (BINARY ~{${BINARY_BYTES.length}}\r\n`;
        assert.ok(wire.startsWith(head), wire);
        assert.deepEqual(Buffer.from(wire.slice(head.length, head.length + BINARY_BYTES.length), 'latin1'), BINARY_BYTES);
        assert.match(wire, /\)\r\nf1 OK/);

        // quoted-printable: decoded UTF-8; its structure with the encoding named; BODY as stored.
        const decoded = Buffer.from('Grüße aus Köln, soft break', 'utf8');
        const qpWire = (await run(submitter, 'f2', `URLFETCH ("${qp}" BODYPARTSTRUCTURE BINARY)`)).join('\r\n');
        assert.match(qpWire, /\(BODYPARTSTRUCTURE \("TEXT" "PLAIN" \("charset" "utf-8"\) NIL NIL "QUOTED-PRINTABLE" \d+ \d+ NIL NIL NIL NIL\)\) \(BINARY \{(\d+)\}\r\n/);
        const size = Number(/\(BINARY \{(\d+)\}/.exec(qpWire)![1]);
        assert.equal(size, decoded.length);
        const at = qpWire.indexOf(`{${size}}\r\n`) + `{${size}}\r\n`.length;
        assert.deepEqual(Buffer.from(qpWire.slice(at, at + size), 'latin1'), decoded);
        const bodyWire = (await run(submitter, 'f3', `URLFETCH ("${qp}" BODY)`)).join('\r\n');
        assert.match(bodyWire, /\(BODY \{\d+\}\r\nGr=C3=BC=C3=9Fe aus K=C3=B6ln=\r\n, soft break\)/);

        // ;PARTIAL= of the decoded bytes; an unknown encoding is NIL.
        const cut = (await run(submitter, 'f4', `URLFETCH ("${partial}" BINARY)`)).join('\r\n');
        const want = decoded.subarray(3, 7);
        assert.match(cut, new RegExp(`\\(BINARY \\{${want.length}\\}\\r\\n`), cut);
        assert.deepEqual(Buffer.from(cut.slice(cut.indexOf('}\r\n') + 3, cut.indexOf('}\r\n') + 3 + want.length), 'latin1'), want);
        assert.ok((await run(submitter, 'f5', `URLFETCH ("${unknown}" BINARY BODYPARTSTRUCTURE)`)).some((l) => l.endsWith('(BINARY NIL)')));

        // A URL that does not verify: NIL, as in the plain form; plain and extended in one command.
        const bad = `${blob.slice(0, -1)}${blob.endsWith('0') ? '1' : '0'}`;
        const mixed = (await run(submitter, 'f6', `URLFETCH ("${bad}" BINARY) "${qp}"`)).join('\r\n');
        assert.ok(mixed.startsWith(`* URLFETCH "${bad}" NIL "${qp}" {`), mixed);
        assert.match(mixed, /f6 OK/);

        // A URL in parentheses with no parameter: BODY (the extended answer has at least one item).
        assert.match((await run(submitter, 'f7', `URLFETCH ("${qp}")`)).join('\r\n'), /" \(BODY \{\d+\}\r\nGr=C3/);

        // BODY with BINARY, an unknown parameter, an unclosed list: BAD.
        assert.match((await run(submitter, 'b1', `URLFETCH ("${qp}" BODY BINARY)`)).at(-1)!, /^b1 BAD/);
        assert.match((await run(submitter, 'b2', `URLFETCH ("${qp}" SIZE)`)).at(-1)!, /^b2 BAD/);
        assert.match((await run(submitter, 'b3', `URLFETCH ("${qp}" BINARY`)).at(-1)!, /^b3 BAD/);
      } finally {
        alice.destroy();
        submitter.destroy();
      }
    });
  });
}
