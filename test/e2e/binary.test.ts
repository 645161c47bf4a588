/**
 * BINARY (RFC 3516) over real sockets: APPEND with literal8 keeps NUL bytes, FETCH BINARY sends
 * them back in a literal8, BODY[] sends each NUL as 0x80 (a plain literal may carry no NUL, RFC
 * 3501 §4.3) at the same size, a literal8 whose lone CR/LF would have to change is refused with
 * NO [UNKNOWN-CTE]; imapflow (literal8 APPEND of content with NULs, FETCH with `binary: true`) and
 * Python imaplib read what they should. The grammar and decoding cases are in
 * test/transcripts/binary.txt.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ImapFlow } from 'imapflow';
import { serverForSuite, type TestServer } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';
import { RawClient, run } from '../helpers/raw-client.js';

const script = fileURLToPath(new URL('./python/imaplib_binary.py', import.meta.url));

/** A message whose second part is raw binary (CTE binary) with NUL bytes, CRLF line ends only. */
const BLOB = Buffer.from([0x00, 0x41, 0x00, 0xff, 0x7f, 0x00]);
const BINARY_MESSAGE = Buffer.concat([
  Buffer.from('Subject: nul\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n', 'latin1'),
  BLOB,
  Buffer.from('\r\n--b--\r\n', 'latin1'),
]);

function flow(server: TestServer): ImapFlow {
  return new ImapFlow({ host: server.host, port: server.port, secure: false, auth: { user: 'alice', pass: 'secret' }, tls: { rejectUnauthorized: false }, logger: false, disableAutoIdle: true });
}

/** The bytes of the literal that follows `prefix` in a response (lines joined back as on the wire). */
function literalAfter(lines: string[], prefix: RegExp): Buffer {
  const wire = lines.join('\r\n');
  const m = prefix.exec(wire);
  assert.ok(m, `no ${prefix} in ${JSON.stringify(wire.slice(0, 300))}`);
  const size = Number(/\{(\d+)\}$/.exec(m[0])![1]);
  const start = m.index + m[0].length + 2;
  return Buffer.from(wire.slice(start, start + size), 'latin1');
}

async function appendBinary(c: RawClient, mailbox: string, bytes: Buffer): Promise<string> {
  c.send(`a APPEND ${mailbox} ~{${bytes.length}}\r\n`);
  const first = await c.expect(/^(\+|a )/);
  if (!first.startsWith('+')) return first;
  c.send(Buffer.concat([bytes, Buffer.from('\r\n')]));
  return c.expect(/^a /);
}

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`BINARY (RFC 3516) end to end (${storeName} store)`, () => {
    const server = serverForSuite(factory);

    it('APPEND ~{n} keeps NULs; BINARY sends them in literal8, BODY[] as 0x80 at the same size', async () => {
      const c = new RawClient(server().port);
      try {
        await c.login();
        await run(c, 'c', 'CREATE Nul');
        assert.match(await appendBinary(c, 'Nul', BINARY_MESSAGE), /^a OK \[APPENDUID \d+ 1\]/);
        await run(c, 's', 'SELECT Nul');

        const bin = await run(c, 'f1', 'FETCH 1 (BINARY.PEEK[2])');
        assert.match(bin[0]!, /^\* 1 FETCH \(BINARY\[2\] ~\{6\}$/);
        assert.deepEqual(literalAfter(bin, /BINARY\[2\] ~\{\d+\}/), BLOB);
        const whole = await run(c, 'f2', 'FETCH 1 (BINARY.PEEK[])');
        assert.deepEqual(literalAfter(whole, /BINARY\[\] ~\{\d+\}/), BINARY_MESSAGE, 'the message is stored as given');

        const body = await run(c, 'f3', 'FETCH 1 (RFC822.SIZE BODY.PEEK[])');
        const size = Number(/RFC822\.SIZE (\d+)/.exec(body[0]!)![1]);
        const served = literalAfter(body, /BODY\[\] \{\d+\}/);
        assert.equal(size, BINARY_MESSAGE.length);
        assert.equal(served.length, size);
        assert.ok(!served.includes(0), 'no NUL in a plain literal');
        assert.deepEqual(served, Buffer.from(BINARY_MESSAGE.map((b) => (b === 0 ? 0x80 : b))));

        const sizes = await run(c, 'f4', 'FETCH 1 (BINARY.SIZE[2] BINARY.SIZE[1])');
        assert.equal(sizes[0], '* 1 FETCH (BINARY.SIZE[2] 6 BINARY.SIZE[1] 2)');
      } finally {
        c.destroy();
      }
    });

    it('large parts: an 8bit part is streamed as a literal8, a base64 one decoded whole, partials on decoded octets', async () => {
      const c = new RawClient(server().port);
      try {
        await c.login();
        await run(c, 'c', 'CREATE Big');
        const line = 'x'.repeat(98) + '\r\n';
        const eightBit = line.repeat(1500); // 150,000 octets: past the 64 KiB streaming threshold
        const blob = Buffer.alloc(120_000, 0x61);
        blob[70_000] = 0; // a NUL deep inside
        const b64 = blob.toString('base64').replace(/.{76}/g, '$&\r\n');
        const message = Buffer.from(
          'Subject: big\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n' +
            `--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${eightBit}\r\n` +
            `--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n--b--\r\n`,
          'latin1',
        );
        c.send(`a APPEND Big {${message.length}+}\r\n`);
        c.send(Buffer.concat([message, Buffer.from('\r\n')]));
        assert.match(await c.expect(/^a /), /^a OK/);
        await run(c, 's', 'SELECT Big');
        const one = await run(c, 'f1', 'FETCH 1 (BINARY.PEEK[1])');
        assert.match(one[0]!, new RegExp(`^\\* 1 FETCH \\(BINARY\\[1\\] ~\\{${eightBit.length}\\}$`));
        assert.equal(literalAfter(one, /BINARY\[1\] ~\{\d+\}/).toString('latin1'), eightBit);
        const two = await run(c, 'f2', 'FETCH 1 (BINARY.SIZE[2] BINARY.PEEK[2]<69990.20>)');
        assert.match(two[0]!, /^\* 1 FETCH \(BINARY\.SIZE\[2\] 120000 BINARY\[2\]<69990> ~\{20\}$/);
        assert.deepEqual(literalAfter(two, /BINARY\[2\]<69990> ~\{\d+\}/), blob.subarray(69_990, 70_010));
      } finally {
        c.destroy();
      }
    });

    it('bad input: a literal8 with a lone LF is NO [UNKNOWN-CTE] and stores nothing; literal8 outside APPEND is BAD', async () => {
      const c = new RawClient(server().port);
      try {
        await c.login();
        await run(c, 'c', 'CREATE Lone');
        const lone = Buffer.from('Subject: x\r\nContent-Transfer-Encoding: binary\r\n\r\n\x00\nraw\r\n', 'latin1');
        assert.match(await appendBinary(c, 'Lone', lone), /^a NO \[UNKNOWN-CTE\]/);
        const status = await run(c, 'st', 'STATUS Lone (MESSAGES)');
        assert.match(status[0]!, /MESSAGES 0/);
        c.send('b SEARCH ~{3}\r\n');
        assert.match(await c.expect(/^b /), /^b BAD/);
        // The session goes on.
        const noop = await run(c, 'n', 'NOOP');
        assert.match(noop.at(-1)!, /^n OK/);
      } finally {
        c.destroy();
      }
    });

    it('imapflow appends content with NULs as literal8 and reads a part with binary: true', async () => {
      const f = flow(server());
      await f.connect();
      try {
        assert.ok(f.capabilities.has('BINARY'));
        await f.mailboxCreate('Flow');
        const appended = await f.append('Flow', BINARY_MESSAGE);
        assert.ok(appended && appended.uid, 'appended');
        await f.mailboxOpen('Flow');
        const msg = await f.fetchOne('1', { bodyParts: ['2'], source: true }, { binary: true });
        assert.ok(msg);
        assert.deepEqual(msg.bodyParts?.get('2'), BLOB);
        assert.deepEqual(msg.source, BINARY_MESSAGE);
      } finally {
        await f.logout();
      }
    });

    it('Python imaplib reads BINARY.PEEK (a literal8 with NULs), BINARY.SIZE and BINARY setting \\Seen', async () => {
      const res = await new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
        execFile('python3', [script, server().host, String(server().port)], { timeout: 60_000 }, (err, stdout, stderr) => {
          resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
        });
      });
      assert.equal(res.status, 0, `imaplib BINARY scenario failed:\n${res.stderr}\n${res.stdout}`);
      assert.deepEqual(JSON.parse(res.stdout.trim().split('\n').pop()!), { binary: 'ok' });
    });
  });
}
