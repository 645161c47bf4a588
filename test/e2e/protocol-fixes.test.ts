/**
 * Protocol details found while comparing with other servers (issue 20): invalid commands end a
 * session only when they come in a row, a zero-length partial is answered with an empty string,
 * and LITERAL- (RFC 7888 §5) holds non-synchronising literals to 4096 octets.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startImapServer, type TestServer } from '../helpers/imap-server.js';
import { RawClient, run } from '../helpers/raw-client.js';

describe('invalid commands: consecutive, not a lifetime total', () => {
  let server: TestServer;
  before(async () => {
    server = await startImapServer({ limits: { maxBadCommands: 3 } });
  });
  after(() => server.close());

  it('keeps a session that sends an unsupported command now and then, however often over its life', async () => {
    const c = new RawClient(server.port);
    await c.login();
    // 20 rounds of two BAD replies and a good command: 40 BADs in all, never 3 in a row.
    for (let i = 0; i < 20; i++) {
      c.send(`b${i} XFROB\r\nc${i} FETCH 1 FLAGS\r\nn${i} NOOP\r\n`);
      assert.match(await c.expect(new RegExp(`^b${i} `)), /BAD/);
      assert.match(await c.expect(new RegExp(`^c${i} `)), /BAD/);
      assert.match(await c.expect(new RegExp(`^n${i} `)), /OK/);
    }
    // A NO resets the count as well: it was a valid command.
    c.send('b1 XFROB\r\nb2 XFROB\r\ns1 SELECT NoSuchBox\r\nb3 XFROB\r\nb4 XFROB\r\nz NOOP\r\n');
    assert.match(await c.expect(/^s1 /), /^s1 NO/);
    assert.match(await c.expect(/^z /), /^z OK/);
    c.destroy();
  });

  it('ends a session that sends maxBadCommands invalid commands in a row', async () => {
    const c = new RawClient(server.port);
    await c.login();
    c.send('a NOOP\r\nb1 XFROB\r\nb2 XFROB\r\nb3 XFROB\r\nz NOOP\r\n');
    await c.expect(/^\* BYE Too many invalid commands/);
    await c.waitClosed();
    assert.ok(!c.transcript.some((l) => l.startsWith('z ')), 'nothing after the BYE');
  });
});

describe('zero-length partial', () => {
  let server: TestServer;
  before(async () => {
    server = await startImapServer();
    const c = new RawClient(server.port);
    await c.login();
    const msg = 'Subject: hi\r\n\r\nbody\r\n';
    await run(c, 'a', `APPEND INBOX {${msg.length}+}\r\n${msg}`);
    c.destroy();
  });
  after(() => server.close());

  it('answers BODY[]<0.0> and BODY[TEXT]<2.0> with an empty string (RFC 3501 §6.4.5)', async () => {
    const c = new RawClient(server.port);
    await c.login();
    await run(c, 's', 'SELECT INBOX');
    const lines = await run(c, 'f', 'FETCH 1 (BODY.PEEK[]<0.0> BODY.PEEK[TEXT]<2.0>)');
    assert.match(lines.at(-1)!, /^f OK/);
    assert.ok(lines.includes('* 1 FETCH (BODY[]<0> "" BODY[TEXT]<2> "")'), lines.join('\n'));
    c.destroy();
  });
});

describe('LITERAL- (RFC 7888 §5)', () => {
  let minus: TestServer;
  let plus: TestServer;
  before(async () => {
    minus = await startImapServer({ literalMinus: true });
    plus = await startImapServer();
  });
  after(async () => {
    await minus.close();
    await plus.close();
  });

  async function capabilities(port: number): Promise<string[]> {
    const c = new RawClient(port);
    await c.expect(/^\* OK/);
    const line = (await run(c, 'c', 'CAPABILITY')).find((l) => l.startsWith('* CAPABILITY '))!;
    c.destroy();
    return line.split(' ').slice(2);
  }

  it('advertises exactly one of LITERAL+ and LITERAL-', async () => {
    const m = await capabilities(minus.port);
    assert.ok(m.includes('LITERAL-') && !m.includes('LITERAL+'), m.join(' '));
    const p = await capabilities(plus.port);
    assert.ok(p.includes('LITERAL+') && !p.includes('LITERAL-'), p.join(' '));
  });

  it('accepts a 4096-octet non-synchronising literal and a larger synchronising one', async () => {
    const c = new RawClient(minus.port);
    await c.login();
    const small = `Subject: s\r\n\r\n${'x'.repeat(4096 - 16)}\r\n`;
    assert.equal(small.length, 4096);
    assert.match((await run(c, 'a1', `APPEND INBOX {4096+}\r\n${small}`)).at(-1)!, /^a1 OK/);
    const big = `Subject: b\r\n\r\n${'y'.repeat(5000)}\r\n`;
    c.send(`a2 APPEND INBOX {${big.length}}\r\n`);
    await c.expect(/^\+ /);
    c.send(`${big}\r\n`);
    assert.match(await c.expect(/^a2 /), /^a2 OK/);
    c.destroy();
  });

  it('ends the session with BYE [TOOBIG] on a non-synchronising literal over 4096 octets', async () => {
    const c = new RawClient(minus.port);
    await c.login();
    const big = `Subject: b\r\n\r\n${'y'.repeat(5000)}\r\n`;
    c.send(`a1 APPEND INBOX {${big.length}+}\r\n${big}\r\na2 NOOP\r\n`);
    assert.match(await c.expect(/^(\* BYE|a1 )/), /^\* BYE \[TOOBIG\]/);
    await c.waitClosed();
    assert.ok(!c.transcript.some((l) => /^a[12] OK/.test(l)), c.transcript.join('\n'));
    // LITERAL+ keeps accepting it.
    const p = new RawClient(plus.port);
    await p.login();
    assert.match((await run(p, 'a1', `APPEND INBOX {${big.length}+}\r\n${big}`)).at(-1)!, /^a1 OK/);
    p.destroy();
  });
});
