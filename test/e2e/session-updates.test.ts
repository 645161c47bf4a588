/**
 * What one session hears of another's changes (RFC 3501 §5.2, §7.4.1, §2.3.2): EXPUNGE never during
 * FETCH, STORE or SEARCH but at the next command that allows it; new messages and flag changes after
 * any command; \Recent given to exactly one session; EXAMINE read-only. Run against every store.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { serverForSuite, type TestServer } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';
import { RawClient, run } from '../helpers/raw-client.js';


async function session(server: TestServer): Promise<RawClient> {
  const c = new RawClient(server.port);
  await c.login();
  return c;
}

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`session updates (${storeName} store)`, () => {
    const server = serverForSuite(factory);

    it('holds EXPUNGE back during FETCH, STORE and SEARCH, and sends it at NOOP', async () => {
      const a = await session(server());
      const b = await session(server());
      try {
        await run(a, 'c0', 'CREATE Ex');
        for (let i = 1; i <= 3; i++) await run(a, `ap${i}`, `APPEND Ex {${14 + String(i).length}+}\r\nSubject: m${i}\r\n\r\n`);
        await run(a, 's', 'SELECT Ex');
        await run(b, 's', 'SELECT Ex');
        await run(b, 'd1', 'STORE 2 +FLAGS.SILENT (\\Deleted)');
        await run(b, 'd2', 'EXPUNGE');

        for (const [tag, cmd] of [['f', 'FETCH 1:3 (UID)'], ['st', 'STORE 1 +FLAGS (\\Seen)'], ['se', 'SEARCH ALL']] as const) {
          const lines = await run(a, tag, cmd);
          assert.ok(!lines.some((l) => / EXPUNGE$/.test(l)), `${cmd} must not carry EXPUNGE: ${lines.join(' | ')}`);
          assert.match(lines.at(-1)!, new RegExp(`^${tag} OK`));
        }
        // The numbering is kept until the EXPUNGE is reported: the third message is still 3.
        const search = await run(a, 'se2', 'SEARCH ALL');
        assert.ok(search.includes('* SEARCH 1 3'), search.join(' | '));

        const noop = await run(a, 'n', 'NOOP');
        assert.deepEqual(noop.filter((l) => l.endsWith('EXPUNGE')), ['* 2 EXPUNGE']);
        const after = await run(a, 'se3', 'UID SEARCH ALL');
        assert.ok(after.includes('* SEARCH 1 3'), after.join(' | '));

        // A STORE on a message another session expunged reports no flags it did not set (RFC 2180
        // §4.2.1); one on a message whose flags already match still gets its FETCH.
        await run(b, 'd5', 'UID STORE 1 +FLAGS.SILENT (\\Seen)');
        await run(b, 'd6', 'UID STORE 3 +FLAGS.SILENT (\\Deleted)');
        await run(b, 'd7', 'UID EXPUNGE 3');
        const gone = await run(a, 'g1', 'STORE 2 +FLAGS (\\Flagged)');
        // Message 2 is UID 3 now, which B flagged \Deleted and expunged: A hears B's flag change (the
        // EXPUNGE waits, this is STORE), but no FETCH of its own for a change that never happened.
        const about2 = gone.filter((l) => l.startsWith('* 2 FETCH'));
        assert.equal(about2.length, 1, gone.join(' | '));
        assert.match(about2[0]!, /\\Deleted/);
        assert.doesNotMatch(about2[0]!, /\\Flagged/);
        assert.match(gone.at(-1)!, /^g1 OK/);
        const same = await run(a, 'g2', 'STORE 1 +FLAGS (\\Seen)');
        assert.ok(same.some((l) => /^\* 1 FETCH \(FLAGS \(.*\\Seen/.test(l)), same.join(' | '));
        await run(a, 'g3', 'NOOP');
        await run(b, 'ap4', `APPEND Ex {15+}\r\nSubject: m4\r\n\r\n`);
        await run(a, 'g4', 'NOOP');

        // UID FETCH may carry it (RFC 3501 §7.4.1 names only the sequence-number forms).
        await run(b, 'd3', 'UID STORE 4 +FLAGS.SILENT (\\Deleted)');
        await run(b, 'd4', 'EXPUNGE');
        const uidFetch = await run(a, 'uf', 'UID FETCH 1:* (FLAGS)');
        assert.ok(uidFetch.includes('* 2 EXPUNGE'), uidFetch.join(' | '));
      } finally {
        a.destroy();
        b.destroy();
      }
    });

    it('reports new messages and flag changes made elsewhere after any command', async () => {
      const a = await session(server());
      const b = await session(server());
      try {
        await run(a, 'c0', 'CREATE Fl');
        await run(a, 'ap', 'APPEND Fl {14+}\r\nSubject: x\r\n\r\n');
        await run(a, 's', 'SELECT Fl');
        await run(b, 's', 'SELECT Fl');
        await run(b, 'st', 'STORE 1 +FLAGS.SILENT (\\Flagged $Later)');
        await run(b, 'ap', 'APPEND Fl {14+}\r\nSubject: y\r\n\r\n');
        const lines = await run(a, 'n', 'NOOP');
        assert.ok(lines.includes('* 2 EXISTS'), lines.join(' | '));
        const fetch = lines.find((l) => l.startsWith('* 1 FETCH'));
        assert.ok(fetch && /\\Flagged/.test(fetch) && /\$Later/.test(fetch), lines.join(' | '));
        // The keyword is new to A: FLAGS and PERMANENTFLAGS name it before the FETCH that uses it.
        const flagsAt = lines.findIndex((l) => l.startsWith('* FLAGS ') && l.includes('$Later'));
        assert.ok(flagsAt >= 0 && flagsAt < lines.indexOf(fetch), lines.join(' | '));
        assert.ok(lines.some((l) => l.startsWith('* OK [PERMANENTFLAGS (') && l.includes('$Later')), lines.join(' | '));
      } finally {
        a.destroy();
        b.destroy();
      }
    });

    it('gives the message an APPEND adds to the selected mailbox \\Recent to the appending session, with those that came before unannounced', async () => {
      const a = await session(server());
      const b = await session(server());
      const c = await session(server());
      try {
        await run(a, 'c0', 'CREATE Rp');
        await run(a, 's', 'SELECT Rp');
        await run(b, 's', 'SELECT Rp');
        // Added by a session without the mailbox selected: no one has been told of it yet.
        await run(c, 'ap0', 'APPEND Rp {14+}\r\nSubject: p\r\n\r\n');
        const na = await run(a, 'ap1', 'APPEND Rp {14+}\r\nSubject: q\r\n\r\n');
        assert.ok(na.includes('* 2 EXISTS') && na.includes('* 2 RECENT'), na.join(' | '));
        const fa = await run(a, 'f', 'FETCH 1:2 (FLAGS)');
        assert.equal(fa.filter((l) => /FETCH \(FLAGS \([^)]*\\Recent/.test(l)).length, 2, fa.join(' | '));
        const nb = await run(b, 'n', 'NOOP');
        assert.ok(nb.includes('* 2 EXISTS') && nb.includes('* 0 RECENT'), nb.join(' | '));
        // The other session's APPEND is \Recent for that session, and not for this one.
        const nb2 = await run(b, 'ap2', 'APPEND Rp {14+}\r\nSubject: r\r\n\r\n');
        assert.ok(nb2.includes('* 3 EXISTS') && nb2.includes('* 1 RECENT'), nb2.join(' | '));
        const na2 = await run(a, 'n', 'NOOP');
        assert.ok(na2.includes('* 3 EXISTS') && na2.includes('* 2 RECENT'), na2.join(' | '));
        // A new session selecting the mailbox finds nothing left to claim.
        const sc = await run(c, 's', 'SELECT Rp');
        assert.ok(sc.includes('* 0 RECENT'), sc.join(' | '));
      } finally {
        a.destroy();
        b.destroy();
        c.destroy();
      }
    });

    it('gives \\Recent to exactly one session, and EXAMINE changes nothing', async () => {
      const a = await session(server());
      const b = await session(server());
      try {
        await run(a, 'c0', 'CREATE Rc');
        await run(a, 'ap', 'APPEND Rc {14+}\r\nSubject: r\r\n\r\n');
        const ex = await run(b, 'e', 'EXAMINE Rc');
        assert.ok(ex.includes('* 1 RECENT'), 'EXAMINE sees recent messages without taking them');
        const sel = await run(a, 's', 'SELECT Rc');
        assert.ok(sel.includes('* 1 RECENT'), sel.join(' | '));
        const again = await run(b, 's', 'SELECT Rc');
        assert.ok(again.includes('* 0 RECENT'), again.join(' | '));

        // A new message reaches both sessions, and is \Recent for only one of them.
        // The appending session hears of its own message right after its APPEND.
        const na = [...(await run(a, 'ap2', 'APPEND Rc {14+}\r\nSubject: s\r\n\r\n')), ...(await run(a, 'n', 'NOOP'))];
        const nb = await run(b, 'n', 'NOOP');
        assert.ok(na.includes('* 2 EXISTS'), na.join(' | '));
        assert.ok(nb.includes('* 2 EXISTS'), nb.join(' | '));
        const recentA = na.find((l) => / RECENT$/.test(l));
        const recentB = nb.find((l) => / RECENT$/.test(l));
        const counts = [recentA, recentB].map((l) => Number(l?.split(' ')[1] ?? 0));
        assert.equal(counts.reduce((x, y) => x + y, 0) - 1, 1, `one new \\Recent in total, got ${recentA} / ${recentB}`);

        const ro = await run(b, 'e2', 'EXAMINE Rc');
        assert.match(ro.at(-1)!, /\[READ-ONLY\]/);
        const store = await run(b, 'st', 'STORE 1 +FLAGS (\\Seen)');
        assert.match(store.at(-1)!, /^st NO/);
        const fetch = await run(b, 'f', 'FETCH 1 BODY[]');
        const flags = await run(b, 'fl', 'FETCH 1 FLAGS');
        assert.match(fetch.at(-1)!, /^f OK/);
        assert.ok(!flags.some((l) => /\\Seen/.test(l)), 'a body fetch in a read-only mailbox does not set \\Seen');
      } finally {
        a.destroy();
        b.destroy();
      }
    });
  });
}
