/**
 * TLS 1.3 with Postroom's own record layer after OpenSSL's handshake (src/net/tls13/), driven by
 * real clients: imapflow, Python's imaplib over ssl, curl, and `openssl s_client` (its K and k
 * input lines send KeyUpdate with and without update_requested, RFC 8446 §4.6.3). TLS 1.2 and
 * `records: 'openssl'` keep OpenSSL's TLSSocket; a tampered record is answered with
 * bad_record_mac and the connection closes while the server goes on serving others.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { execFile, spawn } from 'node:child_process';
import { ImapFlow } from 'imapflow';
import { startImapServer, type TestServer } from '../helpers/imap-server.js';
import { RawClient, run, until } from '../helpers/raw-client.js';
import { testCertificate } from '../helpers/certs.js';
import { takeoverCounts } from '../../src/net/tls13/takeover.js';
import { servedClock } from '../helpers/served-time.js';

const BIG = `Subject: big\r\n\r\n${Array.from({ length: 6000 }, (_, i) => `line ${i} ${'x'.repeat(60)}`).join('\r\n')}\r\n`;

/** Runs `openssl s_client` with `args`; `steps` are lines to send, each once `waitFor` is in its output. */
async function sClient(port: number, args: string[], steps: Array<{ send: string; waitFor?: RegExp }>, done: RegExp): Promise<string> {
  const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-msg', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('latin1').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('latin1').on('data', (d: string) => (out += d));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  try {
    for (const step of steps) {
      if (step.waitFor) await until(`s_client output ${step.waitFor}`, () => step.waitFor!.test(out), 10_000).catch(() => assert.fail(`no ${step.waitFor} in:\n${out}`));
      child.stdin.write(step.send);
    }
    await until(`s_client output ${done}`, () => done.test(out), 10_000).catch(() => assert.fail(`no ${done} in:\n${out}`));
  } finally {
    child.stdin.end();
    child.kill();
    await exited;
  }
  return out;
}

const KEY_UPDATE_FROM_SERVER = /<<< TLS 1\.3, Handshake \[length 0005\], KeyUpdate/g;

describe('TLS 1.3 records after the handshake (Postroom record layer)', () => {
  let s: TestServer;
  before(async () => {
    s = await startImapServer({ limits: { idleHibernateSeconds: 0.2 } });
    const c = new RawClient(s.port);
    await c.login();
    await run(c, 'a', `APPEND INBOX {${BIG.length}+}\r\n${BIG}`);
    c.destroy();
  });
  after(() => s.close());

  it('imapflow: login, a large FETCH (many records each way) and an APPEND of the same size', async () => {
    const before = takeoverCounts.postroom;
    const client = new ImapFlow({ host: s.host, port: s.tlsPort, secure: true, auth: { user: 'alice', pass: 'secret' }, tls: { rejectUnauthorized: false }, logger: false, disableAutoIdle: true });
    await client.connect();
    assert.equal(takeoverCounts.postroom, before + 1, 'the connection went on with Postroom records');
    const lock = await client.getMailboxLock('INBOX');
    try {
      const msg = await client.fetchOne('1', { source: true }, { uid: true });
      assert.equal(msg && msg.source?.toString('latin1'), BIG);
      const appended = await client.append('INBOX', Buffer.from(BIG.replace('big', 'big2')));
      assert.ok(appended && appended.uid);
      const back = await client.fetchOne(String(appended.uid), { source: true }, { uid: true });
      assert.equal(back && back.source?.toString('latin1'), BIG.replace('big', 'big2'));
    } finally {
      lock.release();
    }
    await client.logout();
  });

  it('pipelined commands in one write: every one answered, in order', async () => {
    const c = new RawClient(s.tlsPort, { tls: true });
    await c.login();
    c.send('s SELECT INBOX\r\n' + Array.from({ length: 60 }, (_, i) => `p${i} NOOP\r\n`).join('') + 'f FETCH 1 (BODY.PEEK[])\r\n');
    for (let i = 0; i < 60; i++) assert.match(await c.expect(new RegExp(`^p${i} `)), new RegExp(`^p${i} OK`));
    assert.match(await c.expect(/^f /), /^f OK/);
    assert.ok(c.transcript.some((l) => l === 'line 5999 ' + 'x'.repeat(60)), 'the whole message came');
    c.destroy();
  });

  it('an answer of one record and a bit (one write, more than 2^14 bytes) arrives whole with nothing written after it', async () => {
    // A write longer than one record is cut into records of 2^14 bytes: the tail must leave with the
    // whole records, not wait for the next write.
    const mid = `Subject: mid\r\n\r\n${Array.from({ length: 300 }, (_, i) => `row ${i} ${'y'.repeat(60)}`).join('\r\n')}\r\n`;
    assert.ok(mid.length > 16384 && mid.length < 64 * 1024);
    const c = new RawClient(s.tlsPort, { tls: true });
    await c.login();
    const appended = await run(c, 'a', `APPEND INBOX {${mid.length}+}\r\n${mid}`);
    const uid = /APPENDUID \d+ (\d+)/.exec(appended.at(-1) ?? '')?.[1];
    assert.ok(uid, 'APPENDUID');
    await run(c, 's', 'SELECT INBOX');
    c.send(`f UID FETCH ${uid} (BODY.PEEK[])\r\n`);
    assert.match(await c.expect(/^f /, 3000), /^f OK/);
    assert.ok(c.transcript.some((l) => l === 'row 299 ' + 'y'.repeat(60)), 'the whole message came');
    c.destroy();
  });

  for (const suite of ['TLS_AES_256_GCM_SHA384', 'TLS_AES_128_GCM_SHA256', 'TLS_CHACHA20_POLY1305_SHA256']) {
    it(`openssl s_client -tls1_3 (${suite}): KeyUpdate with update_requested is answered, without is not`, async () => {
      const before = takeoverCounts.postroom;
      const out = await sClient(
        s.tlsPort,
        ['-tls1_3', '-ciphersuites', suite],
        [
          { send: 'a1 LOGIN alice secret\r\n', waitFor: /\* OK/ },
          { send: 'K\n', waitFor: /a1 OK/ },
          { send: 'a2 SELECT INBOX\r\n', waitFor: KEY_UPDATE_FROM_SERVER },
          { send: 'k\n', waitFor: /a2 OK/ },
          { send: 'a3 FETCH 1 (BODY[HEADER.FIELDS (SUBJECT)])\r\n', waitFor: />>> TLS 1\.3, Handshake \[length 0005\], KeyUpdate[\s\S]*>>> TLS 1\.3, Handshake \[length 0005\], KeyUpdate/ },
          { send: 'a4 LOGOUT\r\n', waitFor: /a3 OK/ },
        ],
        /a4 OK/,
      );
      assert.equal(takeoverCounts.postroom, before + 1);
      assert.match(out, new RegExp(`Cipher is ${suite}|Ciphersuite: ${suite}|${suite}`));
      assert.equal(out.match(KEY_UPDATE_FROM_SERVER)?.length, 1, 'one KeyUpdate answered (the requested one)');
      assert.match(out, /Subject: big/);
    });
  }

  it('openssl s_client -tls1_2 falls back to OpenSSL records and works', async () => {
    const before = takeoverCounts.openssl;
    const out = await sClient(s.tlsPort, ['-tls1_2'], [{ send: 'a1 LOGIN alice secret\r\n', waitFor: /\* OK/ }, { send: 'a2 LOGOUT\r\n', waitFor: /a1 OK/ }], /a2 OK/);
    assert.equal(takeoverCounts.openssl, before + 1);
    assert.match(out, /TLSv1\.2/);
  });

  it('a TLS 1.2 connection (OpenSSL keeps it, over the handshake tap) hibernates and wakes too', async () => {
    const before = takeoverCounts.openssl;
    const tcp = net.connect(s.tlsPort, '127.0.0.1');
    const secure = tls.connect({ socket: tcp, rejectUnauthorized: false, maxVersion: 'TLSv1.2' });
    let text = '';
    secure.setEncoding('latin1').on('data', (d: string) => (text += d));
    const waitFor = (re: RegExp): Promise<void> => until(`${re}`, () => re.test(text));
    await waitFor(/^\* OK/);
    assert.equal(secure.getProtocol(), 'TLSv1.2');
    secure.write('a LOGIN alice secret\r\nb SELECT INBOX\r\nI1 IDLE\r\n');
    await waitFor(/\r\n\+ /);
    await until('parked', () => (s.server.hibernation?.size ?? 0) === 1);
    assert.equal(takeoverCounts.openssl, before + 1);
    secure.write('DONE\r\nn NOOP\r\n');
    await waitFor(/\r\nn OK/);
    assert.match(text, /\r\nI1 OK/);
    secure.destroy();
  });

  it('STARTTLS (openssl s_client -starttls imap) goes on with Postroom records', async () => {
    const before = takeoverCounts.postroom;
    await sClient(s.port, ['-starttls', 'imap', '-tls1_3'], [{ send: 'a1 LOGIN alice secret\r\n', waitFor: /CIPHER|Cipher/ }, { send: 'a2 LOGOUT\r\n', waitFor: /a1 OK/ }], /a2 OK/);
    assert.equal(takeoverCounts.postroom, before + 1);
  });

  it('Python imaplib over ssl: login, select, fetch', async () => {
    const script = [
      'import imaplib, ssl, sys',
      'ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE',
      'm = imaplib.IMAP4_SSL("127.0.0.1", int(sys.argv[1]), ssl_context=ctx)',
      'print(m.sock.version())',
      'm.login("alice", "secret")',
      'typ, data = m.select("INBOX")',
      'typ, data = m.fetch("1", "(BODY.PEEK[])")',
      'print(len(data[0][1]))',
      'm.logout()',
    ].join('\n');
    const out = await new Promise<string>((resolve, reject) =>
      execFile('python3', ['-c', script, String(s.tlsPort)], { timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))),
    );
    assert.deepEqual(out.trim().split('\n'), ['TLSv1.3', String(BIG.length)]);
  });

  it('curl imaps:// fetches a message', async () => {
    const out = await new Promise<string>((resolve, reject) =>
      execFile('curl', ['-sk', '--tlsv1.3', '--user', 'alice:secret', `imaps://127.0.0.1:${s.tlsPort}/INBOX;UID=1`], { timeout: 30_000, maxBuffer: 4 << 20 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    assert.equal(out, BIG);
  });

  it('a tampered record: bad_record_mac alert and close; the server goes on serving others', async () => {
    let tamper = false;
    const proxy = net.createServer((down) => {
      const up = net.connect(s.tlsPort, '127.0.0.1');
      down.on('data', (d: Buffer) => {
        if (tamper) {
          tamper = false;
          d = Buffer.from(d);
          d[d.length - 3]! ^= 0x40;
        }
        up.write(d);
      });
      up.on('data', (d) => down.write(d));
      up.on('close', () => down.destroy());
      down.on('close', () => up.destroy());
      up.on('error', () => undefined);
      down.on('error', () => undefined);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const port = (proxy.address() as net.AddressInfo).port;
      const c = new RawClient(port, { tls: true });
      await c.login();
      const failure = new Promise<string>((resolve) => {
        c.socket.once('error', (err) => resolve(err.message));
        c.socket.once('close', () => resolve('closed'));
      });
      tamper = true;
      c.send('t NOOP\r\n');
      const why = await failure;
      assert.match(why, /bad record mac|alert number 20|closed/i);
      await until('closed', () => c.closed);
      assert.ok(!c.transcript.some((l) => l.startsWith('t ')), 'the tampered command was not run');
      const other = new RawClient(s.tlsPort, { tls: true });
      await other.login();
      assert.match((await run(other, 'n', 'NOOP')).at(-1)!, /^n OK/);
      other.destroy();
    } finally {
      proxy.close();
    }
  });

  it('a tampered record seen by a raw client: the alert is bad_record_mac (20)', async () => {
    // Our own TLS client with its keys from 'keylog': it reads the server's alert itself.
    const alerts: number[] = [];
    const tcp = net.connect(s.tlsPort, '127.0.0.1');
    const secure = tls.connect({ socket: tcp, rejectUnauthorized: false });
    secure.on('error', (err: Error & { code?: string }) => alerts.push(/ALERT_BAD_RECORD_MAC|bad record mac/i.test(`${err.code} ${err.message}`) ? 20 : -1));
    await new Promise<void>((r) => secure.once('secureConnect', () => r()));
    await new Promise<void>((r) => secure.once('data', () => r()));
    // A record of the right shape that cannot authenticate, straight on the TCP socket.
    tcp.write(Buffer.concat([Buffer.of(23, 3, 3, 0, 40), Buffer.alloc(40, 0x55)]));
    await until('closed', () => secure.destroyed || alerts.length > 0);
    await until('closed', () => secure.destroyed);
    assert.deepEqual(alerts, [20]);
  });

  it('a record longer than 2^14 + 256 bytes is a record_overflow (22), and closes', async () => {
    const tcp = net.connect(s.tlsPort, '127.0.0.1');
    const errors: string[] = [];
    const secure = tls.connect({ socket: tcp, rejectUnauthorized: false });
    secure.on('error', (err: Error & { code?: string }) => errors.push(`${err.code} ${err.message}`));
    await new Promise<void>((r) => secure.once('data', () => r()));
    tcp.write(Buffer.of(23, 3, 3, 0x41, 0x01));
    await until('closed', () => secure.destroyed);
    assert.ok(errors.some((e) => /RECORD_OVERFLOW|record overflow/i.test(e)), errors.join('; '));
  });

  it('a plaintext client on the TLS port is refused at once (OpenSSL sees its bytes), not left to the handshake timeout', async () => {
    const clock = servedClock(); // served time: less other processes' load (served-time.ts)
    const tcp = net.connect(s.tlsPort, '127.0.0.1');
    tcp.on('error', () => undefined);
    tcp.on('data', () => undefined);
    await new Promise<void>((r) => tcp.once('connect', () => r()));
    tcp.write('a1 LOGIN alice secret\r\n');
    await new Promise<void>((r) => tcp.once('close', () => r()));
    assert.ok(clock.served() < 5000, `closed after ${clock.served().toFixed(0)} ms served (${clock.wall().toFixed(0)} ms as seen)`);
  });

  it('hibernates, tells of news while parked (sealed with the kept keys), wakes on DONE and goes on', async () => {
    const c = new RawClient(s.tlsPort, { tls: true });
    await c.login();
    await run(c, 's', 'SELECT INBOX');
    const count = Number((c.transcript.find((l) => / EXISTS$/.test(l)) ?? '').split(' ')[1]);
    c.send('I1 IDLE\r\n');
    await c.expect(/^\+ /);
    await until('parked', () => (s.server.hibernation?.size ?? 0) === 1);
    const other = new RawClient(s.port);
    await other.login();
    await run(other, 'a', 'APPEND INBOX {9+}\r\nSubject: \r\n');
    assert.equal(await c.expect(/EXISTS/), `* ${count + 1} EXISTS`);
    assert.equal(s.server.hibernation?.size, 1, 'told in place, still parked');
    c.send('DONE\r\n');
    assert.match(await c.expect(/^I1 /), /^I1 OK/);
    assert.match((await run(c, 'f', 'FETCH 1 (BODY.PEEK[])')).at(-1)!, /^f OK/);
    assert.ok(c.transcript.some((l) => l === 'line 5999 ' + 'x'.repeat(60)));
    other.destroy();
    c.destroy();
  });
});

describe("TLS records: 'openssl' keeps the TLSSocket", () => {
  it('works, hibernates (the TLSSocket parked as it is) and wakes', async () => {
    const cert = await testCertificate();
    const s = await startImapServer({ tls: { ...cert, records: 'openssl' }, limits: { idleHibernateSeconds: 0.2 } });
    try {
      const before = { ...takeoverCounts };
      const c = new RawClient(s.tlsPort, { tls: true });
      await c.login();
      c.send('I1 IDLE\r\n');
      await c.expect(/^\+ /);
      await until('parked', () => (s.server.hibernation?.size ?? 0) === 1);
      c.send('DONE\r\n');
      assert.match(await c.expect(/^I1 /), /^I1 OK/);
      assert.deepEqual(takeoverCounts, before, 'no takeover was tried');
      c.destroy();
    } finally {
      await s.close();
    }
  });
});
