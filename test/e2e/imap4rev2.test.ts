/**
 * IMAP4rev2 (RFC 9051) beside IMAP4rev1: both advertised, rev1 behaviour until `ENABLE IMAP4rev2`
 * (Appendix A), then the Appendix E changes — one test per item that changes what the server says,
 * named with its item number. On every store; transcripts on the wire, Python imaplib too.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { serverForSuite, startImapServer, type TestServer } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';
import { RawClient, run, until } from '../helpers/raw-client.js';

let mailboxCounter = 0;

async function client(server: TestServer, rev2: boolean): Promise<RawClient> {
  const c = new RawClient(server.port);
  await c.login();
  if (rev2) assert.deepEqual(await run(c, 'e', 'ENABLE IMAP4rev2'), ['* ENABLED IMAP4rev2', 'e OK ENABLE completed']);
  return c;
}

async function append(c: RawClient, mailbox: string, subject: string, flags = ''): Promise<void> {
  const msg = `Subject: ${subject}\r\n\r\nbody\r\n`;
  const lines = await run(c, 'a', `APPEND ${mailbox} ${flags ? `(${flags}) ` : ''}{${msg.length}+}\r\n${msg}`);
  assert.match(lines.at(-1)!, /^a OK/);
}

/** A fresh mailbox with three messages (the second \Seen, the third \Deleted). */
async function seeded(server: TestServer): Promise<string> {
  const name = `box${++mailboxCounter}`;
  const c = await client(server, false);
  await run(c, 'c', `CREATE ${name}`);
  await append(c, name, 'one');
  await append(c, name, 'two', '\\Seen');
  await append(c, name, 'three', '\\Deleted');
  c.destroy();
  return name;
}

const untagged = (lines: string[]): string[] => lines.filter((l) => l.startsWith('* '));

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`IMAP4rev2 (${storeName} store)`, () => {
    const server = serverForSuite(factory, { allowInsecureAuth: true });

    it('advertises IMAP4rev1 and IMAP4rev2 together; rev1 behaviour until ENABLE (Appendix A)', async () => {
      const box = await seeded(server());
      const c = new RawClient(server().port);
      assert.match(await c.expect(/^\* OK/), /^\* OK \[CAPABILITY IMAP4rev1 IMAP4rev2 /);
      c.send('L LOGIN alice secret\r\n');
      await c.expect(/^L OK/);
      const select = untagged(await run(c, 's', `SELECT ${box}`));
      assert.ok(select.includes('* 3 RECENT'), select.join('|'));
      assert.ok(!select.some((l) => l.startsWith('* LIST')));
      assert.deepEqual(untagged(await run(c, 'f', 'SEARCH ALL')), ['* SEARCH 1 2 3']);
      c.destroy();
    });

    it('E.12: no \\Recent — no RECENT response, no \\Recent in FLAGS, SEARCH RECENT/NEW match nothing, and rev1 sessions keep theirs', async () => {
      const box = await seeded(server());
      const c = await client(server(), true);
      const select = untagged(await run(c, 's', `SELECT ${box}`));
      assert.ok(!select.some((l) => /RECENT|\\Recent/.test(l)), select.join('|'));
      assert.deepEqual(untagged(await run(c, 'f', 'FETCH 1:* FLAGS')), ['* 1 FETCH (FLAGS ())', '* 2 FETCH (FLAGS (\\Seen))', '* 3 FETCH (FLAGS (\\Deleted))']);
      assert.deepEqual(untagged(await run(c, 'r', 'SEARCH RECENT')), ['* ESEARCH (TAG "r")']);
      assert.deepEqual(untagged(await run(c, 'n', 'SEARCH NEW')), ['* ESEARCH (TAG "n")']);
      assert.deepEqual(untagged(await run(c, 'o', 'SEARCH OLD')), ['* ESEARCH (TAG "o") ALL 1:3']);
      // A new message while idling: EXISTS alone.
      c.send('i IDLE\r\n');
      await c.expect(/^\+ /);
      const other = await client(server(), false);
      await append(other, box, 'four');
      assert.equal(await c.expect(/^\* /), '* 4 EXISTS');
      c.send('DONE\r\n');
      const done = await c.expect(/^i /);
      assert.equal(done, 'i OK IDLE terminated');
      assert.ok(!c.transcript.some((l) => /RECENT/.test(l)));
      // The rev2 session claimed nothing: an IMAP4rev1 session selecting now gets all four as \Recent.
      const rev1 = untagged(await run(other, 's', `SELECT ${box}`));
      assert.ok(rev1.includes('* 4 RECENT'), rev1.join('|'));
      other.destroy();
      c.destroy();
    });

    it('E.4: SEARCH and UID SEARCH are answered with ESEARCH (ALL; nothing for no match); RETURN still works', async () => {
      const box = await seeded(server());
      const c = await client(server(), true);
      await run(c, 's', `SELECT ${box}`);
      assert.deepEqual(await run(c, 'a1', 'SEARCH UNDELETED'), ['* ESEARCH (TAG "a1") ALL 1:2', 'a1 OK SEARCH completed']);
      assert.deepEqual(untagged(await run(c, 'a2', 'UID SEARCH ALL')), ['* ESEARCH (TAG "a2") UID ALL 1:3']);
      assert.deepEqual(untagged(await run(c, 'a3', 'SEARCH SUBJECT nothing-like-this')), ['* ESEARCH (TAG "a3")']);
      assert.deepEqual(untagged(await run(c, 'a4', 'SEARCH RETURN (COUNT MIN) ALL')), ['* ESEARCH (TAG "a4") MIN 1 COUNT 3']);
      c.destroy();
    });

    it('E.10, E.11, E.9: SELECT sends the mailbox\'s LIST, no UNSEEN code, and [CLOSED] when another was selected', async () => {
      const box = await seeded(server());
      const c = await client(server(), true);
      await run(c, 'c', `CREATE ${box}/child`);
      const select = untagged(await run(c, 's', `SELECT ${box}`));
      assert.ok(select.includes(`* LIST (\\HasChildren) "/" ${box}`), select.join('|'));
      assert.ok(!select.some((l) => l.includes('[UNSEEN')), select.join('|'));
      const again = untagged(await run(c, 'x', 'EXAMINE INBOX'));
      assert.equal(again[0], '* OK [CLOSED] Previous mailbox closed');
      assert.ok(again.includes('* LIST (\\HasNoChildren) "/" INBOX'), again.join('|'));
      c.destroy();
    });

    it('E.3: STATUS DELETED and SIZE', async () => {
      const box = await seeded(server());
      const c = await client(server(), true);
      const status = untagged(await run(c, 's', `STATUS ${box} (MESSAGES DELETED SIZE)`));
      assert.match(status[0]!, new RegExp(`^\\* STATUS ${box} \\(MESSAGES 3 DELETED 1 SIZE \\d+\\)$`));
      c.destroy();
    });

    it('E.16, E.24: mailbox names travel as UTF-8 after ENABLE IMAP4rev2, modified UTF-7 before', async () => {
      const rev2 = await client(server(), true);
      const name = `Entwürfe${++mailboxCounter}`;
      assert.match((await run(rev2, 'c', `CREATE "${Buffer.from(name, 'utf8').toString('latin1')}"`)).at(-1)!, /^c OK/);
      const list = untagged(await run(rev2, 'l', `LIST "" "Entw*"`)).map((l) => Buffer.from(l, 'latin1').toString('utf8'));
      // Not an atom (8-bit): a quoted string, in UTF-8.
      assert.ok(list.includes(`* LIST (\\HasNoChildren) "/" "${name}"`), list.join('|'));
      const rev1 = await client(server(), false);
      const old = untagged(await run(rev1, 'l', `LIST "" "Entw*"`));
      assert.ok(old.includes(`* LIST (\\HasNoChildren) "/" Entw&APw-rfe${mailboxCounter}`), old.join('|'));
      rev1.destroy();
      rev2.destroy();
    });

    it('E.2 (LIST-EXTENDED folded in): LIST shows \\NonExistent for a subscribed mailbox that is gone, \\Subscribed with RETURN', async () => {
      const c = await client(server(), true);
      const name = `gone${++mailboxCounter}`;
      await run(c, 'c', `CREATE ${name}`);
      await run(c, 's', `SUBSCRIBE ${name}`);
      await run(c, 'd', `DELETE ${name}`);
      const subscribed = untagged(await run(c, 'l', `LIST (SUBSCRIBED) "" "${name}"`));
      assert.equal(subscribed.length, 1);
      assert.match(subscribed[0]!, new RegExp(`^\\* LIST \\((?=.*\\\\NonExistent)(?=.*\\\\Subscribed)[^)]*\\) "/" ${name}$`));
      const inbox = untagged(await run(c, 'm', 'LIST "" INBOX RETURN (SUBSCRIBED)'));
      assert.equal(inbox.length, 1);
      assert.match(inbox[0]!, /^\* LIST \(.*\) "\/" INBOX$/);
      c.destroy();
    });

    it('E.15: $MDNSent, $Forwarded, $Junk, $NonJunk and $Phishing are kept like any keyword', async () => {
      const box = await seeded(server());
      const c = await client(server(), true);
      await run(c, 's', `SELECT ${box}`);
      const store = untagged(await run(c, 't', 'STORE 1 +FLAGS ($MDNSent $Forwarded $Junk $NonJunk $Phishing)'));
      assert.ok(store.some((l) => l === '* 1 FETCH (FLAGS ($MDNSent $Forwarded $Junk $NonJunk $Phishing))'), store.join('|'));
      c.destroy();
    });

    it('E.21: unsolicited FETCH updates carry the UID', async () => {
      const box = await seeded(server());
      const c = await client(server(), true);
      await run(c, 's', `SELECT ${box}`);
      c.send('i IDLE\r\n');
      await c.expect(/^\+ /);
      const other = await client(server(), false);
      await run(other, 's', `SELECT ${box}`);
      await run(other, 't', 'STORE 1 +FLAGS (\\Flagged)');
      assert.equal(await c.expect(/^\* 1 FETCH/), '* 1 FETCH (UID 1 FLAGS (\\Flagged))');
      c.send('DONE\r\n');
      await c.expect(/^i OK/);
      other.destroy();
      c.destroy();
    });

    it('E.7, E.8: COPY/MOVE to a missing mailbox is NO [TRYCREATE] and creates nothing; MOVE returns COPYUID', async () => {
      const box = await seeded(server());
      const c = await client(server(), true);
      await run(c, 's', `SELECT ${box}`);
      assert.match((await run(c, 'c', 'COPY 1 nowhere')).at(-1)!, /^c NO \[TRYCREATE\]/);
      assert.match((await run(c, 'm', 'MOVE 1 nowhere')).at(-1)!, /^m NO \[TRYCREATE\]/);
      assert.deepEqual(untagged(await run(c, 'l', 'LIST "" nowhere')), []);
      await run(c, 'k', `CREATE ${box}-dest`);
      const move = await run(c, 'v', `MOVE 1 ${box}-dest`);
      assert.ok(move.some((l) => /^\* OK \[COPYUID \d+ 1 1\]/.test(l)), move.join('|'));
      c.destroy();
    });

    it('E.17, E.18, E.19: CHECK, RFC822.SIZE and LSUB, deprecated, still answer (rev1 clients share the server)', async () => {
      const box = await seeded(server());
      const c = await client(server(), true);
      await run(c, 's', `SELECT ${box}`);
      assert.match((await run(c, 'k', 'CHECK')).at(-1)!, /^k OK/);
      assert.match(untagged(await run(c, 'f', 'FETCH 1 RFC822.SIZE'))[0]!, /^\* 1 FETCH \(RFC822.SIZE \d+\)$/);
      assert.match((await run(c, 'l', 'LSUB "" "*"')).at(-1)!, /^l OK/);
      c.destroy();
    });

    it('E.1: 63-bit partial offsets and lengths are taken (FETCH BODY[]<start.length>)', async () => {
      const box = await seeded(server());
      const c = await client(server(), true);
      await run(c, 's', `SELECT ${box}`);
      assert.deepEqual(untagged(await run(c, 'f', 'FETCH 1 BODY.PEEK[]<4294967296.10>')), ['* 1 FETCH (BODY[]<4294967296> "")']);
      const g = await run(c, 'g', 'FETCH 1 BODY.PEEK[]<0.9223372036854775807>');
      assert.match(untagged(g)[0] ?? g.join('|'), /^\* 1 FETCH \(BODY\[\]<0> \{\d+\}$/);
      assert.deepEqual(untagged(await run(c, 'h', 'FETCH 1 BODY.PEEK[]<9223372036854775807>')), ['* 1 FETCH (BODY[]<9007199254740991> "")']);
      assert.match((await run(c, 'b', 'FETCH 1 BODY.PEEK[]<9223372036854775808>')).at(-1)!, /^b BAD /);
      c.destroy();
    });

    it('Python imaplib: ENABLE IMAP4rev2, SELECT with LIST, SEARCH answered by ESEARCH, STATUS DELETED', async () => {
      const box = await seeded(server());
      const script = fileURLToPath(new URL('./python/imaplib_rev2.py', import.meta.url));
      const out = await new Promise<string>((resolve, reject) => {
        // Asynchronous: a synchronous spawn would block the event loop this server runs on.
        execFile('python3', [script, server().host, String(server().port), box], { timeout: 60_000 }, (err, stdout, stderr) =>
          err ? reject(new Error(`${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout),
        );
      });
      assert.match(out, /^ENABLED: \[b'IMAP4rev2'\]$/m);
      assert.match(out, /^SELECT: OK 3, LIST/m);
      assert.match(out, /^RECENT: none$/m);
      assert.match(out, new RegExp(`^ESEARCH: \\[b'\\(TAG "\\w+"\\) ALL 1:3'\\]$`, 'm'));
      assert.match(out, new RegExp(`^STATUS: \\[b'${box} \\(DELETED 1\\)'\\]$`, 'm'));
    });
  });
}

describe('IMAP4rev2 and IDLE hibernation', () => {
  it('a hibernated IMAP4rev2 session wakes still in IMAP4rev2: EXISTS without RECENT, SEARCH as ESEARCH', async () => {
    const s = await startImapServer({ limits: { idleHibernateSeconds: 0.2 } });
    try {
      const box = await seeded(s);
      const c = await client(s, true);
      await run(c, 's', `SELECT ${box}`);
      c.send('i IDLE\r\n');
      await c.expect(/^\+ /);
      await until('parked', () => (s.server.hibernation?.size ?? 0) === 1);
      const other = await client(s, false);
      await append(other, box, 'four');
      assert.equal(await c.expect(/^\* /), '* 4 EXISTS');
      c.send('DONE\r\n');
      assert.equal(await c.expect(/^i /), 'i OK IDLE terminated');
      assert.deepEqual(untagged(await run(c, 'f', 'SEARCH RECENT')), ['* ESEARCH (TAG "f")']);
      assert.deepEqual(untagged(await run(c, 'g', 'FETCH 4 FLAGS')), ['* 4 FETCH (FLAGS ())']);
      assert.ok(!c.transcript.some((l) => /RECENT\b/.test(l) && !l.startsWith('f ')), c.transcript.join('|'));
      other.destroy();
      c.destroy();
    } finally {
      await s.close();
    }
  });
});
