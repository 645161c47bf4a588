/**
 * A real MTA in front of Postroom: Postfix (its own instance, test/helpers/postfix.ts) delivers
 * the virtual domain example.test over `lmtp:unix:` to `postroom serve --lmtp-socket`; swaks sends
 * mail into Postfix; imapflow reads it back. Each message must arrive byte for byte, with Postfix's
 * Received: header and our Return-Path:/Delivered-To: in front.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { ImapFlow } from 'imapflow';
import { postroom } from '../helpers/cli.js';
import { startPostfix, type RunningPostfix } from '../helpers/postfix.js';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';

const run = promisify(execFile);
const DOMAIN = 'example.test';
const PASSWORD = 'pw-for-tests';

let work: string;
let serve: ServeProcess;
let postfix: RunningPostfix;

function message(subject: string, body: Buffer | string, extra = ''): Buffer {
  const head =
    `Date: Thu, 03 Dec 2026 10:00:00 +0000\r\nFrom: Sender <sender@${DOMAIN}>\r\nTo: ann@${DOMAIN}\r\n` +
    `Subject: ${subject}\r\nMessage-ID: <${randomBytes(8).toString('hex')}@${DOMAIN}>\r\n${extra}\r\n`;
  return Buffer.concat([Buffer.from(head), Buffer.isBuffer(body) ? body : Buffer.from(body)]);
}

async function swaks(to: string[], data: Buffer): Promise<string> {
  const file = join(work, `msg-${randomBytes(4).toString('hex')}.eml`);
  // swaks ends the data with CRLF "." CRLF itself, so the file leaves out the message's last CRLF.
  assert.ok(data.subarray(-2).equals(Buffer.from('\r\n')));
  writeFileSync(file, data.subarray(0, -2));
  const { stdout } = await run(
    'swaks',
    ['--server', `127.0.0.1:${postfix.smtpPort}`, '--from', `sender@${DOMAIN}`, '--to', to.join(','), '--data', `@${file}`, '--helo', 'client.test', '--timeout', '120'],
    { maxBuffer: 256 * 1024 * 1024, timeout: 180_000 },
  );
  return stdout;
}

async function imap(user: string): Promise<ImapFlow> {
  const client = new ImapFlow({ host: '127.0.0.1', port: serve.listening.imapPort!, secure: false, auth: { user, pass: PASSWORD }, logger: false, tls: { rejectUnauthorized: false } });
  await client.connect();
  return client;
}

/** Polls `user`'s `mailbox` until it holds `count` messages; returns their sources, oldest first. */
async function waitForMessages(user: string, mailbox: string, count: number): Promise<Buffer[]> {
  const deadline = Date.now() + 120_000;
  const client = await imap(user);
  try {
    for (;;) {
      const status = await client.status(mailbox, { messages: true });
      if ((status.messages ?? 0) >= count) break;
      if (Date.now() > deadline) assert.fail(`${user}'s ${mailbox} has ${status.messages} of ${count} messages; Postfix log:\n${postfix.log().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const lock = await client.getMailboxLock(mailbox);
    try {
      const out: Buffer[] = [];
      for await (const m of client.fetch('1:*', { source: true })) out.push(m.source!);
      return out;
    } finally {
      lock.release();
    }
  } finally {
    await client.logout();
  }
}

/** Our trace headers, then Postfix's Received: (folded over several lines), then the bytes swaks sent. */
function assertDelivered(got: Buffer, sent: Buffer, deliveredTo: string | null): void {
  const ours = `Return-Path: <sender@${DOMAIN}>\r\n${deliveredTo ? `Delivered-To: ${deliveredTo}\r\n` : ''}`;
  const text = got.toString('latin1');
  assert.ok(text.startsWith(ours), `starts with our trace headers: ${JSON.stringify(text.slice(0, 200))}`);
  const received = /^Received: [^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*/.exec(text.slice(ours.length));
  assert.ok(received && /Postfix/.test(received[0]), `then Postfix's Received: header: ${JSON.stringify(text.slice(ours.length, ours.length + 300))}`);
  const rest = got.subarray(ours.length + received[0].length);
  assert.equal(rest.length, sent.length, 'the message after the trace headers has the size swaks sent');
  assert.ok(rest.equals(sent), 'and the same bytes');
}

describe('Postfix delivers to Postroom over LMTP', () => {
  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'postroom-lmtp-postfix-'));
    chmodSync(work, 0o755);
    const data = join(work, 'data');
    for (const user of ['ann', 'sender']) {
      const added = await postroom(['user', 'add', user, '--password-stdin', '--data', data], PASSWORD);
      assert.equal(added.code, 0, added.stderr);
    }
    // The socket's folder is reachable by Postfix's lmtp client (user "postfix"); the socket
    // itself is 0660 and — as an administrator would with chgrp — in the postfix group.
    const sockets = join(work, 'sockets');
    mkdirSync(sockets, { mode: 0o755 });
    const socket = join(sockets, 'lmtp');
    serve = await startServe(['--data', data, '--store', 'sqlite', '--ephemeral-ports', '--pop3-port', 'off', '--pop3s-port', 'off', '--imaps-port', 'off', '--allow-insecure-auth', '--lmtp-socket', socket]);
    assert.equal(serve.listening.lmtpSocket, socket);
    const postfixGid = Number(readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.startsWith('postfix:'))!.split(':')[2]);
    chownSync(socket, 0, postfixGid);
    postfix = await startPostfix({ domain: DOMAIN, transport: `lmtp:unix:${socket}` });
    const ann = await imap('ann');
    await ann.mailboxCreate('Lists');
    await ann.logout();
  });

  after(async () => {
    await postfix?.stop();
    await serve?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('two recipients, one unknown: one delivered (8-bit body intact), one bounce back to the sender', async () => {
    const body = Buffer.concat([Buffer.from('Grüße aus Köln — 8-bit UTF-8, and a Latin-1 byte: '), Buffer.from([0xe9]), Buffer.from('\r\n.a dot line\r\n\r\n')]);
    const sent = message('two recipients', body, 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n');
    const reply = await swaks([`ann@${DOMAIN}`, `nobody@${DOMAIN}`], sent);
    assert.match(reply, /250 2\.0\.0 Ok: queued/);
    const [got] = await waitForMessages('ann', 'INBOX', 1);
    // Postfix sent both recipients in one transaction; only ann was accepted, so one recipient.
    assertDelivered(got!, sent, `ann@${DOMAIN}`);
    const [bounce] = await waitForMessages('sender', 'INBOX', 1);
    const text = bounce!.toString('latin1');
    assert.match(text, /^Return-Path: <>\r\n/, 'a bounce has the null sender');
    assert.match(text, /nobody@example\.test/);
    assert.match(text, /550 5\.1\.1/, 'the bounce quotes our reply');
    assert.match(postfix.log(), /to=<nobody@example\.test>.*status=bounced/);
    assert.match(postfix.log(), /to=<ann@example\.test>.*status=sent/);
  });

  it('user+folder@ lands in that folder', async () => {
    const sent = message('to the list folder', 'list mail\r\n');
    await swaks([`ann+lists@${DOMAIN}`], sent);
    const [got] = await waitForMessages('ann', 'Lists', 1);
    assertDelivered(got!, sent, `ann+lists@${DOMAIN}`);
  });

  it('a 20 MB message arrives byte for byte', async () => {
    const b64 = randomBytes(15 * 1024 * 1024).toString('base64').replace(/.{76}/g, '$&\r\n');
    const sent = message('twenty megabytes', `--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n--b--\r\n`, 'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n');
    assert.ok(sent.length > 20_000_000);
    await swaks([`ann@${DOMAIN}`], sent);
    const all = await waitForMessages('ann', 'INBOX', 2);
    assertDelivered(all[1]!, sent, `ann@${DOMAIN}`);
  });
});
