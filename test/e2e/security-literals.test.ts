/**
 * Commands built to cost the server time (issue 13, item 1): tens of thousands of tiny literals, and
 * words that made the tokenizer rescan its line. Each is answered within seconds with a clear reply,
 * and a bystander's NOOPs keep being answered meanwhile. Literal8 is refused while BINARY is not
 * offered (RFC 3516 §4.2).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startImapServer } from '../helpers/imap-server.js';
import { RawClient } from '../helpers/raw-client.js';
import { NoopProbe } from '../helpers/latency.js';
import { servedTime } from '../helpers/served-time.js';

/** The bystander's slowest NOOP (served: served-time.ts) may be this slow on a loaded 2-core machine; the defects took 80 s. */
const BYSTANDER_MAX_MS = 2000;

async function bystander(port: number): Promise<{ client: RawClient; probe: NoopProbe }> {
  const client = new RawClient(port, { localAddress: '127.0.0.2' });
  await client.login();
  return { client, probe: new NoopProbe(client) };
}

describe('many literals in one command', () => {
  it('x LOGIN with 40,000 one-byte non-synchronising literals before login: BYE within seconds, others served', async (t) => {
    const s = await startImapServer();
    t.after(() => s.close());
    const { client: other, probe } = await bystander(s.port);
    const attacker = new RawClient(s.port);
    await attacker.expect(/^\* OK/);
    const started = Date.now();
    attacker.send(`x LOGIN${' {1+}\r\nz'.repeat(40_000)}\r\n`);
    const answer = await attacker.expect(/^(x |\* BYE)/, 60_000);
    const took = Date.now() - started;
    const latency = await probe.stop();
    console.log(`# 40,000 literals answered in ${took} ms: ${answer}; bystander NOOP max ${latency.served.max.toFixed(0)} ms served (${latency.max.toFixed(0)} as seen)`);
    assert.match(answer, /^\* BYE Too many literals in one command \(limit 1000\)/);
    await attacker.waitClosed();
    assert.ok(latency.served.max < BYSTANDER_MAX_MS, `a bystander's NOOP took ${latency.served.max.toFixed(0)} ms served (${latency.max.toFixed(0)} ms as seen)`);
    other.destroy();
  });

  it('framing and tokenizing stay linear when the literal cap is lifted', async (t) => {
    const s = await startImapServer({ limits: { maxLiteralsPerCommand: 1_000_000, maxUnauthCommandSize: 4 * 1024 * 1024, maxTokens: 1_000_000 } });
    t.after(() => s.close());
    const attacker = new RawClient(s.port);
    await attacker.expect(/^\* OK/);
    let answer = '';
    // Served time: the wait less what the machine's other load kept this process off the CPU (served-time.ts).
    const { served: took, wall } = await servedTime(async () => {
      attacker.send(`x LOGIN${' {1+}\r\nz'.repeat(40_000)}\r\n`);
      answer = await attacker.expect(/^x /, 60_000);
    });
    // 40,000 strings are too many arguments for LOGIN, which is the point: everything was read and tokenized.
    assert.match(answer, /^x BAD Too many arguments/);
    console.log(`# 40,000 literals framed and tokenized in ${took.toFixed(0)} ms served (${wall.toFixed(0)} ms as seen)`);
    assert.ok(took < 10_000, `framing and tokenizing took ${took.toFixed(0)} ms served`);
    attacker.destroy();
  });

  it('an authenticated SEARCH with 30,000 literals is refused at the 1,001st; others are served', async (t) => {
    const s = await startImapServer();
    t.after(() => s.close());
    const { client: other, probe } = await bystander(s.port);
    const attacker = new RawClient(s.port);
    await attacker.login();
    attacker.send('s SELECT INBOX\r\n');
    await attacker.expect(/^s OK/);
    attacker.send(`x SEARCH${' SUBJECT {1+}\r\nz'.repeat(30_000)}\r\n`);
    assert.match(await attacker.expect(/^(x |\* BYE)/, 60_000), /^\* BYE Too many literals in one command/);
    await attacker.waitClosed();
    const latency = await probe.stop();
    assert.ok(latency.served.max < BYSTANDER_MAX_MS, `a bystander's NOOP took ${latency.served.max.toFixed(0)} ms served (${latency.max.toFixed(0)} ms as seen)`);
    other.destroy();
  });

  it('a synchronising literal over the cap gets a tagged BAD before its continuation; the session goes on', async (t) => {
    const s = await startImapServer({ limits: { maxLiteralsPerCommand: 2 } });
    t.after(() => s.close());
    const c = new RawClient(s.port);
    await c.login();
    c.send('a LIST {0}\r\n');
    await c.expect(/^\+ /);
    c.send(' {1}\r\n');
    await c.expect(/^\+ /);
    c.send('%\r\n');
    assert.match(await c.expect(/^a /), /^a OK/, 'two literals are fine');
    c.send('b LIST {0}\r\n');
    await c.expect(/^\+ /);
    c.send(' {1}\r\n');
    await c.expect(/^\+ /);
    c.send('% {1}\r\n');
    assert.match(await c.expect(/^b /), /^b BAD Too many literals in one command \(limit 2\)/);
    c.send('n NOOP\r\n');
    assert.match(await c.expect(/^n /), /^n OK/);
    c.destroy();
  });
});

describe('literal8 outside APPEND (RFC 3516 allows it only there)', () => {
  it('a synchronising ~{n} is refused with BAD before its continuation; the session goes on', async (t) => {
    const s = await startImapServer();
    t.after(() => s.close());
    const c = new RawClient(s.port);
    await c.login();
    c.send('a LIST "" ~{5}\r\n');
    assert.match(await c.expect(/^a /), /^a BAD literal8 .*only in APPEND/);
    assert.ok(!c.transcript.some((l) => l.startsWith('+')), 'no continuation was offered');
    c.send('n NOOP\r\n');
    assert.match(await c.expect(/^n /), /^n OK/);
    c.send('s SELECT INBOX\r\nf FETCH 1:* FLAGS\r\n');
    assert.match(await c.expect(/^f /), /^f (OK|BAD)/);
    assert.ok(!c.transcript.some((l) => /^\* \d+ EXISTS/.test(l) && !/^\* 0 EXISTS/.test(l)), 'nothing was appended');
    c.destroy();
  });

  it('a non-synchronising ~{n+} ends the connection with BYE', async (t) => {
    const s = await startImapServer();
    t.after(() => s.close());
    const c = new RawClient(s.port);
    await c.login();
    c.send('a LIST "" ~{5+}\r\nhello\r\n');
    assert.match(await c.expect(/^\* BYE/), /literal8/);
    await c.waitClosed();
  });
});

describe('words that look like the start of a section', () => {
  it('x[ x[ x[ … on a 63 KB line is tokenized in linear time', async (t) => {
    const s = await startImapServer();
    t.after(() => s.close());
    const { client: other, probe } = await bystander(s.port);
    const c = new RawClient(s.port);
    await c.login();
    const started = Date.now();
    // Each "x[" used to start a section that ran to the end of the line: 41 s for this line.
    c.send(`a FETCH 1 ${'x[ '.repeat(21_000)}\r\n`);
    assert.match(await c.expect(/^a /, 60_000), /^a BAD/);
    const took = Date.now() - started;
    const latency = await probe.stop();
    console.log(`# 21,000 "x[" words answered in ${took} ms; bystander NOOP max ${latency.served.max.toFixed(0)} ms served (${latency.max.toFixed(0)} as seen)`);
    assert.ok(latency.served.max < BYSTANDER_MAX_MS, `a bystander's NOOP took ${latency.served.max.toFixed(0)} ms served (${latency.max.toFixed(0)} ms as seen)`);
    other.destroy();
    c.destroy();
  });

  it('before login too, where a 63 KB line is now refused at once', async (t) => {
    const s = await startImapServer();
    t.after(() => s.close());
    const c = new RawClient(s.port);
    await c.expect(/^\* OK/);
    let answer = '';
    const { served } = await servedTime(async () => {
      c.send(`a LOGIN ${'x[ '.repeat(21_000)}]z\r\n`);
      answer = await c.expect(/^(a |\* BYE)/, 60_000);
    });
    assert.match(answer, /^\* BYE Line longer than 16384 bytes/);
    assert.ok(served < 5_000, `refused after ${served.toFixed(0)} ms served`);
    c.destroy();
  });
});
