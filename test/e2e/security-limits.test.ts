/**
 * Abuse limits over real sockets: connections per address / user / in total, the line deadline
 * for slow senders, and STARTTLS / STLS dropping what was pipelined after them — IMAP and POP3.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startImapServer } from '../helpers/imap-server.js';
import { testCertificate } from '../helpers/certs.js';
import { createPop3Server, type Pop3ServerOptions } from '../../src/pop3/server.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import { StaticAuthenticator } from '../../src/auth/static-users.js';
import { RawClient, sleep } from '../helpers/raw-client.js';
import { servedClock } from '../helpers/served-time.js';

async function startPop3(extra: Partial<Pop3ServerOptions> = {}) {
  const store = new MemoryStore();
  const server = createPop3Server({
    store,
    auth: new StaticAuthenticator({ alice: 'secret', bob: 'hunter2' }),
    port: 0,
    tlsPort: null,
    tls: await testCertificate(),
    allowInsecureAuth: true,
    ...extra,
    limits: { authFailureDelaySeconds: 0, ...extra.limits },
  });
  const { port } = await server.listen();
  return {
    port: port!,
    close: async () => {
      await server.close();
      await store.close();
    },
  };
}

describe('IMAP connection limits', () => {
  it('refuses connections over the per-address limit with BYE, serves other addresses', async (t) => {
    const s = await startImapServer({ limits: { maxConnectionsPerIp: 3 } });
    t.after(() => s.close());
    const held = [1, 2, 3].map(() => new RawClient(s.port));
    for (const c of held) await c.expect(/^\* OK/);
    const extra = new RawClient(s.port);
    assert.match(await extra.expect(/^\*/), /^\* BYE \[UNAVAILABLE\] Too many connections from your address/);
    await extra.waitClosed();
    const other = new RawClient(s.port, { localAddress: '127.0.0.2' });
    await other.expect(/^\* OK/);
    held[0]!.destroy();
    await sleep(100);
    const again = new RawClient(s.port);
    await again.expect(/^\* OK/, 2000);
    for (const c of [...held, other, again]) c.destroy();
  });

  it('refuses connections over the total limit', async (t) => {
    const s = await startImapServer({ limits: { maxConnections: 2 } });
    t.after(() => s.close());
    const a = new RawClient(s.port);
    const b = new RawClient(s.port, { localAddress: '127.0.0.2' });
    await a.expect(/^\* OK/);
    await b.expect(/^\* OK/);
    const c = new RawClient(s.port, { localAddress: '127.0.0.3' });
    assert.match(await c.expect(/^\*/), /^\* BYE \[UNAVAILABLE\] Too many connections,/);
    a.destroy();
    b.destroy();
  });

  it('answers one login too many for a user with NO [LIMIT], and frees the place on LOGOUT', async (t) => {
    const s = await startImapServer({ limits: { maxConnectionsPerUser: 2 } });
    t.after(() => s.close());
    const clients = [1, 2, 3].map(() => new RawClient(s.port));
    for (const [i, c] of clients.entries()) {
      await c.expect(/^\* OK/);
      c.send(`l${i} LOGIN alice secret\r\n`);
    }
    assert.match(await clients[0]!.expect(/^l0 /), /^l0 OK/);
    assert.match(await clients[1]!.expect(/^l1 /), /^l1 OK/);
    assert.match(await clients[2]!.expect(/^l2 /), /^l2 NO \[LIMIT\]/);
    clients[2]!.send('b1 LOGIN bob hunter2\r\n');
    assert.match(await clients[2]!.expect(/^b1 /), /^b1 OK/, 'another user is not limited');
    clients[0]!.send('o LOGOUT\r\n');
    await clients[0]!.expect(/^o OK/);
    await clients[0]!.waitClosed();
    const d = new RawClient(s.port);
    await d.expect(/^\* OK/);
    d.send('l3 LOGIN alice secret\r\n');
    assert.match(await d.expect(/^l3 /), /^l3 OK/);
    for (const c of [...clients, d]) c.destroy();
  });
});

describe('IMAP slow senders', () => {
  it('cuts off a command line that trickles in slower than lineTimeoutSeconds', async (t) => {
    const s = await startImapServer({ limits: { lineTimeoutSeconds: 1 } });
    t.after(() => s.close());
    const c = new RawClient(s.port);
    await c.expect(/^\* OK/);
    const clock = servedClock();
    // One byte every 200 ms keeps the idle timer happy but never finishes the line.
    const trickle = setInterval(() => c.send('N'), 200);
    t.after(() => clearInterval(trickle));
    // Without the line deadline the trickle would go on for ever: the wait's own limit is only a guard.
    assert.match(await c.expect(/^\* BYE/, 30_000), /not completed in time/);
    await c.waitClosed();
    clearInterval(trickle);
    // Not before the deadline (as seen); not long after it, in served time (latency.ts: less what
    // the machine's other load kept this process off the CPU).
    const took = clock.wall();
    const served = clock.served();
    assert.ok(took >= 900 && served < 3000, `cut off after ${took.toFixed(0)} ms (${served.toFixed(0)} ms served)`);
  });

  it('gives a literal time for its size, then cuts off a stalled one', async (t) => {
    // A 2 s deadline against a 500 ms pause: the pause's timer and the deadline's fire in one turn
    // only if the process is kept off the CPU for 1.5 s straight (with 1 s it was 0.5 s).
    const s = await startImapServer({ limits: { lineTimeoutSeconds: 2, minLiteralBytesPerSecond: 1_000_000 } });
    t.after(() => s.close());
    const c = new RawClient(s.port);
    await c.expect(/^\* OK/);
    c.send('a LOGIN alice secret\r\n');
    await c.expect(/^a OK/);
    // Complete commands sent in pieces within the deadline are fine.
    c.send('b NO');
    await sleep(500);
    c.send('OP\r\n');
    await c.expect(/^b OK/);
    c.send('c APPEND INBOX {100}\r\n');
    await c.expect(/^\+/);
    c.send('Subject: x\r\n');
    const clock = servedClock();
    assert.match(await c.expect(/^\* BYE/, 30_000), /not completed in time/);
    // Cut off by the deadline (2 s; 100 bytes at 1 MB/s add nothing), not long after it: in served
    // time, less what the machine's other load kept this process off the CPU (served-time.ts).
    assert.ok(clock.served() < 5000, `cut off after ${clock.served().toFixed(0)} ms served (${clock.wall().toFixed(0)} ms as seen)`);
  });

  it('does not time a client that is silent between commands (the idle timer does that)', async (t) => {
    const s = await startImapServer({ limits: { lineTimeoutSeconds: 1 } });
    t.after(() => s.close());
    const c = new RawClient(s.port);
    await c.expect(/^\* OK/);
    await sleep(1500);
    c.send('n NOOP\r\n');
    assert.match(await c.expect(/^n /), /^n OK/);
    c.destroy();
  });
});

describe('STARTTLS and STLS injection', () => {
  it('IMAP: `a STARTTLS\\r\\nb CAPABILITY\\r\\n` in one packet — b is never answered, before or after TLS', async (t) => {
    const s = await startImapServer({ allowInsecureAuth: false });
    t.after(() => s.close());
    const c = new RawClient(s.port);
    await c.expect(/^\* OK/);
    c.socket.setNoDelay(true);
    c.send('a STARTTLS\r\nb CAPABILITY\r\n');
    await c.expect(/^a OK/);
    await c.upgrade();
    c.send('c NOOP\r\n');
    await c.expect(/^c OK/);
    c.send('d CAPABILITY\r\n');
    await c.expect(/^d OK/);
    assert.ok(!c.transcript.some((l) => l.startsWith('b ')), `b was answered: ${JSON.stringify(c.transcript)}`);
    assert.equal(c.transcript.filter((l) => l.startsWith('* CAPABILITY')).length, 1, 'only d got a CAPABILITY');
    c.destroy();
  });

  it('POP3: `STLS\\r\\nCAPA\\r\\n` in one packet — CAPA is never answered', async (t) => {
    const s = await startPop3({ allowInsecureAuth: false });
    t.after(() => s.close());
    const c = new RawClient(s.port);
    await c.expect(/^\+OK/);
    c.send('STLS\r\nCAPA\r\n');
    await c.expect(/^\+OK/);
    await c.upgrade();
    c.send('QUIT\r\n');
    await c.expect(/^\+OK/);
    await c.waitClosed();
    // Greeting, STLS +OK, QUIT +OK: a CAPA answer would have added "+OK" and a capability list.
    assert.equal(c.transcript.length, 3, JSON.stringify(c.transcript));
  });
});

describe('POP3 connection limits and slow senders', () => {
  it('refuses over the per-address limit with -ERR [SYS/TEMP], serves other addresses', async (t) => {
    const s = await startPop3({ limits: { maxConnectionsPerIp: 2 } });
    t.after(() => s.close());
    const held = [new RawClient(s.port), new RawClient(s.port)];
    for (const c of held) await c.expect(/^\+OK/);
    const extra = new RawClient(s.port);
    assert.match(await extra.expect(/./), /^-ERR \[SYS\/TEMP\] Too many connections from your address/);
    const other = new RawClient(s.port, { localAddress: '127.0.0.2' });
    await other.expect(/^\+OK/);
    for (const c of [...held, other, extra]) c.destroy();
  });

  it('refuses one login too many for a user', async (t) => {
    const s = await startPop3({ limits: { maxConnectionsPerUser: 1 } });
    t.after(() => s.close());
    const a = new RawClient(s.port);
    await a.expect(/^\+OK/);
    a.send('USER alice\r\nPASS secret\r\n');
    await a.expect(/^\+OK alice's maildrop/);
    const b = new RawClient(s.port);
    await b.expect(/^\+OK/);
    b.send('USER alice\r\nPASS secret\r\n');
    await b.expect(/^\+OK/);
    assert.match(await b.expect(/^[-+]/), /^-ERR \[SYS\/TEMP\] Too many connections for this user/);
    a.send('QUIT\r\n');
    await a.waitClosed();
    b.send('USER alice\r\nPASS secret\r\n');
    await b.expect(/^\+OK/);
    assert.match(await b.expect(/^[-+]/), /^\+OK alice's maildrop/);
    b.destroy();
  });

  it('drops a line that trickles in slower than lineTimeoutSeconds', async (t) => {
    const s = await startPop3({ limits: { lineTimeoutSeconds: 1 } });
    t.after(() => s.close());
    const c = new RawClient(s.port);
    await c.expect(/^\+OK/);
    const trickle = setInterval(() => c.send('U'), 200);
    t.after(() => clearInterval(trickle));
    const clock = servedClock();
    await c.waitClosed(30_000);
    clearInterval(trickle);
    assert.ok(clock.served() < 3000, `dropped after ${clock.wall().toFixed(0)} ms (${clock.served().toFixed(0)} ms served)`);
  });
});
