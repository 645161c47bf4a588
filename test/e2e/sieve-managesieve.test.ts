/**
 * End to end through `postroom serve`: a script uploaded and activated with sieve-connect (Debian)
 * over ManageSieve with STARTTLS, and one with a raw client; then mail delivered over LMTP lands
 * in the folders with the flags the scripts say (read back over IMAP), reject refuses one
 * recipient only, and vacation answers once through the relay (smtp-server as the sink).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImapFlow } from 'imapflow';
import { SMTPServer } from 'smtp-server';
import { LmtpClient } from '../../src/lmtp/client.js';
import { postroom } from '../helpers/cli.js';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';
import { RawSieveClient, plain } from '../managesieve/client.js';
import { RawClient, run as runImap } from '../helpers/raw-client.js';

const PASSWORD = 'sieve-pw';
const work = mkdtempSync(join(tmpdir(), 'postroom-sieve-e2e-'));
const data = join(work, 'data');
after(() => rmSync(work, { recursive: true, force: true }));

function sieveConnect(port: number, user: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('sieve-connect', ['--server', '127.0.0.1', '--port', String(port), '--user', user, '--notlsverify', '--passwordfd', '0', ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.stdin.end(`${PASSWORD}\n`);
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

async function mailboxFlags(port: number, user: string, mailbox: string): Promise<string[][]> {
  const client = new ImapFlow({ host: '127.0.0.1', port, secure: false, auth: { user, pass: PASSWORD }, logger: false, tls: { rejectUnauthorized: false } });
  await client.connect();
  try {
    const lock = await client.getMailboxLock(mailbox);
    try {
      const out: string[][] = [];
      if ((client.mailbox && client.mailbox.exists) === 0) return out;
      for await (const m of client.fetch('1:*', { flags: true })) out.push([...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort());
      return out;
    } finally {
      lock.release();
    }
  } finally {
    await client.logout();
  }
}

describe('Sieve end to end: sieve-connect, ManageSieve, LMTP, IMAP', () => {
  let serve: ServeProcess;
  let relay: SMTPServer;
  const relayed: Array<{ from: string; to: string[]; data: string }> = [];
  let lmtp: LmtpClient;

  before(async () => {
    relay = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, session, callback) {
        const parts: Buffer[] = [];
        stream.on('data', (c: Buffer) => parts.push(c));
        stream.on('end', () => {
          const env = session.envelope;
          relayed.push({ from: env.mailFrom === false ? '' : env.mailFrom.address, to: env.rcptTo.map((r) => r.address), data: Buffer.concat(parts).toString() });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const relayPort = (relay.server.address() as { port: number }).port;
    for (const user of ['ann', 'bob']) assert.equal((await postroom(['user', 'add', user, '--password-stdin', '--data', data], PASSWORD)).code, 0);
    serve = await startServe([
      '--data', data, '--store', 'sqlite', '--ephemeral-ports', '--pop3-port', 'off', '--pop3s-port', 'off', '--imaps-port', 'off',
      '--managesieve-port', 'auto', '--lmtp-port', 'auto', '--sieve-relay', `smtp://127.0.0.1:${relayPort}`, '--hostname', 'mx.test',
    ]);
    lmtp = await LmtpClient.connect({ host: '127.0.0.1', port: (serve.listening as unknown as { lmtpPort: number }).lmtpPort });
  });
  after(async () => {
    await lmtp?.quit().catch(() => undefined);
    await serve?.stop();
    await new Promise<void>((resolve) => relay.close(() => resolve()));
  });

  const sievePort = (): number => (serve.listening as unknown as { managesievePort: number }).managesievePort;
  const imapPort = (): number => serve.listening.imapPort!;

  it('sieve-connect uploads and activates over STARTTLS; delivery files and flags as the script says', async () => {
    const file = join(work, 'ann.sieve');
    writeFileSync(
      file,
      'require ["fileinto", "mailbox", "imap4flags", "reject", "vacation"];\r\n' +
        'if header :contains "subject" "report" { fileinto :create :flags "\\\\Flagged" "Reports"; stop; }\r\n' +
        'if header :contains "subject" "offer" { reject "No offers"; stop; }\r\n' +
        'vacation :days 7 :subject "Out of office" "Back next week.";\r\n',
    );
    const up = await sieveConnect(sievePort(), 'ann', ['--localsieve', file, '--remotesieve', 'main', '--upload']);
    assert.equal(up.code, 0, up.out);
    const act = await sieveConnect(sievePort(), 'ann', ['--remotesieve', 'main', '--activate']);
    assert.equal(act.code, 0, act.out);
    const list = await sieveConnect(sievePort(), 'ann', ['--list']);
    assert.match(list.out, /main.*ACTIVE|main\s+<-\s+active|main/i);

    const msg = (subject: string, from = 'friend@remote.test'): Buffer =>
      Buffer.from(`From: ${from}\r\nTo: ann@mx.test\r\nSubject: ${subject}\r\nMessage-ID: <${Math.random()}@remote.test>\r\n\r\nbody\r\n`);
    const r1 = await lmtp.send('friend@remote.test', [{ address: 'ann@mx.test' }], msg('Monthly report'));
    assert.equal(r1.delivery[0]?.code, 250);
    assert.deepEqual(await mailboxFlags(imapPort(), 'ann', 'Reports'), [['\\Flagged']]);
    const r2 = await lmtp.send('friend@remote.test', [{ address: 'ann@mx.test' }, { address: 'bob@mx.test' }], msg('Great offer'));
    assert.equal(r2.delivery[0]?.code, 550);
    assert.equal(r2.delivery[1]?.code, 250);
    await lmtp.send('friend@remote.test', [{ address: 'ann@mx.test' }], msg('hello'));
    await lmtp.send('friend@remote.test', [{ address: 'ann@mx.test' }], msg('hello again'));
    assert.equal((await mailboxFlags(imapPort(), 'ann', 'INBOX')).length, 2);
    const answers = relayed.filter((r) => r.to.includes('friend@remote.test'));
    assert.equal(answers.length, 1);
    assert.equal(answers[0]!.from, '');
    assert.match(answers[0]!.data, /Auto-Submitted: auto-replied/);
  });

  it('a raw ManageSieve client uploads a script with a runtime error: the message is kept in INBOX', async () => {
    const c = await RawSieveClient.connect(sievePort());
    await c.response();
    assert.match(await c.command('STARTTLS'), /^OK/);
    await c.startTls();
    await c.response();
    assert.match(await c.command(`AUTHENTICATE "PLAIN" "${plain('bob', PASSWORD)}"`), /^OK/);
    // 40 actions: more than maxActions (32), so the run fails.
    const script = `require ["fileinto", "copy"];\r\n${Array.from({ length: 40 }, (_, i) => `fileinto :copy "F${i}";`).join('\r\n')}\r\n`;
    assert.match(await c.command(`PUTSCRIPT "many" {${Buffer.byteLength(script)}+}\r\n${script}`), /^OK/);
    assert.match(await c.command('SETACTIVE "many"'), /^OK/);
    assert.match(await c.command('LOGOUT'), /^OK/);
    const before = (await mailboxFlags(imapPort(), 'bob', 'INBOX')).length;
    const r = await lmtp.send('x@remote.test', [{ address: 'bob@mx.test' }], Buffer.from('Subject: t\r\n\r\nbody\r\n'));
    assert.equal(r.delivery[0]?.code, 250);
    assert.equal((await mailboxFlags(imapPort(), 'bob', 'INBOX')).length, before + 1);
  });

  it('a script replaced or deactivated over ManageSieve drives the very next delivery (the server keeps scripts compiled between deliveries)', async () => {
    const c = await RawSieveClient.connect(sievePort());
    await c.response();
    assert.match(await c.command('STARTTLS'), /^OK/);
    await c.startTls();
    await c.response();
    assert.match(await c.command(`AUTHENTICATE "PLAIN" "${plain('ann', PASSWORD)}"`), /^OK/);
    const count = async (box: string): Promise<number> => (await mailboxFlags(imapPort(), 'ann', box)).length;
    const deliver = async (): Promise<void> => {
      const r = await lmtp.send('friend@remote.test', [{ address: 'ann@mx.test' }], Buffer.from(`From: friend@remote.test\r\nSubject: note ${Math.random()}\r\nPrecedence: list\r\n\r\nbody\r\n`));
      assert.equal(r.delivery[0]?.code, 250);
    };
    // ann's active script ("main", from the first test) has been used by deliveries already; its text is replaced.
    await deliver();
    const inbox = await count('INBOX');
    const filed = (text: string): string => `require ["fileinto", "mailbox"];\r\nfileinto :create "${text}";\r\n`;
    assert.match(await c.command(`PUTSCRIPT "main" {${Buffer.byteLength(filed('First'))}+}\r\n${filed('First')}`), /^OK/);
    await deliver();
    assert.equal(await count('First'), 1, 'the replaced text of the active script');
    assert.match(await c.command(`PUTSCRIPT "other" {${Buffer.byteLength(filed('Second'))}+}\r\n${filed('Second')}`), /^OK/);
    assert.match(await c.command('SETACTIVE "other"'), /^OK/);
    await deliver();
    assert.equal(await count('Second'), 1, 'another script activated');
    assert.match(await c.command('SETACTIVE ""'), /^OK/);
    await deliver();
    assert.equal(await count('INBOX'), inbox + 1, 'no active script: INBOX');
    assert.equal(await count('First'), 1);
    assert.equal(await count('Second'), 1);
    assert.match(await c.command('LOGOUT'), /^OK/);
  });

  it('IMAP Sieve (RFC 6785): a script uploaded with sieve-connect (not activated), attached with SETMETADATA, redirects what is copied into a mailbox through the relay', async () => {
    const file = join(work, 'forward.sieve');
    writeFileSync(
      file,
      'require ["imapsieve", "environment", "copy", "imap4flags"];\r\n' +
        'if environment :is "imap.cause" "COPY" { redirect :copy "archive@remote.test"; addflag "$Forwarded"; }\r\n',
    );
    const up = await sieveConnect(sievePort(), 'ann', ['--localsieve', file, '--remotesieve', 'forward', '--upload']);
    assert.equal(up.code, 0, up.out);
    const imap = new RawClient(imapPort());
    try {
      await imap.expect(/^\* OK/);
      assert.match((await runImap(imap, 't', 'STARTTLS')).at(-1)!, /^t OK/);
      await imap.upgrade();
      assert.match((await runImap(imap, 'l', `LOGIN ann ${PASSWORD}`)).at(-1)!, /^l OK/);
      const caps = (await runImap(imap, 'c', 'CAPABILITY'))[0]!;
      assert.match(caps, new RegExp(` IMAPSIEVE=sieve://mx\\.test:${sievePort()}( |$)`));
      assert.match((await runImap(imap, 'k', 'CREATE Forward')).at(-1)!, /^k OK/);
      assert.match((await runImap(imap, 'm', 'SETMETADATA Forward (/shared/imapsieve/script "forward")')).at(-1)!, /^m OK/);
      const message = 'From: friend@remote.test\r\nTo: ann@mx.test\r\nSubject: keep this\r\n\r\nbody\r\n';
      assert.match((await runImap(imap, 'a', `APPEND INBOX {${message.length}+}\r\n${message}`)).at(-1)!, /^a OK/);
      assert.match((await runImap(imap, 's', 'SELECT INBOX')).at(-1)!, /^s OK/);
      const before = relayed.length;
      const copied = await runImap(imap, 'y', 'UID COPY * Forward');
      assert.match(copied.at(-1)!, /^y OK \[COPYUID /);
      // The script ran before the tagged OK: the relay has the message, from ann's address (§3.4).
      const sent = relayed.slice(before);
      assert.equal(sent.length, 1);
      assert.deepEqual(sent[0]!.to, ['archive@remote.test']);
      assert.equal(sent[0]!.from, 'ann@mx.test');
      assert.match(sent[0]!.data, /Subject: keep this/);
    } finally {
      imap.destroy();
    }
    assert.deepEqual(await mailboxFlags(imapPort(), 'ann', 'Forward'), [['$Forwarded']], 'redirect :copy keeps the message, with the flag');
  });

  it('postroom sieve put|list|get|activate|deactivate|delete|check through the running server', async () => {
    const file = join(work, 'filing.sieve');
    writeFileSync(file, 'require ["fileinto", "mailbox"];\nif header :is "subject" "cli" { fileinto :create "Cli"; }\n');
    const bad = join(work, 'bad.sieve');
    writeFileSync(bad, 'keep;\nfrobnicate;\n');
    const run = (args: string[]) => postroom(['sieve', ...args, '--data', data]);
    const put = await run(['put', '--user', 'bob', file]);
    assert.equal(put.code, 0, put.stderr);
    const refused = await run(['put', '--user', 'bob', bad]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /line 2, column 1/);
    assert.equal((await run(['check', bad])).code === 0, false);
    assert.equal((await run(['check', file])).code, 0);
    assert.equal((await run(['activate', 'filing', '--user', 'bob'])).code, 0);
    assert.match((await run(['list', '--user', 'bob'])).stdout, /^filing\t\d+\tACTIVE$/m);
    assert.match((await run(['get', 'filing', '--user', 'bob'])).stdout, /fileinto :create "Cli"/);
    const busy = await run(['delete', 'filing', '--user', 'bob']);
    assert.notEqual(busy.code, 0);
    // The active script is the one delivery uses at once.
    await lmtp.send('x@remote.test', [{ address: 'bob@mx.test' }], Buffer.from('Subject: cli\r\n\r\nbody\r\n'));
    assert.equal((await mailboxFlags(imapPort(), 'bob', 'Cli')).length, 1);
    assert.equal((await run(['deactivate', '--user', 'bob'])).code, 0);
    assert.equal((await run(['delete', 'filing', '--user', 'bob'])).code, 0);
    assert.doesNotMatch((await run(['list', '--user', 'bob'])).stdout, /filing/);
  });
});
