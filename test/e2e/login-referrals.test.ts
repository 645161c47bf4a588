/**
 * LOGIN-REFERRALS (RFC 2221) over real sockets, with a users file whose `referral=` extra field
 * says a user's mail is on another server: LOGIN and AUTHENTICATE answer `NO [REFERRAL url]` once
 * the password is right (and an ordinary failure when it is wrong, so a referral reveals nothing),
 * Python imaplib sees the code, an unusable URL still keeps the user out, POP3 refuses the user,
 * and a server whose authenticator has no referral hook does not advertise the capability.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startImapServer, type TestServer } from '../helpers/imap-server.js';
import { RawClient, run } from '../helpers/raw-client.js';
import { UserFile, UserFileAuthenticator } from '../../src/auth/user-file.js';
import { createPop3Server } from '../../src/pop3/server.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import { RawPop3 } from './pop3/raw-client.js';
import { createManageSieveServer } from '../../src/managesieve/server.js';
import { RawSieveClient, plain } from '../managesieve/client.js';
import { testCertificate } from '../helpers/certs.js';

const REFERRAL = 'imap://dave@mail2.example.com/';
const b64 = (s: string): string => Buffer.from(s).toString('base64');

function python(code: string, ...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('python3', ['-c', code, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('LOGIN-REFERRALS (RFC 2221) from the users file', () => {
  let dir: string;
  let auth: UserFileAuthenticator;
  let server: TestServer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'postroom-referral-'));
    const users = UserFile.inDataDir(dir, { scrypt: { log2N: 10, r: 8, p: 1 } });
    await users.add('alice', 'pw-alice');
    // Dovecot's passwd-file layout: uid, gid, gecos, home, shell, then the extra fields.
    await appendFile(users.path, `dave:{PLAIN}pw-dave::::::nologin referral=${REFERRAL}\n`);
    await appendFile(users.path, 'erin:{PLAIN}pw-erin::::::referral=imap://bad]url\n');
    auth = new UserFileAuthenticator(users);
    server = await startImapServer({ auth, loginGuard: { baseDelayMs: 0, maxDelayMs: 0, maxFailures: 1000, maxFailuresPerUser: 1000 } });
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('is advertised before and after login; LOGIN and AUTHENTICATE PLAIN get NO [REFERRAL url]', async () => {
    const c = new RawClient(server.port);
    await c.expect(/^\* OK/);
    const before = await run(c, 'a0', 'CAPABILITY');
    assert.match(before[0]!, /^\* CAPABILITY .* LOGIN-REFERRALS/);
    assert.deepEqual(await run(c, 'a1', 'LOGIN dave pw-dave'), [`a1 NO [REFERRAL ${REFERRAL}] This account is served by another server; try the referral`]);
    // Wrong password: the usual failure, not the referral.
    assert.match((await run(c, 'a2', 'LOGIN dave wrong')).at(-1)!, /^a2 NO \[AUTHENTICATIONFAILED\]/);
    // Still not logged in.
    assert.match((await run(c, 'a3', 'SELECT INBOX')).at(-1)!, /^a3 BAD/);
    assert.deepEqual(await run(c, 'a4', `AUTHENTICATE PLAIN ${b64('\0dave\0pw-dave')}`), [`a4 NO [REFERRAL ${REFERRAL}] This account is served by another server; try the referral`]);
    // A URL that cannot go in a response code keeps the user out all the same.
    assert.match((await run(c, 'a5', 'LOGIN erin pw-erin')).at(-1)!, /^a5 NO \[UNAVAILABLE\] This account is served by another server/);
    // A user without a referral logs in, and the capability is still there.
    const ok = await run(c, 'a6', 'LOGIN alice pw-alice');
    assert.match(ok.at(-1)!, /^a6 OK \[CAPABILITY .*LOGIN-REFERRALS.*\] Logged in/);
    c.destroy();
  });

  it('Python imaplib sees the REFERRAL code', async () => {
    const res = await python(
      [
        'import imaplib, sys',
        'c = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))',
        'print("LOGIN-REFERRALS" in c.capabilities)',
        'try:',
        '    c.login("dave", "pw-dave"); print("logged in")',
        'except imaplib.IMAP4.error as e:',
        '    print(e.args[0].decode() if isinstance(e.args[0], bytes) else e.args[0])',
        'c.logout()',
      ].join('\n'),
      String(server.port),
    );
    assert.equal(res.status, 0, res.stderr);
    assert.deepEqual(res.stdout.trim().split('\n'), ['True', `[REFERRAL ${REFERRAL}] This account is served by another server; try the referral`]);
  });

  it('POP3 keeps the referred user out with -ERR [SYS/PERM]', async (t) => {
    const store = new MemoryStore();
    const pop3 = createPop3Server({ store, auth, port: 0, tlsPort: null, allowInsecureAuth: true, limits: { authFailureDelaySeconds: 0 } });
    const { port } = await pop3.listen();
    t.after(async () => {
      await pop3.close();
      await store.close();
    });
    const c = await RawPop3.connect(port!);
    await c.greeting;
    assert.match(await c.cmd('USER dave'), /^\+OK/);
    assert.equal(await c.cmd('PASS pw-dave'), '-ERR [SYS/PERM] This account is served by another server');
    assert.match(await c.cmd('USER alice'), /^\+OK/);
    assert.match(await c.cmd('PASS pw-alice'), /^\+OK/);
    await c.cmd('QUIT');
  });

  it('ManageSieve keeps the referred user out with a plain NO', async (t) => {
    const store = new MemoryStore();
    const sieve = createManageSieveServer({ store, auth, port: 0, hostname: 'sieve.test', tls: await testCertificate(), loginGuard: { baseDelayMs: 0 } });
    const { port } = await sieve.listen();
    t.after(async () => {
      await sieve.close();
      await store.close();
    });
    const c = await RawSieveClient.connect(port);
    await c.response();
    assert.match(await c.command('STARTTLS'), /^OK/m);
    await c.startTls();
    await c.response();
    assert.match(await c.command(`AUTHENTICATE "PLAIN" "${plain('dave', 'pw-dave')}"`), /^NO "This account is served by another server"/);
    assert.match(await c.command(`AUTHENTICATE "PLAIN" "${plain('alice', 'pw-alice')}"`), /^OK/);
    c.close();
  });

  it('is not advertised when the authenticator has no referral hook', async () => {
    const plain = await startImapServer();
    try {
      const c = new RawClient(plain.port);
      await c.expect(/^\* OK/);
      const caps = await run(c, 'b0', 'CAPABILITY');
      assert.match(caps[0]!, /^\* CAPABILITY /);
      assert.doesNotMatch(caps[0]!, /LOGIN-REFERRALS/);
      c.destroy();
    } finally {
      await plain.close();
    }
  });
});
