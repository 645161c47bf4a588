/**
 * Every SASL mechanism against real clients (Python imaplib, imapflow) and over POP3 AUTH, with a
 * users-file authenticator and a token verifier; and no password or token ever reaches the log.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { pino } from 'pino';
import { ImapFlow } from 'imapflow';
import { startImapServer, type TestServer } from '../helpers/imap-server.js';
import { RawClient } from '../helpers/raw-client.js';
import { UserFile, UserFileAuthenticator } from '../../src/auth/user-file.js';
import { withTokenVerifier } from '../../src/auth/sasl/index.js';
import type { Authenticator } from '../../src/auth/types.js';
import { createPop3Server } from '../../src/pop3/server.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import { RawPop3 } from './pop3/raw-client.js';

const script = fileURLToPath(new URL('./python/auth_mechanisms.py', import.meta.url));
const SECRETS = ['pw-alice', 'pw-carol', 'pw-wrong', 'tok-alice', 'expired', 'nope', 'wrong'];
const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');

/** Everything the server logs, at every level, as one string. */
function captureLogger() {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: pino({ level: 'trace' }, sink), text: () => chunks.join('') };
}

async function usersAuthenticator(dir: string): Promise<Authenticator> {
  const users = UserFile.inDataDir(dir, { scrypt: { log2N: 10, r: 8, p: 1 } });
  await users.add('alice', 'pw-alice');
  await appendFile(users.path, 'carol:{PLAIN}pw-carol\n');
  const base = new UserFileAuthenticator(users, { plaintextSecrets: true });
  return withTokenVerifier(base, async (request) => (request.token.startsWith('tok-') ? { user: request.token.slice(4) } : null));
}

function run(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('python3', args, { timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('SASL mechanisms end to end', () => {
  let server: TestServer;
  let dir: string;
  const log = captureLogger();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'postroom-auth-e2e-'));
    server = await startImapServer({
      auth: await usersAuthenticator(dir),
      logger: log.logger,
      // Failures are part of the test; the growing delays are tested elsewhere.
      loginGuard: { baseDelayMs: 0, maxDelayMs: 0, maxFailures: 1000, maxFailuresPerUser: 1000 },
    });
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('Python imaplib: PLAIN, LOGIN, SCRAM-SHA-256, CRAM-MD5, OAUTHBEARER, XOAUTH2 succeed and fail properly', async () => {
    const res = await run([script, server.host, String(server.tlsPort)]);
    assert.equal(res.status, 0, `script failed:\n${res.stderr}\n${res.stdout}`);
    const r = JSON.parse(res.stdout.trim().split('\n').pop()!) as Record<string, string | boolean | null>;
    for (const mech of ['PLAIN', 'LOGIN', 'SCRAM-SHA-256', 'CRAM-MD5', 'OAUTHBEARER', 'XOAUTH2']) {
      assert.equal(r[`${mech} ok`], 'OK', `${mech} ok: ${JSON.stringify(r)}`);
      assert.equal(r[`${mech} bad`], 'NO', `${mech} bad: ${JSON.stringify(r)}`);
    }
    assert.equal(r['PLAIN ok/select'], 'OK');
    assert.equal(r['SCRAM-SHA-256 server signature'], true, 'the server proved it holds the ServerKey');
    assert.equal(r['SCRAM-SHA-256 unknown user'], 'NO');
    assert.equal(r['SCRAM-SHA-256 no keys'], 'NO');
    assert.equal(r['OAUTHBEARER error challenge'], 'invalid_token');
    assert.equal(r['XOAUTH2 error challenge'], '401');
    assert.equal(r['cancel'], 'BAD');
    assert.equal(r['unknown mechanism'], 'NO');
    assert.match(String(r['unknown mechanism/text']), /CANNOT|Unsupported/);
  });

  const flow = (auth: ConstructorParameters<typeof ImapFlow>[0]['auth']): ImapFlow =>
    new ImapFlow({ host: server.host, port: server.tlsPort, secure: true, tls: { rejectUnauthorized: false }, auth, logger: false });

  it('imapflow: PLAIN, LOGIN and OAUTHBEARER (accessToken), success and failure', async () => {
    for (const auth of [
      { user: 'alice', pass: 'pw-alice' },
      { user: 'alice', pass: 'pw-alice', loginMethod: 'AUTH=LOGIN' },
      { user: 'alice', accessToken: 'tok-alice' },
    ]) {
      const client = flow(auth);
      await client.connect();
      const box = await client.mailboxOpen('INBOX');
      assert.equal(box.path, 'INBOX', JSON.stringify(auth));
      await client.logout();
    }
    for (const auth of [
      { user: 'alice', pass: 'wrong' },
      { user: 'alice', pass: 'wrong', loginMethod: 'AUTH=LOGIN' },
      { user: 'alice', accessToken: 'expired' },
    ]) {
      const client = flow(auth);
      client.on('error', () => undefined);
      await assert.rejects(client.connect(), (err: Error & { authenticationFailed?: boolean }) => err.authenticationFailed === true, JSON.stringify(auth));
      client.close();
    }
  });

  it('raw IMAP: "*" cancels, bad base64 is BAD, unknown mechanism is NO [CANNOT], SCRAM needs no TLS', async () => {
    const c = new RawClient(server.port);
    const greeting = await c.expect(/^\* OK/);
    assert.match(greeting, /AUTH=SCRAM-SHA-256/);
    c.send('a AUTHENTICATE SCRAM-SHA-256\r\n');
    assert.equal(await c.expect(/^\+/), '+ ');
    c.send('*\r\n');
    assert.match(await c.expect(/^a /), /^a BAD .*cancel/i);
    c.send('b AUTHENTICATE PLAIN\r\n');
    await c.expect(/^\+/);
    c.send('not*base64\r\n');
    assert.match(await c.expect(/^b /), /^b BAD .*base64/i);
    c.send(`c AUTHENTICATE PLAIN ${b64('\0alice\0pw-alice').slice(0, -1)}\r\n`);
    assert.match(await c.expect(/^c /), /^c BAD/);
    c.send('d AUTHENTICATE KERBEROS_V4\r\n');
    assert.match(await c.expect(/^d /), /^d NO \[CANNOT\]/);
    c.send(`e AUTHENTICATE SCRAM-SHA-256 ${b64('n,,n=alice,r=abc')}\r\n`);
    const serverFirst = Buffer.from((await c.expect(/^\+ /)).slice(2), 'base64').toString();
    c.send(`${b64(scramFinal('pw-alice', 'n=alice,r=abc', serverFirst))}\r\n`);
    const serverFinal = Buffer.from((await c.expect(/^\+ /)).slice(2), 'base64').toString();
    assert.match(serverFinal, /^v=[A-Za-z0-9+/]{43}=$/);
    c.send('\r\n');
    assert.match(await c.expect(/^e /), /^e OK/);
    c.destroy();
  });

  it('POP3 AUTH SCRAM-SHA-256 and OAUTHBEARER over the same authenticator', async (t) => {
    const store = new MemoryStore();
    const pop3 = createPop3Server({
      store,
      auth: await usersAuthenticator(await mkdtemp(join(dir, 'pop3-'))),
      port: 0,
      tlsPort: null,
      allowInsecureAuth: true,
      logger: log.logger,
      limits: { authFailureDelaySeconds: 0 },
    });
    const { port } = await pop3.listen();
    t.after(async () => {
      await pop3.close();
      await store.close();
    });
    const c = await RawPop3.connect(port!);
    await c.greeting;
    assert.match(await c.cmd('AUTH'), /^\+OK/);
    assert.deepEqual(await c.multi(), ['SCRAM-SHA-256', 'PLAIN', 'LOGIN', 'CRAM-MD5', 'OAUTHBEARER', 'XOAUTH2']);
    const first = await c.cmd(`AUTH SCRAM-SHA-256 ${b64('n,,n=alice,r=xyz')}`);
    const serverFirst = Buffer.from(first.slice(2), 'base64').toString();
    const wrong = await c.cmd(b64(scramFinal('pw-wrong', 'n=alice,r=xyz', serverFirst)));
    assert.match(wrong, /^-ERR \[AUTH\]/);
    const again = Buffer.from((await c.cmd(`AUTH SCRAM-SHA-256 ${b64('n,,n=alice,r=xyz')}`)).slice(2), 'base64').toString();
    const final = await c.cmd(b64(scramFinal('pw-alice', 'n=alice,r=xyz', again)));
    assert.match(Buffer.from(final.slice(2), 'base64').toString(), /^v=/);
    assert.match(await c.cmd(''), /^\+OK/);
    assert.match(await c.cmd('STAT'), /^\+OK 0 0/);
    await c.cmd('QUIT');

    const d = await RawPop3.connect(port!);
    await d.greeting;
    const bad = await d.cmd(`AUTH OAUTHBEARER ${b64('n,a=alice,\x01auth=Bearer expired\x01\x01')}`);
    assert.match(Buffer.from(bad.slice(2), 'base64').toString(), /invalid_token/);
    assert.match(await d.cmd(b64('\x01')), /^-ERR/);
    assert.match(await d.cmd(`AUTH OAUTHBEARER ${b64('n,a=alice,\x01auth=Bearer tok-alice\x01\x01')}`), /^\+OK/);
    await d.cmd('QUIT');
  });

  it('no password, token or SASL payload appears in the log, while the audit lines do', () => {
    const text = log.text();
    assert.match(text, /"mechanism":"SCRAM-SHA-256"/, 'audit lines were captured');
    assert.match(text, /"result":"failure"/);
    for (const secret of SECRETS) {
      assert.ok(!text.includes(secret), `log contains ${secret}`);
      assert.ok(!text.includes(b64(secret).replace(/=+$/, '')), `log contains base64 of ${secret}`);
    }
    for (const payload of ['\0alice\0pw-alice', 'n,a=alice,\x01auth=Bearer tok-alice\x01\x01']) {
      assert.ok(!text.includes(b64(payload)), 'log contains a SASL payload');
    }
  });
});

/** Client side of RFC 5802 §3, independent of the server code. */
function scramFinal(password: string, clientFirstBare: string, serverFirst: string): string {
  const attrs = Object.fromEntries(serverFirst.split(',').map((a) => [a[0], a.slice(2)]));
  const salted = pbkdf2Sync(password, Buffer.from(attrs.s!, 'base64'), Number(attrs.i), 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const stored = createHash('sha256').update(clientKey).digest();
  const withoutProof = `c=biws,r=${attrs.r}`;
  const sig = createHmac('sha256', stored).update(`${clientFirstBare},${serverFirst},${withoutProof}`).digest();
  return `${withoutProof},p=${Buffer.from(clientKey.map((x, i) => x ^ sig[i]!)).toString('base64')}`;
}

