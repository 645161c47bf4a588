/**
 * RFC 6785 IMAP Sieve end to end (docs/sieve.md, "IMAP Sieve"), on every store: scripts stored
 * as the user's ManageSieve scripts (through the store, as ManageSieve's PUTSCRIPT stores them),
 * attached to mailboxes with SETMETADATA over a raw socket, then triggered by imapflow's APPEND,
 * COPY, MOVE and STORE:
 * - the capability: IMAPSIEVE=<url> once logged in, not before;
 * - APPEND: flags added by the script, the environment items imap.user, imap.email, imap.cause and
 *   imap.mailbox as keywords; the session that appended sees the script's flags;
 * - COPY and MOVE (cause COPY): fileinto another mailbox, the original marked \Deleted (§3.3);
 * - FLAG: a \Flagged change seen through imap.changedflags and hasflag, a copy filed; the
 *   script's own flag change triggers no further run (§2.2.3);
 * - a script that fails at run time, or requires vacation, leaves the message as stored and the
 *   command OK; an empty mailbox entry runs nothing although the server entry names a script
 *   (§2.3.1); the server entry applies elsewhere;
 * - with imapSieveExpunge a discarded APPEND is expunged at once; MULTIAPPEND is one run per
 *   message; FETCH BODY[] setting \Seen is a FLAG event; REPLACE's new message an APPEND;
 * - Python imaplib: capability, SETMETADATA, APPEND and STORE;
 * - postroom serve: IMAPSIEVE= with ManageSieve or --imap-sieve-url, none with --no-imap-sieve or
 *   without a ManageSieve server.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ImapFlow } from 'imapflow';
import { startImapServer, type TestServer } from '../helpers/imap-server.js';
import { storeFactories, type MadeStore, type StoreFactory } from '../helpers/stores.js';
import { loggedIn, run, RawClient } from '../helpers/raw-client.js';
import { createImapSieve, type ImapSieve, type ImapSieveOptions } from '../../src/imapsieve/index.js';
import { sieveStorage } from '../../src/store/sieve-storage.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { UserFile } from '../../src/auth/user-file.js';
import { startServe } from '../helpers/serve.js';

const pythonScript = join(dirname(fileURLToPath(import.meta.url)), 'python', 'imaplib_imapsieve.py');

const last = (lines: string[]): string => lines[lines.length - 1]!;

const message = (subject: string): Buffer => Buffer.from(`From: carol@example.org\r\nTo: alice@example.com\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.org>\r\n\r\nBody of ${subject}.\r\n`);

const SCRIPTS: Record<string, string> = {
  // APPEND into Junk: mark it, and say what the script saw (as keywords).
  junk: `require ["imapsieve", "environment", "imap4flags", "variables"];
    if environment :is "imap.cause" "APPEND" { addflag "$Junk"; }
    if environment :matches "imap.user" "*" { addflag "user-\${1}"; }
    if environment :matches "imap.email" "*" { addflag "email-\${1}"; }
    if environment :matches "imap.cause" "*" { addflag "cause-\${1}"; }
    if environment :matches "imap.mailbox" "*" { addflag "box-\${1}"; }
    if environment :is "location" "MS" { addflag "$InStore"; }`,
  // COPY (and MOVE) into Incoming: filed into Processed, the original left \Deleted.
  incoming: `require ["imapsieve", "environment", "fileinto"];
    if environment :is "imap.cause" "COPY" { fileinto "Processed"; }`,
  // A \Flagged change: a copy into Starred, and a flag on the message (which triggers nothing more).
  starred: `require ["imapsieve", "environment", "fileinto", "copy", "imap4flags"];
    if allof (environment :is "imap.cause" "FLAG", environment :is "imap.changedflags" "\\\\Flagged", hasflag "\\\\Flagged") {
      fileinto :copy "Starred";
      if hasflag "$Once" { addflag "$Twice"; } else { addflag "$Once"; }
    }`,
  broken: `require ["ihave", "imap4flags"]; addflag "$Never"; error "deliberate failure";`,
  holiday: `require ["vacation", "imap4flags"]; addflag "$Never"; vacation "away";`,
  everywhere: `require ["imap4flags"]; addflag "$Server";`,
  flagwatch: `require ["imapsieve", "environment", "imap4flags", "variables"];
    if environment :matches "imap.cause" "*" { set "cause" "\${1}"; }
    if string :is "\${cause}" "APPEND" { addflag "$Appended"; }
    if allof (environment :is "imap.cause" "FLAG", environment :is "imap.changedflags" "\\\\Flagged", hasflag "\\\\Flagged") { addflag "$Starred"; }`,
};

function flow(server: TestServer, user = 'alice', pass = 'secret'): ImapFlow {
  return new ImapFlow({ host: server.host, port: server.port, secure: false, auth: { user, pass }, logger: false, disableAutoIdle: true, tls: { rejectUnauthorized: false } });
}

/** A connected imapflow client for `use`, logged out after. */
async function withFlow<T>(server: TestServer, use: (client: ImapFlow) => Promise<T>): Promise<T> {
  const client = flow(server);
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.logout();
  }
}

async function flagsOf(client: ImapFlow, mailbox: string): Promise<Array<{ subject: string; flags: string[] }>> {
  const lock = await client.getMailboxLock(mailbox);
  try {
    // Already selected: let imapflow hear of what other sessions added since.
    await client.noop();
    const out: Array<{ subject: string; flags: string[] }> = [];
    if ((client.mailbox as { exists: number }).exists === 0) return out;
    for await (const m of client.fetch('1:*', { envelope: true, flags: true })) out.push({ subject: m.envelope?.subject ?? '', flags: [...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort() });
    return out;
  } finally {
    lock.release();
  }
}

interface SuiteSetup {
  users: string[];
  /** Stored as each user's ManageSieve scripts (as PUTSCRIPT stores them). */
  scripts: Record<string, string>;
  mailboxes: string[];
  /** /shared/imapsieve/script of each mailbox ('""': the server entry), set by alice over IMAP. */
  attach: Record<string, string>;
}

interface Suite {
  server: TestServer;
  /** alice, logged in over a raw socket. */
  raw: RawClient;
}

/** For a describe: a server with IMAP Sieve on a fresh store, scripts stored and attached with SETMETADATA. */
function imapSieveSuite(factory: StoreFactory, options: Omit<ImapSieveOptions, 'store'>, setup: SuiteSetup): () => Suite {
  let made: MadeStore | undefined;
  let sieve: ImapSieve | undefined;
  let suite: Suite | undefined;
  before(async () => {
    made = await factory();
    sieve = createImapSieve({ store: made.store, ...options });
    const server = await startImapServer({ store: made.store, messageEvents: sieve });
    for (const user of setup.users) {
      const mail = await made.store.open(user);
      for (const [name, source] of Object.entries(setup.scripts)) await sieveStorage(mail).sievePut(name, source);
      for (const box of setup.mailboxes) await mail.create(box);
      await mail.close();
    }
    const raw = await loggedIn(server.port, 'alice', 'secret');
    suite = { server, raw };
    for (const [i, [box, script]] of Object.entries(setup.attach).entries()) {
      assert.equal(last(await run(raw, `m${i}`, `SETMETADATA ${box} (/shared/imapsieve/script "${script}")`)), `m${i} OK SETMETADATA completed`);
    }
  });
  after(async () => {
    suite?.raw.destroy();
    await suite?.server.close();
    sieve?.close();
    await made?.cleanup();
  });
  return () => {
    if (!suite) throw new Error('the suite server is not running yet');
    return suite;
  };
}

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`IMAP Sieve end to end (${storeName} store)`, () => {
    const suite = imapSieveSuite(factory, { url: 'sieve://localhost', hostname: 'example.com' }, {
      users: ['alice', 'bob'],
      scripts: SCRIPTS,
      mailboxes: ['Junk', 'Incoming', 'Processed', 'Starred', 'Broken', 'Holiday', 'Quiet', 'Elsewhere'],
      attach: { Junk: 'junk', Incoming: 'incoming', INBOX: 'starred', Broken: 'broken', Holiday: 'holiday', Quiet: '', '""': 'everywhere' },
    });

    it('advertises IMAPSIEVE=<url> once logged in (RFC 6785 §2.1), not before', async () => {
      const { server, raw } = suite();
      const lines = await run(raw, 'c1', 'CAPABILITY');
      assert.match(lines[0]!, / IMAPSIEVE=sieve:\/\/localhost( |$)/);
      assert.match(lines[0]!, / METADATA /);
      assert.deepEqual(server.server.capability('notAuthenticated').filter((c) => c.startsWith('IMAPSIEVE')), []);
      assert.deepEqual(server.server.capability('authenticated').filter((c) => c.startsWith('IMAPSIEVE')), ['IMAPSIEVE=sieve://localhost']);
    });

    it('APPEND into Junk: the script adds flags and sees imap.user, imap.email, imap.cause, imap.mailbox; the appending session sees them', async () => {
      const { server } = suite();
      await withFlow(server, async (client) => {
      const lock = await client.getMailboxLock('Junk');
      try {
        const appended = await client.append('Junk', message('spam one'), ['\\Seen']);
        assert.ok(appended && typeof appended.uid === 'number');
        // The script ran before the tagged OK; the change reaches this selected session as another session's would.
        await client.noop();
        const fetched = await client.fetchOne(String(appended.uid), { flags: true }, { uid: true });
        assert.ok(fetched);
        assert.deepEqual([...(fetched.flags ?? [])].filter((f) => f !== '\\Recent').sort(), ['$InStore', '$Junk', '\\Seen', 'box-Junk', 'cause-APPEND', 'email-alice@example.com', 'user-alice']);
      } finally {
        lock.release();
      }
      });
    });

    it('COPY and MOVE into Incoming (cause COPY): the message is filed into Processed and the original marked \\Deleted (§3.3)', async () => {
      const { server } = suite();
      await withFlow(server, async (client) => {
      await client.append('Elsewhere', message('copy me'));
      await client.append('Elsewhere', message('move me'));
      const lock = await client.getMailboxLock('Elsewhere');
      try {
        const copied = await client.messageCopy('1', 'Incoming');
        assert.ok(copied && copied.uidMap && copied.uidMap.size === 1);
        const moved = await client.messageMove('2', 'Incoming');
        assert.ok(moved && moved.uidMap && moved.uidMap.size === 1);
      } finally {
        lock.release();
      }
      // $Server: the APPENDs into Elsewhere ran the server entry's script; COPY and MOVE keep flags.
      assert.deepEqual(await flagsOf(client, 'Incoming'), [
        { subject: 'copy me', flags: ['$Server', '\\Deleted'] },
        { subject: 'move me', flags: ['$Server', '\\Deleted'] },
      ]);
      assert.deepEqual((await flagsOf(client, 'Processed')).map((m) => m.subject), ['copy me', 'move me']);
      assert.deepEqual((await flagsOf(client, 'Elsewhere')).map((m) => m.subject), ['copy me'], 'the COPY source stays, the MOVE source went');
      });
    });

    it('FLAG: a \\Flagged change runs the script (imap.changedflags, hasflag); its own flag change runs nothing more (§2.2.3)', async () => {
      const { server } = suite();
      await withFlow(server, async (client) => {
      const lock = await client.getMailboxLock('INBOX');
      try {
        // APPEND into INBOX runs "starred" too: nothing happens for it (cause APPEND).
        const appended = await client.append('INBOX', message('important'));
        assert.ok(appended);
        const uid = String(appended.uid);
        // A change of another flag: the script runs and does nothing.
        assert.ok(await client.messageFlagsAdd(uid, ['\\Seen'], { uid: true }));
        assert.equal((await client.status('Starred', { messages: true })).messages, 0, 'a \\Seen change files nothing');
        assert.ok(await client.messageFlagsAdd(uid, ['\\Flagged'], { uid: true }));
        await client.noop();
        const fetched = await client.fetchOne(uid, { flags: true }, { uid: true });
        assert.ok(fetched);
        assert.deepEqual([...(fetched.flags ?? [])].filter((f) => f !== '\\Recent').sort(), ['$Once', '\\Flagged', '\\Seen'], 'one run: $Once, never $Twice');
      } finally {
        lock.release();
      }
      const starred = await flagsOf(client, 'Starred');
      assert.equal(starred.length, 1);
      assert.equal(starred[0]!.subject, 'important');
      });
    });

    it('a script failing at run time, or requiring vacation (§3.11), leaves the message as stored and the APPEND OK', async () => {
      const { server, raw } = suite();
      for (const box of ['Broken', 'Holiday']) {
        const lines = await run(raw, 'a1', `APPEND ${box} (\\Draft) {${message('untouched').length}+}\r\n${message('untouched').toString('latin1')}`);
        assert.match(last(lines), /^a1 OK \[APPENDUID \d+ \d+\]/);
        await withFlow(server, async (client) => {
        assert.deepEqual(await flagsOf(client, box), [{ subject: 'untouched', flags: ['\\Draft'] }]);
        });
      }
    });

    it('an empty mailbox entry runs nothing although the server entry names a script; the server entry applies elsewhere (§2.3.1)', async () => {
      const { server, raw } = suite();
      for (const box of ['Quiet', 'Processed']) {
        assert.match(last(await run(raw, 'a2', `APPEND ${box} {${message('plain').length}+}\r\n${message('plain').toString('latin1')}`)), /^a2 OK/);
      }
      await withFlow(server, async (client) => {
      assert.deepEqual(await flagsOf(client, 'Quiet'), [{ subject: 'plain', flags: [] }]);
      const processed = await flagsOf(client, 'Processed');
      assert.deepEqual(processed.find((m) => m.subject === 'plain'), { subject: 'plain', flags: ['$Server'] });
      // A new annotation is seen at once (the cache hears the change): the server script goes.
      assert.match(last(await run(raw, 'ms2', 'SETMETADATA "" (/shared/imapsieve/script NIL)')), /^ms2 OK/);
      assert.match(last(await run(raw, 'a3', `APPEND Processed {${message('later').length}+}\r\n${message('later').toString('latin1')}`)), /^a3 OK/);
      assert.deepEqual((await flagsOf(client, 'Processed')).find((m) => m.subject === 'later'), { subject: 'later', flags: [] });
      });
    });

    it('Python imaplib: IMAPSIEVE after login, SETMETADATA, then APPEND and STORE trigger the script', async () => {
      const { server } = suite();
      const out = await new Promise<string>((resolve, reject) => {
        execFile('python3', [pythonScript, server.host, String(server.port)], { timeout: 60_000 }, (err, stdout, stderr) => {
          if (err) reject(new Error(`${err.message}\n${stderr}`));
          else resolve(stdout);
        });
      });
      const r = JSON.parse(out) as Record<string, unknown>;
      assert.deepEqual(r.before_login, []);
      assert.deepEqual(r.after_login, ['IMAPSIEVE=sieve://localhost']);
      assert.equal(r.set, 'OK');
      assert.equal(r.append, 'OK');
      assert.match(String(r.after_append), /FLAGS \(\$Appended( \\Recent)?\)/);
      assert.equal(r.store, 'OK');
      const flags = /FLAGS \(([^)]*)\)/.exec(String(r.after_store))![1]!.split(' ').filter((f) => f !== '\\Recent').sort();
      assert.deepEqual(flags, ['$Appended', '$Starred', '\\Flagged']);
    });
  });

  describe(`IMAP Sieve with imapSieveExpunge, MULTIAPPEND and FETCH's \\Seen (${storeName} store)`, () => {
    const suite = imapSieveSuite(factory, { url: 'sieve://localhost:4190', expungeDiscarded: true }, {
      users: ['alice'],
      // Discard what arrives in Shredder; in Reading, note what a FLAG event changed.
      scripts: {
        shred: 'discard;',
        reading: `require ["imapsieve", "environment", "imap4flags"];
          if allof (environment :is "imap.cause" "FLAG", environment :is "imap.changedflags" "\\\\Seen") { addflag "$ReadNoted"; }
          if environment :is "imap.cause" "APPEND" { addflag "$Arrived"; }`,
      },
      mailboxes: ['Shredder', 'Reading'],
      attach: { Shredder: 'shred', Reading: 'reading' },
    });

    it('discard with imapSieveExpunge: the APPENDed message is expunged at once (§2.2.4), the APPEND still OK with its UID', async () => {
      const { raw } = suite();
      assert.match(last(await run(raw, 's', 'SELECT Shredder')), /^s OK/);
      const m = message('shred me').toString('latin1');
      const lines = await run(raw, 'a', `APPEND Shredder {${m.length}+}\r\n${m}`);
      assert.match(last(lines), /^a OK \[APPENDUID \d+ 1\]/);
      // The selected session never shows it: gone before it was reported (no EXISTS, so no EXPUNGE owed).
      const after = await run(raw, 'n', 'NOOP');
      const told = [...lines, ...after];
      assert.equal(told.filter((l) => / EXISTS$/.test(l)).length, told.filter((l) => / EXPUNGE$/.test(l)).length, told.join('\n'));
      assert.deepEqual(await run(raw, 'se', 'UID SEARCH ALL'), ['* SEARCH', 'se OK UID SEARCH completed']);
      assert.deepEqual(await run(raw, 'st', 'STATUS Shredder (MESSAGES)'), ['* STATUS Shredder (MESSAGES 0)', 'st OK STATUS completed']);
      assert.match(last(await run(raw, 'u', 'UNSELECT')), /^u OK/);
    });

    it('MULTIAPPEND runs the script once per message (§2.2.1); FETCH BODY[] setting \\Seen is a FLAG event (§2.2.3)', async () => {
      const { raw } = suite();
      const a = message('first').toString('latin1');
      const b = message('second').toString('latin1');
      assert.match(last(await run(raw, 'ma', `APPEND Reading {${a.length}+}\r\n${a} {${b.length}+}\r\n${b}`)), /^ma OK \[APPENDUID \d+ 1:2\]/);
      assert.match(last(await run(raw, 's2', 'SELECT Reading')), /^s2 OK/);
      const fetched = await run(raw, 'f', 'UID FETCH 1 (BODY[])');
      assert.match(last(fetched), /^f OK/);
      const flags = await run(raw, 'g', 'UID FETCH 1:2 (FLAGS)');
      const of = (uid: number): string[] => {
        const line = flags.find((l) => new RegExp(`UID ${uid} `).test(l) || new RegExp(`\\(UID ${uid}\\b`).test(l)) ?? '';
        return (/FLAGS \(([^)]*)\)/.exec(line)?.[1] ?? '').split(' ').filter((f) => f && f !== '\\Recent').sort();
      };
      assert.deepEqual(of(1), ['$Arrived', '$ReadNoted', '\\Seen']);
      assert.deepEqual(of(2), ['$Arrived']);
    });

    it('REPLACE (RFC 8508) stores a new message: an APPEND event for it', async () => {
      const { raw } = suite();
      // Reading is selected by the test before; message 2 is replaced.
      const m = message('replacement').toString('latin1');
      const lines = await run(raw, 'r', `UID REPLACE 2 Reading {${m.length}+}\r\n${m}`);
      assert.match(last(lines), /^r OK/);
      const uid = Number(/APPENDUID \d+ (\d+)/.exec(lines.join('\n'))?.[1]);
      assert.ok(uid > 2, lines.join('\n'));
      const flags = await run(raw, 'g2', `UID FETCH ${uid} (FLAGS)`);
      assert.match(flags.join('\n'), /FLAGS \(\$Arrived( \\Recent)?\)/);
    });
  });
}

describe('IMAP Sieve in postroom serve: on with ManageSieve, off with --no-imap-sieve or without ManageSieve', { timeout: 120_000 }, () => {
  const capabilitiesAfterLogin = async (args: string[]): Promise<string> => {
    const work = mkdtempSync(join(tmpdir(), 'postroom-imapsieve-'));
    const data = join(work, 'data');
    await UserFile.inDataDir(data, { scrypt: { log2N: 10, r: 8, p: 1 } }).add('ann', 'pw-ann');
    const serve = await startServe(['--data', data, '--ephemeral-ports', '--pop3-port', 'off', '--pop3s-port', 'off', '--imaps-port', 'off', '--hostname', 'mx.test', '--log-level', 'error', ...args]);
    const c = new RawClient(serve.listening.imapPort!);
    try {
      await c.expect(/^\* OK/);
      assert.match(last(await run(c, 't', 'STARTTLS')), /^t OK/);
      await c.upgrade();
      assert.match(last(await run(c, 'l', 'LOGIN ann pw-ann')), /^l OK/);
      return (await run(c, 'c', 'CAPABILITY'))[0]!;
    } finally {
      c.destroy();
      await serve.stop();
      rmSync(work, { recursive: true, force: true });
    }
  };

  it('advertises sieve://HOSTNAME:PORT with --managesieve-port, the given URL with --imap-sieve-url, nothing otherwise', async () => {
    assert.match(await capabilitiesAfterLogin(['--managesieve-port', 'auto']), / IMAPSIEVE=sieve:\/\/mx\.test:\d+( |$)/);
    assert.doesNotMatch(await capabilitiesAfterLogin(['--managesieve-port', 'auto', '--no-imap-sieve']), /IMAPSIEVE/);
    assert.doesNotMatch(await capabilitiesAfterLogin([]), /IMAPSIEVE/);
    assert.match(await capabilitiesAfterLogin(['--imap-sieve-url', 'sieve://sieve.example.com']), / IMAPSIEVE=sieve:\/\/sieve\.example\.com( |$)/);
  });
});

