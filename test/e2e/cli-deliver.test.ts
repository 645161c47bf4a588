/**
 * `postroom deliver`, the LDA: each exit code while the server runs (an IDLE client is told of
 * what it delivers), and without a server, when it opens the store itself.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImapFlow } from 'imapflow';
import { postroom } from '../helpers/cli.js';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';

const PASSWORD = 'deliver-pw';
const work = mkdtempSync(join(tmpdir(), 'postroom-deliver-'));
const data = join(work, 'data');
after(() => rmSync(work, { recursive: true, force: true }));

function deliver(args: string[], input: string | Buffer): ReturnType<typeof postroom> {
  return postroom(['deliver', '--data', data, ...args], input as string);
}

async function imap(port: number, user: string): Promise<ImapFlow> {
  const client = new ImapFlow({ host: '127.0.0.1', port, secure: false, auth: { user, pass: PASSWORD }, logger: false, tls: { rejectUnauthorized: false } });
  await client.connect();
  return client;
}

async function sources(port: number, user: string, mailbox = 'INBOX'): Promise<string[]> {
  const client = await imap(port, user);
  try {
    const lock = await client.getMailboxLock(mailbox);
    try {
      const out: string[] = [];
      if ((client.mailbox && client.mailbox.exists) === 0) return out;
      for await (const m of client.fetch('1:*', { source: true })) out.push(m.source!.toString('latin1'));
      return out;
    } finally {
      lock.release();
    }
  } finally {
    await client.logout();
  }
}

const serveArgs = ['--data', data, '--store', 'sqlite', '--ephemeral-ports', '--pop3-port', 'off', '--pop3s-port', 'off', '--imaps-port', 'off', '--allow-insecure-auth'];

describe('postroom deliver while the server runs', () => {
  let serve: ServeProcess;
  let port: number;
  before(async () => {
    for (const user of ['ann', 'bob']) assert.equal((await postroom(['user', 'add', user, '--password-stdin', '--data', data], PASSWORD)).code, 0);
    serve = await startServe(serveArgs);
    port = serve.listening.imapPort!;
    assert.equal(serve.listening.deliverSocket, join(data, 'deliver.sock'));
    const ann = await imap(port, 'ann');
    await ann.mailboxCreate('Lists');
    await ann.logout();
  });
  after(() => serve.stop());

  it('0: delivered through the server; an IDLE session hears it; LF becomes CRLF, a "From " line gives the sender', async () => {
    const watcher = await imap(port, 'ann');
    try {
      await watcher.mailboxOpen('INBOX');
      const heard = new Promise<number>((resolve) => watcher.on('exists', (e: { count: number }) => resolve(e.count)));
      void watcher.idle();
      const result = await deliver(['--user', 'ann'], 'From bounce@example.org Thu Dec  3 10:00:00 2026\nSubject: by LDA\n\nline one\n.line two\n');
      assert.equal(result.code, 0, result.stderr);
      assert.equal(await Promise.race([heard, new Promise((r) => setTimeout(() => r(-1), 10_000))]), 1, 'IDLE was told EXISTS 1');
    } finally {
      await watcher.logout().catch(() => undefined);
    }
    assert.deepEqual(await sources(port, 'ann'), [
      `Return-Path: <bounce@example.org>\r\nDelivered-To: ann@${hostname()}\r\nSubject: by LDA\r\n\r\nline one\r\n.line two\r\n`,
    ]);
  });

  it('0 with --mailbox, --from and --recipient; a missing mailbox means INBOX', async () => {
    const lists = await deliver(['--user', 'ann', '--mailbox', 'Lists', '--from', 'list@example.org', '--recipient', 'ann+lists@example.org'], 'Subject: list\n\n');
    assert.equal(lists.code, 0, lists.stderr);
    const missing = await deliver(['--user', 'bob', '--mailbox', 'No Such Folder'], 'Subject: to inbox\n\n');
    assert.equal(missing.code, 0, missing.stderr);
    assert.deepEqual(await sources(port, 'ann', 'Lists'), ['Return-Path: <list@example.org>\r\nDelivered-To: ann+lists@example.org\r\nSubject: list\r\n\r\n']);
    assert.match((await sources(port, 'bob')).join(''), /Subject: to inbox/);
  });

  it('67: no such user', async () => {
    const result = await deliver(['--user', 'nobody'], 'Subject: x\n\n');
    assert.equal(result.code, 67);
    assert.match(result.stderr, /550 5\.1\.1/);
  });

  it('65: NUL bytes in the message (the server refuses them)', async () => {
    const result = await deliver(['--user', 'ann'], Buffer.from('Subject: nul\n\na\0b\n'));
    assert.equal(result.code, 65);
    assert.match(result.stderr, /554 5\.6\.0 Message contains NUL characters \(via LMTP /);
  });

  it('75: a temporary failure in the server (the store\'s folder for new body files is gone)', async () => {
    // One recipient and no Sieve script: the message is stored while it arrives (not spooled),
    // and a body this large goes through a temporary file in the store's tmp/, which now fails.
    const temp = join(data, 'tmp');
    rmSync(temp, { recursive: true });
    writeFileSync(temp, 'not a folder');
    try {
      const result = await deliver(['--user', 'ann'], `Subject: big\n\n${'x'.repeat(400_000)}\n`);
      assert.equal(result.code, 75, result.stderr);
      assert.match(result.stderr, /451 4\.3\.0/);
    } finally {
      rmSync(temp);
      mkdirSync(temp, { mode: 0o700 });
    }
  });

  it('64: usage errors', async () => {
    const result = await deliver(['--user', 'ann', '--lmtp-port', 'nonsense'], 'x');
    assert.equal(result.code, 64);
    assert.match(result.stderr, /--lmtp-port/);
  });
});

describe('postroom deliver without a server', () => {
  it('opens the store itself; two deliveries at once take turns; a server started later shows both', async () => {
    const [one, two] = await Promise.all([deliver(['--user', 'bob'], 'Subject: direct 1\n\n'), deliver(['--user', 'bob'], 'Subject: direct 2\n\n')]);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(two.code, 0, two.stderr);
    const serve = await startServe(serveArgs);
    try {
      const subjects = (await sources(serve.listening.imapPort!, 'bob')).map((s) => /Subject: (.*)\r\n/.exec(s)?.[1]);
      assert.deepEqual(subjects.filter((s) => s?.startsWith('direct')).sort(), ['direct 1', 'direct 2']);
    } finally {
      await serve.stop();
    }
  });
});
