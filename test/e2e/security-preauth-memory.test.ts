/**
 * Input before authentication (issue 13, item 2): a client that has not logged in may send only
 * what LOGIN / AUTHENTICATE / STARTTLS / CAPABILITY / ID need (maxUnauthCommandSize), a
 * non-synchronising literal over that is answered with BYE without being read (RFC 7888 §4), and
 * all unauthenticated connections together hold at most maxUnauthBufferedTotal.
 *
 * The memory figures are taken from a real `postroom serve` process (its RSS), not from the test
 * runner's own heap.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startImapServer } from '../helpers/imap-server.js';
import { RawClient, sleep, until } from '../helpers/raw-client.js';
import { rssOf, serveProcess } from '../helpers/serve-process.js';
import { createPop3Server } from '../../src/pop3/server.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import { StaticAuthenticator } from '../../src/auth/static-users.js';

const MB = 1024 * 1024;

/**
 * Sends `x LOGIN` and then up to 1,250 non-synchronising 60 KB literals as fast as the server reads
 * them (75 MB), stopping when the server closes. Resolves with what the server said.
 */
function floodLogin(port: number): Promise<{ said: string; sent: number }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const literal = Buffer.concat([Buffer.from(' {60000+}\r\n'), Buffer.alloc(60_000, 0x7a)]);
    let said = '';
    let sent = 0;
    let closed = false;
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (said += d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      resolve({ said, sent });
    });
    const pump = (): void => {
      while (!closed && sent < 1250) {
        sent++;
        if (!socket.write(literal)) return void socket.once('drain', pump);
      }
      if (!closed) socket.end('\r\n');
    };
    socket.once('connect', () => {
      socket.write('x LOGIN');
      pump();
    });
  });
}

describe('memory before authentication', () => {
  it('16 connections each sending 75 MB of LOGIN literals: BYE at once, the server process stays small', async (t) => {
    const data = await mkdtemp(join(tmpdir(), 'postroom-preauth-'));
    t.after(() => rm(data, { recursive: true, force: true }));
    const s = await serveProcess(t, ['--data', data, '--store', 'memory', '--ephemeral-ports', '--log-level', 'silent', '--allow-insecure-auth']);
    const pid = s.child.pid!;
    // A settled baseline: one ordinary session first, so lazily loaded code is counted before.
    const warm = new RawClient(s.imapPort);
    await warm.expect(/^\* OK/);
    warm.send('c CAPABILITY\r\n');
    await warm.expect(/^c OK/);
    warm.destroy();
    await sleep(300);
    const before = await rssOf(pid);

    let peak = before;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await rssOf(pid).catch(() => peak));
        await sleep(50);
      }
    })();
    const floods = await Promise.all(Array.from({ length: 16 }, () => floodLogin(s.imapPort)));
    await sleep(500);
    sampling = false;
    await sampler;
    const after = await rssOf(pid);
    const sentMb = floods.reduce((n, f) => n + f.sent, 0) * 60_000 / MB;
    console.log(
      `# 16 flooding connections (sent ${sentMb.toFixed(0)} MB in all): server RSS ${(before / MB).toFixed(0)} MB before, ` +
        `peak ${(peak / MB).toFixed(0)} MB, ${(after / MB).toFixed(0)} MB after`,
    );
    for (const f of floods) assert.match(f.said, /\* BYE Command too large before authentication \(limit 16384 octets\)/);
    assert.ok(peak - before < 100 * MB, `the server grew by ${((peak - before) / MB).toFixed(0)} MB`);
    assert.ok(after - before < 100 * MB, `the server kept ${((after - before) / MB).toFixed(0)} MB`);
    // And it still serves.
    const c = new RawClient(s.imapPort);
    await c.expect(/^\* OK/);
    c.send('n NOOP\r\n');
    await c.expect(/^n OK/);
    c.destroy();
  });

  it('the input all unauthenticated connections hold together is bounded; it is given back when they go', async (t) => {
    const total = 256 * 1024;
    const s = await startImapServer({ limits: { maxUnauthBufferedTotal: total } });
    t.after(() => s.close());
    const budget = s.server.unauthInput;
    // Each holds 12 KB of a LOGIN line that never ends (under the 16 KB per-connection limit).
    const clients: RawClient[] = [];
    for (let i = 0; i < 30; i++) {
      const c = new RawClient(s.port);
      await c.expect(/^\* OK/);
      c.send(`a LOGIN ${'u'.repeat(12 * 1024)}`);
      clients.push(c);
    }
    await until('every client was either held or refused', () => budget.total >= total - 12 * 1024 || clients.some((c) => c.closed));
    await sleep(200);
    const refused = clients.filter((c) => c.transcript.some((l) => l.startsWith('* BYE [UNAVAILABLE]')));
    console.log(`# ${refused.length} of 30 refused; unauthenticated input held: ${budget.total} bytes (limit ${total})`);
    assert.ok(budget.total <= total, `held ${budget.total}`);
    assert.ok(refused.length >= 30 - Math.floor(total / (12 * 1024)), `only ${refused.length} refused`);
    for (const c of refused) await c.waitClosed();

    // A client that logs in gives its share back at once; the others when they go.
    const ok = new RawClient(s.port);
    await ok.expect(/^\* OK/);
    for (const c of clients) c.destroy();
    await until('every share was given back', () => budget.total === 0);
    ok.send('l LOGIN alice secret\r\n');
    await ok.expect(/^l OK/);
    assert.equal(budget.total, 0);
    ok.destroy();
  });

  it('a synchronising literal over the pre-login limit gets NO [TOOBIG] before its continuation', async (t) => {
    const s = await startImapServer();
    t.after(() => s.close());
    const c = new RawClient(s.port);
    await c.expect(/^\* OK/);
    c.send('a LOGIN alice {20000}\r\n');
    assert.match(await c.expect(/^a /), /^a NO \[TOOBIG\] Command too large before authentication/);
    c.send('b LOGIN alice {6}\r\n');
    await c.expect(/^\+ /);
    c.send('secret\r\n');
    assert.match(await c.expect(/^b /), /^b OK/);
    // Once logged in, the authenticated limits apply.
    c.send('c LIST "" {20000}\r\n');
    await c.expect(/^\+ /);
    c.send(`${'%'.repeat(20_000)}\r\n`);
    assert.match(await c.expect(/^c /), /^c OK/);
    c.destroy();
  });

  it('an OAuth-sized SASL initial response (10 KB) still fits before login', async (t) => {
    const s = await startImapServer();
    t.after(() => s.close());
    const c = new RawClient(s.port);
    await c.expect(/^\* OK/);
    const token = Buffer.from(`\0alice\0${'p'.repeat(7_500)}`).toString('base64');
    c.send(`a AUTHENTICATE PLAIN ${token}\r\n`);
    // Answered by the SASL mechanism (PLAIN refuses a password this long), not cut off by a limit.
    assert.match(await c.expect(/^(a |\* BYE)/), /^a (NO|BAD) /);
    c.send('b NOOP\r\n');
    assert.match(await c.expect(/^b /), /^b OK/);
    c.destroy();
  });

  it('POP3: the input all connections not logged in hold together is bounded too, and given back', async (t) => {
    const store = new MemoryStore();
    const server = createPop3Server({
      store,
      auth: new StaticAuthenticator({ alice: 'secret' }),
      port: 0,
      tlsPort: null,
      allowInsecureAuth: true,
      limits: { maxUnauthBufferedTotal: 64 * 1024, authFailureDelaySeconds: 0 },
    });
    const { port } = await server.listen();
    t.after(async () => {
      await server.close();
      await store.close();
    });
    // Each holds 6 KB of a line that never ends (under the 8 KB line limit): ten fit in 64 KB.
    async function hold(n: number): Promise<RawClient[]> {
      const clients: RawClient[] = [];
      for (let i = 0; i < n; i++) {
        const c = new RawClient(port!);
        await c.expect(/^\+OK/);
        c.send(`USER ${'u'.repeat(6 * 1024)}`);
        clients.push(c);
        await sleep(5);
      }
      await sleep(300);
      return clients;
    }
    const refusedOf = (cs: RawClient[]): RawClient[] => cs.filter((c) => c.transcript.some((l) => l.startsWith('-ERR [SYS/TEMP] Server busy')));
    const first = await hold(20);
    const refused = refusedOf(first);
    console.log(`# POP3: ${refused.length} of 20 refused`);
    assert.ok(refused.length >= 9 && refused.length <= 11, `${refused.length} refused`);
    for (const c of first) c.destroy();
    await sleep(300);
    // Given back: the same again fits as before.
    const second = await hold(8);
    assert.equal(refusedOf(second).length, 0);
    for (const c of second) c.destroy();
  });
});
