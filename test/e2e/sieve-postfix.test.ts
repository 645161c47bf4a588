/**
 * Sieve behind a real MTA: swaks sends into Postfix (its own instance, test/helpers/postfix.ts),
 * Postfix delivers over LMTP to `postroom serve`, and the recipient's active script — uploaded
 * with sieve-connect over ManageSieve — decides. Postroom's Sieve relay is that same Postfix, so
 * a vacation answer travels back through it to the sender's mailbox here, and a reject comes back
 * as Postfix's bounce. Everything is read back over IMAP.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { ImapFlow } from 'imapflow';
import { postroom } from '../helpers/cli.js';
import { freePort, startPostfix, type RunningPostfix } from '../helpers/postfix.js';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';

const run = promisify(execFile);
const DOMAIN = 'example.test';
const PASSWORD = 'pw-for-tests';

let work: string;
let serve: ServeProcess;
let postfix: RunningPostfix;

function message(subject: string, from = 'sender'): Buffer {
  return Buffer.from(
    `Date: Fri, 04 Dec 2026 10:00:00 +0000\r\nFrom: <${from}@${DOMAIN}>\r\nTo: ann@${DOMAIN}\r\nSubject: ${subject}\r\n` +
      `Message-ID: <${randomBytes(8).toString('hex')}@${DOMAIN}>\r\n\r\nHello.\r\n`,
  );
}

async function swaks(to: string, data: Buffer, from = 'sender'): Promise<string> {
  const file = join(work, `msg-${randomBytes(4).toString('hex')}.eml`);
  writeFileSync(file, data.subarray(0, -2)); // swaks adds the final CRLF "." CRLF
  const { stdout } = await run('swaks', ['--server', `127.0.0.1:${postfix.smtpPort}`, '--from', `${from}@${DOMAIN}`, '--to', to, '--data', `@${file}`, '--helo', 'client.test'], {
    timeout: 120_000,
  });
  return stdout;
}

function sieveConnect(args: string[]): Promise<{ code: number | null; out: string }> {
  const port = (serve.listening as unknown as { managesievePort: number }).managesievePort;
  return new Promise((resolve) => {
    const child = spawn('sieve-connect', ['--server', '127.0.0.1', '--port', String(port), '--user', 'ann', '--notlsverify', '--passwordfd', '0', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.stdin.end(`${PASSWORD}\n`);
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => (clearTimeout(timer), resolve({ code, out })));
  });
}

interface Seen {
  flags: string[];
  source: string;
}

/** Polls until `user`'s `mailbox` holds `count` messages (it may not exist yet); returns them, oldest first. */
async function waitFor(user: string, mailbox: string, count: number): Promise<Seen[]> {
  const deadline = Date.now() + 120_000;
  const client = new ImapFlow({ host: '127.0.0.1', port: serve.listening.imapPort!, secure: false, auth: { user, pass: PASSWORD }, logger: false, tls: { rejectUnauthorized: false } });
  await client.connect();
  try {
    for (;;) {
      const status = await client.status(mailbox, { messages: true }).catch(() => ({ messages: 0 }));
      if ((status.messages ?? 0) >= count) break;
      if (Date.now() > deadline) assert.fail(`${user}'s ${mailbox} has ${status.messages} of ${count} messages; Postfix log:\n${postfix.log().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const lock = await client.getMailboxLock(mailbox);
    try {
      const out: Seen[] = [];
      for await (const m of client.fetch('1:*', { flags: true, source: true })) out.push({ flags: [...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort(), source: m.source!.toString() });
      return out;
    } finally {
      lock.release();
    }
  } finally {
    await client.logout();
  }
}

/** Messages Postfix queued with the null sender (bounces and vacation answers), from its log. */
const nullSenderQueued = (): number => (postfix.log().match(/qmgr\[\d+\]: \w+: from=<>, size=/g) ?? []).length;

const SCRIPT = `require ["fileinto", "mailbox", "imap4flags", "reject", "vacation", "editheader"];
if header :contains "subject" "report" {
  addheader "X-Filed-By" "sieve";
  fileinto :create :flags ["\\\\Flagged", "$Report"] "Reports";
  stop;
}
if header :contains "subject" "offer" {
  reject "No offers, thanks.";
  stop;
}
if header :contains "subject" "lunch" {
  vacation :days 3 :subject "Away" "I am away this week.";
}
addflag "\\\\Seen";
`;

describe('Sieve behind Postfix: swaks → Postfix → LMTP → Sieve → IMAP', { timeout: 300_000 }, () => {
  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'postroom-sieve-postfix-'));
    chmodSync(work, 0o755);
    const data = join(work, 'data');
    for (const user of ['ann', 'sender']) {
      const added = await postroom(['user', 'add', user, '--password-stdin', '--data', data], PASSWORD);
      assert.equal(added.code, 0, added.stderr);
    }
    const sockets = join(work, 'sockets');
    mkdirSync(sockets, { mode: 0o755 });
    const socket = join(sockets, 'lmtp');
    // The Sieve relay is the Postfix started below: its port is chosen first.
    const smtpPort = await freePort();
    serve = await startServe([
      '--data', data, '--store', 'sqlite', '--ephemeral-ports', '--pop3-port', 'off', '--pop3s-port', 'off', '--imaps-port', 'off', '--allow-insecure-auth',
      '--lmtp-socket', socket, '--managesieve-port', 'auto', '--sieve-relay', `smtp://127.0.0.1:${smtpPort}`, '--hostname', `mx.${DOMAIN}`,
    ]);
    const postfixGid = Number(readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.startsWith('postfix:'))!.split(':')[2]);
    chownSync(socket, 0, postfixGid);
    postfix = await startPostfix({ domain: DOMAIN, transport: `lmtp:unix:${socket}`, smtpPort });

    const file = join(work, 'ann.sieve');
    writeFileSync(file, SCRIPT);
    const up = await sieveConnect(['--localsieve', file, '--remotesieve', 'main', '--upload']);
    assert.equal(up.code, 0, up.out);
    const act = await sieveConnect(['--remotesieve', 'main', '--activate']);
    assert.equal(act.code, 0, act.out);
  });

  after(async () => {
    await postfix?.stop();
    await serve?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('fileinto :create with flags, and the added header, on the stored message', async () => {
    assert.match(await swaks(`ann@${DOMAIN}`, message('Monthly report')), /250 2\.0\.0 Ok: queued/);
    const [filed] = await waitFor('ann', 'Reports', 1);
    assert.deepEqual(filed!.flags, ['$Report', '\\Flagged']);
    assert.match(filed!.source, /^X-Filed-By: sieve\r$/m);
    // Postfix's Received: is still there (a script may not remove it), after our trace headers.
    assert.match(filed!.source, /^Return-Path: <sender@example\.test>\r\nDelivered-To: ann@example\.test\r\nX-Filed-By: sieve\r\nReceived: /);
  });

  it('anything else is kept in INBOX with the flag the script sets', async () => {
    await swaks(`ann@${DOMAIN}`, message('hello'));
    const [kept] = await waitFor('ann', 'INBOX', 1);
    assert.deepEqual(kept!.flags, ['\\Seen']);
  });

  it('reject: LMTP 550 5.7.1 for ann, and Postfix bounces to the sender with the reason', async () => {
    await swaks(`ann@${DOMAIN}`, message('Special offer'));
    const [bounce] = await waitFor('sender', 'INBOX', 1);
    assert.match(bounce!.source, /^Return-Path: <>\r$/m);
    assert.match(bounce!.source, /550 5\.7\.1/);
    assert.match(bounce!.source, /No offers, thanks\./);
    assert.match(postfix.log(), /to=<ann@example\.test>.*status=bounced/);
    assert.equal((await waitFor('ann', 'INBOX', 1)).length, 1, 'the rejected message was not stored');
  });

  it('vacation answers once through the relay (Postfix), from <>, and keeps both messages', async () => {
    const queuedBefore = nullSenderQueued(); // the bounce above
    await swaks(`ann@${DOMAIN}`, message('lunch on Friday?'));
    await swaks(`ann@${DOMAIN}`, message('lunch, again?'));
    // Both delivered: each answer (if any) was handed to Postfix before LMTP said 250.
    assert.equal((await waitFor('ann', 'INBOX', 3)).length, 3);
    const answers = await waitFor('sender', 'INBOX', 2);
    assert.equal(answers.length, 2);
    const reply = answers[1]!.source;
    assert.match(reply, /^Return-Path: <>\r$/m);
    assert.match(reply, /^Subject: Away\r$/m);
    assert.match(reply, /^Auto-Submitted: auto-replied\r$/m);
    assert.match(reply, /I am away this week\./);
    assert.equal(nullSenderQueued() - queuedBefore, 1, `one answer for two messages; Postfix log:\n${postfix.log().slice(-2000)}`);
  });
});
