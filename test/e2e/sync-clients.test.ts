/**
 * The Debian clients that synchronise whole accounts — mbsync (isync), offlineimap and Dovecot's
 * doveadm sync through its imapc backend — against a
 * server on the SQLite store, over implicit TLS with certificate verification on: each pulls a
 * seeded account (INBOX and a folder, 8-bit and multipart bodies, flags), then pushes back a flag
 * change, a deletion and a new message, and pulls the server's own changes (a flag set and a
 * message expunged by another session, a new message). Every step is checked by an independent
 * read over IMAP (imapflow), bodies byte for byte.
 *
 * Maildir keeps messages with the local line end (LF); both clients turn CRLF into LF on the way
 * down and back on the way up, so bodies are compared with CRLF restored. mbsync writes an
 * `X-TUID:` header (its transaction id, to find a message again after an interrupted run) at the end
 * of the header of the copies it propagates; the check allows exactly that header and nothing else.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { startImapServer, type TestServer } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';
import { testCertificate } from '../helpers/certs.js';

function have(program: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const missing = (program: string, pkg: string): string | false =>
  !have(program) && !process.env.CI && `${program} is not installed (scripts/install-test-deps.sh installs ${pkg} as root)`;

function run(program: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(program, args, { cwd, timeout: 120_000, maxBuffer: 16 << 20, env: { ...process.env, HOME: cwd } }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${program} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      resolve(`${stdout}${stderr}`);
    });
  });
}

const crlf = (s: string): string => s.replace(/\r?\n/g, '\r\n');

/** The seeded account: what the server holds before the first sync. */
const SEED: Record<string, Array<{ flags: string[]; body: string }>> = {
  INBOX: [
    { flags: ['\\Seen'], body: crlf('From: Ann <ann@example.org>\nTo: alice@example.org\nSubject: plain\nMessage-ID: <1@example.org>\nDate: Mon, 02 Nov 2026 10:00:00 +0000\n\nHello.\n') },
    {
      flags: [],
      body: crlf('From: =?UTF-8?Q?J=C3=B6rg?= <joerg@example.org>\nTo: alice@example.org\nSubject: 8-bit\nMessage-ID: <2@example.org>\nDate: Mon, 02 Nov 2026 11:00:00 +0000\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nGrüße aus Köln — ½ € ✓\n'),
    },
    {
      flags: ['\\Flagged', '$Work'],
      body: crlf(
        'From: Bob <bob@example.org>\nTo: alice@example.org\nSubject: multipart\nMessage-ID: <3@example.org>\nDate: Mon, 02 Nov 2026 12:00:00 +0000\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b1"\n\n--b1\nContent-Type: text/plain\n\nSee attached.\n--b1\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n' +
          Buffer.alloc(3000, 7).toString('base64').replace(/.{76}/g, '$&\n') +
          '\n--b1--\n',
      ),
    },
    { flags: ['\\Seen', '\\Answered'], body: crlf(`From: Cy <cy@example.org>\nSubject: long\nMessage-ID: <4@example.org>\n\n${'word '.repeat(4000)}\n`) },
  ],
  Work: [
    { flags: [], body: crlf('From: Dee <dee@example.org>\nSubject: work 1\nMessage-ID: <w1@example.org>\n\nOne.\n') },
    { flags: ['\\Seen'], body: crlf('From: Dee <dee@example.org>\nSubject: work 2\nMessage-ID: <w2@example.org>\n\nTwo.\n') },
  ],
};

interface Held {
  uid: number;
  flags: Set<string>;
  body: string;
}

function client(s: TestServer): ImapFlow {
  return new ImapFlow({ host: '127.0.0.1', port: s.port, secure: false, auth: { user: 'alice', pass: 'secret' }, tls: { rejectUnauthorized: false }, logger: false, disableAutoIdle: true });
}

async function withClient<T>(s: TestServer, fn: (c: ImapFlow) => Promise<T>): Promise<T> {
  const c = client(s);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.logout();
  }
}

/** What the server holds in `mailbox`, read independently of the client under test. */
async function serverHolds(s: TestServer, mailbox: string): Promise<Held[]> {
  return withClient(s, async (c) => {
    const lock = await c.getMailboxLock(mailbox);
    try {
      const held: Held[] = [];
      const exists = typeof c.mailbox === 'object' ? c.mailbox.exists : 0;
      if (exists === 0) return held;
      for await (const m of c.fetch('1:*', { uid: true, flags: true, source: true })) {
        held.push({ uid: m.uid, flags: new Set([...(m.flags ?? [])].filter((f) => f !== '\\Recent')), body: m.source!.toString('utf8') });
      }
      return held;
    } finally {
      lock.release();
    }
  });
}

async function seed(s: TestServer): Promise<void> {
  await withClient(s, async (c) => {
    await c.mailboxCreate('Work');
    for (const [mailbox, messages] of Object.entries(SEED)) {
      for (const m of messages) await c.append(mailbox, m.body, m.flags, new Date('2026-11-02T10:00:00Z'));
    }
  });
}

/** Messages of a Maildir folder: file name (with its info part) and content with CRLF restored. */
function maildir(dir: string): Array<{ path: string; flags: string; body: string }> {
  const out: Array<{ path: string; flags: string; body: string }> = [];
  for (const sub of ['cur', 'new']) {
    let names: string[] = [];
    try {
      names = readdirSync(join(dir, sub));
    } catch {
      continue;
    }
    for (const name of names) {
      const path = join(dir, sub, name);
      out.push({ path, flags: /:2,([A-Za-z]*)$/.exec(name)?.[1] ?? '', body: crlf(readFileSync(path, 'utf8')) });
    }
  }
  return out;
}

/** A body as a client uploaded it, with the one header mbsync may add taken out. */
const withoutTuid = (body: string): string => body.replace(/^X-TUID: [^\r\n]*\r\n/m, '');

const subjectOf = (body: string): string => /^Subject: (.*)$/m.exec(body)?.[1]?.trim() ?? '';

function assertSameMessages(local: Array<{ body: string }>, server: Held[], where: string): void {
  const a = local.map((m) => withoutTuid(m.body)).sort();
  const b = server.map((m) => withoutTuid(m.body)).sort();
  assert.equal(a.length, b.length, `${where}: ${a.length} local messages, ${b.length} on the server`);
  for (let i = 0; i < a.length; i++) assert.ok(a[i] === b[i], `${where}: message "${subjectOf(a[i]!)}" differs from the server's "${subjectOf(b[i]!)}"`);
}

/** Flags by Maildir letter (the ones both clients map). */
const MAILDIR_FLAGS: Record<string, string> = { S: '\\Seen', F: '\\Flagged', R: '\\Answered', T: '\\Deleted', D: '\\Draft' };

function systemFlags(flags: Set<string>): string {
  return [...flags].filter((f) => Object.values(MAILDIR_FLAGS).includes(f)).sort().join(' ');
}

function letterFlags(letters: string): string {
  return [...letters].map((l) => MAILDIR_FLAGS[l]).filter(Boolean).sort().join(' ');
}

const NEW_LOCAL = crlf('From: alice@example.org\nTo: team@example.org\nSubject: written offline\nMessage-ID: <offline@example.org>\nDate: Tue, 03 Nov 2026 09:00:00 +0000\n\nDrafted on the train, ünïcode too.\n');
const NEW_REMOTE = crlf('From: Eve <eve@example.org>\nTo: alice@example.org\nSubject: arrived meanwhile\nMessage-ID: <meanwhile@example.org>\n\nNew on the server.\n');

interface SyncClient {
  name: string;
  skip: string | false;
  /** Writes the client's configuration into `dir` (and starts what it needs); the local Maildir tree is under `dir/mail`. */
  configure(dir: string, s: TestServer, certFile: string): void | Promise<void>;
  /** Stops what configure() started. */
  stop?(dir: string): void;
  /**
   * One run of the client. Two-way clients ignore `direction`; doveadm runs `backup -R` to pull
   * (the local copy becomes the server's) and `backup` to push (the server becomes the local copy).
   */
  sync(dir: string, direction: 'pull' | 'push'): Promise<string>;
  /** The local folder of a mailbox. */
  folder(dir: string, mailbox: string): string;
}

const CLIENTS: SyncClient[] = [
  {
    name: 'mbsync',
    skip: missing('mbsync', 'isync'),
    configure(dir, s, certFile) {
      writeFileSync(
        join(dir, 'mbsyncrc'),
        [
          'IMAPAccount postroom',
          'Host 127.0.0.1',
          `Port ${s.tlsPort}`,
          'User alice',
          'Pass secret',
          'SSLType IMAPS',
          `CertificateFile ${certFile}`,
          '',
          'IMAPStore remote',
          'Account postroom',
          '',
          'MaildirStore local',
          `Path ${join(dir, 'mail')}/`,
          `Inbox ${join(dir, 'mail', 'INBOX')}`,
          'SubFolders Verbatim',
          '',
          'Channel all',
          'Far :remote:',
          'Near :local:',
          'Patterns *',
          'Create Both',
          'Expunge Both',
          'SyncState *',
          '',
        ].join('\n'),
      );
    },
    sync: (dir) => run('mbsync', ['-c', join(dir, 'mbsyncrc'), '-a'], dir),
    folder: (dir, mailbox) => join(dir, 'mail', mailbox),
  },
  {
    name: 'offlineimap',
    skip: missing('offlineimap', 'offlineimap3'),
    configure(dir, s, certFile) {
      writeFileSync(
        join(dir, 'offlineimaprc'),
        [
          '[general]',
          'accounts = postroom',
          `metadata = ${join(dir, 'meta')}`,
          '',
          '[Account postroom]',
          'localrepository = local',
          'remoterepository = remote',
          '',
          '[Repository local]',
          'type = Maildir',
          `localfolders = ${join(dir, 'mail')}`,
          '',
          '[Repository remote]',
          'type = IMAP',
          'remotehost = localhost',
          `remoteport = ${s.tlsPort}`,
          'remoteuser = alice',
          'remotepass = secret',
          'ssl = yes',
          `sslcacertfile = ${certFile}`,
          'ssl_version = tls1_2',
          '',
        ].join('\n'),
      );
    },
    sync: (dir) => run('offlineimap', ['-c', join(dir, 'offlineimaprc'), '-o', '-u', 'basic'], dir),
    folder: (dir, mailbox) => join(dir, 'mail', mailbox),
  },
  {
    // dsync between a local Maildir and Postroom through Dovecot's imapc backend: what an operator
    // runs to migrate an account in or out (`backup`, one way at a time: Dovecot recommends it over a
    // two-way `sync` with imapc, which renumbers messages by copying them within a mailbox). doveadm looks the user up through a running Dovecot's
    // auth service, so a Dovecot with no protocols runs from the temporary directory meanwhile.
    name: 'doveadm sync (imapc)',
    skip: missing('doveadm', 'dovecot-core'),
    configure(dir, s, certFile) {
      for (const sub of ['run', 'state', 'home']) mkdirSync(join(dir, sub), { recursive: true });
      // Dovecot will not run mail processes as root: the mail tree belongs to "nobody" meanwhile.
      chmodSync(dir, 0o755);
      execFileSync('chown', ['-R', '65534:65534', join(dir, 'mail'), join(dir, 'home')]);
      writeFileSync(
        join(dir, 'dovecot.conf'),
        [
          `base_dir = ${join(dir, 'run')}`,
          `state_dir = ${join(dir, 'state')}`,
          `log_path = ${join(dir, 'dovecot.log')}`,
          `instance_name = postroom-test-${process.pid}-${s.tlsPort}`,
          'protocols =',
          'listen = 127.0.0.1',
          'ssl = no',
          `mail_location = maildir:${join(dir, 'mail')}:LAYOUT=fs:INBOX=${join(dir, 'mail', 'INBOX')}`,
          'passdb {',
          '  driver = static',
          '  args = nopassword=y',
          '}',
          'userdb {',
          '  driver = static',
          `  args = uid=65534 gid=65534 home=${join(dir, 'home')}`,
          '}',
          'imapc_host = 127.0.0.1',
          `imapc_port = ${s.tlsPort}`,
          'imapc_ssl = imaps',
          'imapc_user = alice',
          'imapc_password = secret',
          'imapc_features = modseq',
          `ssl_client_ca_file = ${certFile}`,
          '',
        ].join('\n'),
      );
      // The master daemonizes; its output goes to log_path, not to pipes we would wait on.
      execFileSync('dovecot', ['-c', join(dir, 'dovecot.conf')], { stdio: 'ignore', timeout: 30_000 });
    },
    stop(dir) {
      try {
        const pid = Number(readFileSync(join(dir, 'run', 'master.pid'), 'utf8'));
        if (pid > 0) process.kill(pid, 'SIGTERM');
      } catch {
        /* not started */
      }
    },
    sync: (dir, direction) => run('doveadm', ['-c', join(dir, 'dovecot.conf'), 'backup', ...(direction === 'pull' ? ['-R'] : []), '-u', 'alice', 'imapc:'], dir),
    folder: (dir, mailbox) => join(dir, 'mail', mailbox),
  },
];

const sqlite = storeFactories().sqlite!;

async function syncStep(sc: SyncClient, dir: string, step: number): Promise<void> {
  try {
    await sc.sync(dir, step === 2 ? 'push' : 'pull');
  } catch (err) {
    throw new Error(`sync ${step} of 3: ${(err as Error).message}`);
  }
}

describe('account sync with real clients (SQLite store, implicit TLS)', () => {
  for (const sc of CLIENTS) {
    test(`${sc.name}: pulls the account byte for byte, pushes a flag, a deletion and a new message, pulls the server's changes`, { skip: sc.skip }, async (t) => {
      const made = await sqlite();
      const s = await startImapServer({ store: made.store });
      const dir = mkdtempSync(join(tmpdir(), `postroom-${sc.name.replace(/\W+/g, '-')}-`));
      t.after(async () => {
        sc.stop?.(dir);
        await s.close();
        await made.cleanup();
        rmSync(dir, { recursive: true, force: true });
      });
      const cert = await testCertificate();
      const certFile = join(dir, 'server.pem');
      writeFileSync(certFile, cert.cert);
      mkdirSync(join(dir, 'mail'), { recursive: true });
      await seed(s);
      await sc.configure(dir, s, certFile);

      // 1. The first sync pulls everything, bodies and flags.
      await syncStep(sc, dir, 1);
      for (const mailbox of Object.keys(SEED)) {
        const local = maildir(sc.folder(dir, mailbox));
        const server = await serverHolds(s, mailbox);
        assertSameMessages(local, server, `${sc.name} first pull, ${mailbox}`);
        for (const m of local) {
          const held = server.find((h) => h.body === withoutTuid(m.body));
          assert.ok(held, `${sc.name}: "${subjectOf(m.body)}" in ${mailbox} is the server's byte for byte`);
          assert.equal(letterFlags(m.flags), systemFlags(held.flags), `${sc.name}: flags of "${subjectOf(m.body)}" in ${mailbox}`);
        }
      }

      // 2. Offline work: flag one message, delete another, write a new one; then sync.
      const inbox = sc.folder(dir, 'INBOX');
      const local = maildir(inbox);
      const toFlag = local.find((m) => subjectOf(m.body) === 'plain')!;
      const toDelete = local.find((m) => subjectOf(m.body) === 'long')!;
      const flagged = toFlag.path.includes(':2,') ? toFlag.path.replace(/:2,([A-Za-z]*)$/, (_, f: string) => `:2,${[...new Set(`${f}F`)].sort().join('')}`) : `${toFlag.path}:2,F`;
      renameSync(toFlag.path, flagged.replace(`${join(inbox, 'new')}/`, `${join(inbox, 'cur')}/`));
      unlinkSync(toDelete.path);
      writeFileSync(join(inbox, 'new', `${Date.now()}.offline.localhost`), NEW_LOCAL.replace(/\r\n/g, '\n'));
      await syncStep(sc, dir, 2);

      let server = await serverHolds(s, 'INBOX');
      const subjects = server.map((m) => subjectOf(m.body)).sort();
      assert.deepEqual(subjects, ['8-bit', 'multipart', 'plain', 'written offline'], `${sc.name}: INBOX on the server after the push`);
      assert.ok(server.find((m) => subjectOf(m.body) === 'plain')!.flags.has('\\Flagged'), `${sc.name}: the flag set offline reached the server`);
      assert.equal(withoutTuid(server.find((m) => subjectOf(m.body) === 'written offline')!.body), NEW_LOCAL, `${sc.name}: the new message is stored as written`);
      assert.deepEqual([...server.find((m) => subjectOf(m.body) === 'multipart')!.flags].sort(), ['$Work', '\\Flagged'], `${sc.name}: a keyword the client does not map is left alone`);

      // 3. Another session changes the server: a flag, an expunge, a new message; then sync.
      await withClient(s, async (c) => {
        const lock = await c.getMailboxLock('INBOX');
        try {
          const eight = server.find((m) => subjectOf(m.body) === '8-bit')!;
          const multi = server.find((m) => subjectOf(m.body) === 'multipart')!;
          await c.messageFlagsAdd(String(eight.uid), ['\\Seen', '\\Answered'], { uid: true });
          await c.messageDelete(String(multi.uid), { uid: true });
        } finally {
          lock.release();
        }
        await c.append('INBOX', NEW_REMOTE, [], new Date('2026-11-03T10:00:00Z'));
      });
      await syncStep(sc, dir, 3);
      server = await serverHolds(s, 'INBOX');
      const after = maildir(inbox);
      assertSameMessages(after, server, `${sc.name} after the server's changes, INBOX`);
      for (const m of after) {
        const held = server.find((h) => withoutTuid(h.body) === withoutTuid(m.body))!;
        assert.equal(letterFlags(m.flags), systemFlags(held.flags), `${sc.name}: flags of "${subjectOf(m.body)}" after the last sync`);
      }
      assert.deepEqual(after.map((m) => subjectOf(m.body)).sort(), ['8-bit', 'arrived meanwhile', 'plain', 'written offline']);
      // Work was not touched by anyone: still the seed, on both sides.
      assertSameMessages(maildir(sc.folder(dir, 'Work')), await serverHolds(s, 'Work'), `${sc.name}, Work`);
    });
  }
});
