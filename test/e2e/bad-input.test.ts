/**
 * Hostile and broken input over real sockets: each case gets a clear BAD / NO / BYE, the server
 * keeps serving other clients, and memory stays bounded.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startImapServer, type TestServer } from '../helpers/imap-server.js';
import { RawClient } from '../helpers/raw-client.js';

describe('bad input', () => {
  let server: TestServer;
  let bystander: RawClient;

  before(async () => {
    server = await startImapServer();
    bystander = new RawClient(server.port);
    await bystander.login();
  });
  after(async () => {
    bystander.destroy();
    await server.close();
  });

  /** The server still answers an innocent client. */
  async function stillServing(): Promise<void> {
    const tag = `n${Math.floor(Math.random() * 1e6)}`;
    bystander.send(`${tag} NOOP\r\n`);
    await bystander.expect(new RegExp(`^${tag} OK`));
  }

  it('ends a 10 MB line without CRLF with BYE, without buffering it', async () => {
    const junk = Buffer.alloc(10 * 1024 * 1024, 0x61);
    const before = process.memoryUsage().arrayBuffers;
    const c = new RawClient(server.port);
    await c.expect(/^\* OK/);
    c.send(junk);
    await c.expect(/^\* BYE .*[Ll]ine/);
    await c.waitClosed();
    const grown = process.memoryUsage().arrayBuffers - before;
    assert.ok(grown < 12 * 1024 * 1024, `server held ${grown} bytes`);
    await stillServing();
  });

  it('refuses a literal over the limit before the continuation', async () => {
    const c = new RawClient(server.port);
    await c.login();
    c.send('a1 APPEND INBOX {999999999}\r\n');
    const line = await c.expect(/^(\+|a1 )/);
    assert.match(line, /^a1 NO \[TOOBIG\]/);
    c.send('a2 LOGIN {100000}\r\n');
    assert.match(await c.expect(/^(\+|a2 )/), /^a2 (NO|BAD)/);
    c.send('a3 NOOP\r\n');
    await c.expect(/^a3 OK/);
    c.destroy();
    await stillServing();
  });

  it('answers an unknown command and a command in the wrong state with BAD', async () => {
    const c = new RawClient(server.port);
    await c.expect(/^\* OK/);
    c.send('x1 FROBNICATE now\r\n');
    assert.match(await c.expect(/^x1 /), /^x1 BAD Unknown command/);
    c.send('x2 SELECT INBOX\r\n');
    assert.match(await c.expect(/^x2 /), /^x2 BAD .*not allowed/);
    c.send('x3 FETCH 1 FLAGS\r\n');
    assert.match(await c.expect(/^x3 /), /^x3 BAD/);
    c.destroy();
  });

  it('rejects a malformed sequence set', async () => {
    const c = new RawClient(server.port);
    await c.login();
    c.send('s1 SELECT INBOX\r\n');
    await c.expect(/^s1 OK/);
    for (const set of ['1:x', '0', '1,,2', '4294967296', '*:']) {
      c.send(`s2 FETCH ${set} FLAGS\r\n`);
      assert.match(await c.expect(/^s2 /), /^s2 BAD/, set);
    }
    c.send('s3 UID FETCH 1:* FLAGS\r\n');
    await c.expect(/^s3 OK/);
    c.destroy();
  });

  it('rejects parentheses nested 10,000 deep and keeps the connection', async () => {
    const c = new RawClient(server.port);
    await c.login();
    c.send(`p1 ID ${'('.repeat(10_000)}${')'.repeat(10_000)}\r\n`);
    assert.match(await c.expect(/^(p1|\*) /), /BAD/);
    c.send('p2 NOOP\r\n');
    await c.expect(/^p2 OK/);
    c.destroy();
    await stillServing();
  });

  it('rejects invalid modified UTF-7 mailbox names', async () => {
    const c = new RawClient(server.port);
    await c.login();
    for (const name of ['"&Jjo"', '"&U,BTFw-&ZeVnLIqe-"', '"&AGE-"', '"a&"']) {
      c.send(`u1 CREATE ${name}\r\n`);
      assert.match(await c.expect(/^u1 /), /^u1 (BAD|NO)/, name);
    }
    c.send('u2 LIST "" "*"\r\n');
    const list = await c.expect(/^(\* LIST .*&|u2 )/);
    assert.match(list, /^u2 OK/, 'no invalid name was created');
    c.destroy();
  });

  it('survives a client that disconnects in the middle of a literal', async () => {
    for (let i = 0; i < 5; i++) {
      const c = new RawClient(server.port);
      await c.login();
      c.send('m1 APPEND INBOX {5000}\r\n');
      await c.expect(/^\+/);
      c.send('x'.repeat(1234));
      c.destroy();
    }
    await stillServing();
    const c = new RawClient(server.port);
    await c.login();
    c.send('m2 STATUS INBOX (MESSAGES)\r\n');
    assert.match(await c.expect(/^\* STATUS/), /MESSAGES 0/);
    c.destroy();
  });

  it('says BYE after too many bad commands', async () => {
    const c = new RawClient(server.port);
    await c.login();
    for (let i = 0; i < 25; i++) c.send(`b${i} BOGUS\r\n`);
    await c.expect(/^\* BYE Too many/);
    await c.waitClosed();
    await stillServing();
  });
});

describe('LOGIN without TLS', () => {
  let server: TestServer;
  before(async () => {
    server = await startImapServer({ allowInsecureAuth: false });
  });
  after(async () => server.close());

  it('advertises LOGINDISABLED and refuses LOGIN and AUTHENTICATE PLAIN in plaintext', async () => {
    const c = new RawClient(server.port);
    const greeting = await c.expect(/^\* OK/);
    assert.match(greeting, /LOGINDISABLED/);
    assert.doesNotMatch(greeting, / AUTH=/); // (URLAUTH=BINARY is no SASL mechanism)
    c.send('t1 LOGIN alice secret\r\n');
    assert.match(await c.expect(/^t1 /), /^t1 NO \[PRIVACYREQUIRED\]/);
    c.send(`t2 AUTHENTICATE PLAIN ${Buffer.from('\0alice\0secret').toString('base64')}\r\n`);
    assert.match(await c.expect(/^t2 /), /^t2 NO/);
    c.destroy();
  });

  it('discards commands pipelined after STARTTLS (no plaintext injection)', async () => {
    const c = new RawClient(server.port);
    await c.expect(/^\* OK/);
    c.send('a STARTTLS\r\nb CAPABILITY\r\n');
    await c.expect(/^a OK/);
    await new Promise((r) => setTimeout(r, 200));
    // Nothing more may arrive in plaintext: `b` must never have been answered.
    assert.doesNotMatch(c.buf, /^b /m);
    c.destroy();
  });
});
