/**
 * QRESYNC (RFC 7162 §3.2) over real sockets on every store: ENABLE, SELECT/EXAMINE (QRESYNC …)
 * with VANISHED (EARLIER) and the changed messages, sequence match data, UIDVALIDITY mismatch,
 * UID FETCH (CHANGEDSINCE … VANISHED), VANISHED instead of EXPUNGE for this session's and other
 * sessions' expunges, [CLOSED], the BAD cases — and the answer from the known UIDs when the store
 * has pruned its log (or keeps none).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { serverForSuite, startImapServer } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';
import { RawClient, run } from '../helpers/raw-client.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import type { MailStore, UserMailbox } from '../../src/store/types.js';

/**
 * Mod-sequence values differ between stores (one per STORE command or one per message), so they
 * are compared as "n"; the test checks the orderings that matter separately.
 */
const anyModseq = (line: string): string => line.replace(/MODSEQ \(\d+\)/g, 'MODSEQ (n)').replace(/HIGHESTMODSEQ \d+/g, 'HIGHESTMODSEQ n');

/** Sends `command` and checks the lines that come back, in order. */
async function expectReply(c: RawClient, tag: string, command: string, want: string[]): Promise<string[]> {
  const got = await run(c, tag, command);
  assert.deepEqual(got.map(anyModseq), want.map(anyModseq), `${tag} ${command}`);
  return got;
}

/** The untagged SELECT lines without the ones that do not matter here (mod-sequences as "n"). */
async function selectLines(c: RawClient, tag: string, command: string): Promise<string[]> {
  const lines = await run(c, tag, command);
  return lines.filter((l) => !/^\* (FLAGS|OK \[(PERMANENTFLAGS|UIDVALIDITY|UIDNEXT|UNSEEN|MAILBOXID))/.test(l)).map(anyModseq);
}

async function seed(c: RawClient, n: number): Promise<void> {
  for (let i = 1; i <= n; i++) {
    const body = `Subject: ${i}\r\n\r\nmessage ${i}\r\n`;
    assert.match((await run(c, `a${i}`, `APPEND INBOX {${body.length}+}\r\n${body}`)).at(-1)!, /OK/);
  }
}

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`QRESYNC (${storeName} store)`, () => {
    const server = serverForSuite(factory);

    it('follows RFC 7162 §3.2: ENABLE, VANISHED, SELECT (QRESYNC), UID FETCH VANISHED, CLOSED', async () => {
      const c = new RawClient(server().port);
      await c.login();
      await seed(c, 6); // UIDs 1-6, mod-sequences 2-7
      const caps = (await run(c, 'c0', 'CAPABILITY'))[0]!;
      assert.match(caps, / CONDSTORE /);
      assert.match(caps, / QRESYNC /);
      // §3.2.5: the parameter before ENABLE QRESYNC is BAD, and §3.2.6 the modifier too.
      assert.match((await run(c, 'q1', 'SELECT INBOX (QRESYNC (1 1))')).at(-1)!, /^q1 BAD/);
      await expectReply(c, 'q2', 'ENABLE QRESYNC', ['* ENABLED QRESYNC', 'q2 OK ENABLE completed']);
      // CONDSTORE came with it (§3.2.3): HIGHESTMODSEQ in SELECT.
      const sel = await run(c, 'q3', 'SELECT INBOX');
      const uv = /UIDVALIDITY (\d+)/.exec(sel.join('\n'))![1]!;
      assert.ok(sel.includes('* OK [HIGHESTMODSEQ 7] Highest'), sel.join('\n'));
      await run(c, 'q4', 'STORE 2,4 +FLAGS.SILENT (\\Deleted)');
      // §3.2.10.2: this session's expunge as VANISHED, not EXPUNGE.
      await expectReply(c, 'q5', 'EXPUNGE', ['* VANISHED 2,4', 'q5 OK EXPUNGE completed']);
      // Another session's expunge and flag change, reported at the next NOOP.
      const o = new RawClient(server().port);
      await o.login();
      await run(o, 'o1', 'SELECT INBOX');
      await run(o, 'o2', 'STORE 1 +FLAGS (\\Seen)');
      await run(o, 'o3', 'UID STORE 5 +FLAGS (\\Deleted)');
      await run(o, 'o4', 'EXPUNGE');
      o.destroy();
      const noop = await expectReply(c, 'q6', 'NOOP', ['* VANISHED 5', '* 1 FETCH (UID 1 FLAGS (\\Seen \\Recent) MODSEQ (n))', 'q6 OK NOOP completed']);
      // The \Seen change came before the other session's expunge: from its modseq only UID 5 is new.
      const seenModseq = Number(/MODSEQ \((\d+)\)/.exec(noop[1]!)![1]);
      // §3.2.6: VANISHED (EARLIER) first, then the changed messages.
      await expectReply(c, 'q7', 'UID FETCH 1:* (FLAGS) (CHANGEDSINCE 7 VANISHED)', [
        '* VANISHED (EARLIER) 2,4:5',
        '* 1 FETCH (UID 1 FLAGS (\\Seen \\Recent) MODSEQ (n))',
        'q7 OK UID FETCH completed',
      ]);
      await expectReply(c, 'q7b', 'UID FETCH 3:4 (FLAGS) (CHANGEDSINCE 7 VANISHED)', ['* VANISHED (EARLIER) 4', 'q7b OK UID FETCH completed']);
      assert.match((await run(c, 'q8', 'FETCH 1:* (FLAGS) (CHANGEDSINCE 7 VANISHED)')).at(-1)!, /^q8 BAD/);
      assert.match((await run(c, 'q9', 'UID FETCH 1:* (FLAGS) (VANISHED)')).at(-1)!, /^q9 BAD/);
      // §3.2.5.1: a client that last saw modseq 7 and knows UIDs 1-6; CLOSED first (§3.2.11).
      assert.deepEqual(await selectLines(c, 'q11', `SELECT INBOX (QRESYNC (${uv} 7 1:6))`), [
        '* OK [CLOSED] Previous mailbox closed',
        '* 3 EXISTS',
        '* 0 RECENT',
        '* OK [HIGHESTMODSEQ n] Highest',
        '* VANISHED (EARLIER) 2,4:5',
        '* 1 FETCH (UID 1 FLAGS (\\Seen) MODSEQ (n))',
        'q11 OK [READ-WRITE] SELECT completed',
      ]);
      // Known UIDs restrict both the VANISHED and the FETCH responses.
      assert.deepEqual(await selectLines(c, 'q12', `EXAMINE INBOX (QRESYNC (${uv} 7 3:6))`), [
        '* OK [CLOSED] Previous mailbox closed',
        '* 3 EXISTS',
        '* 0 RECENT',
        '* OK [HIGHESTMODSEQ n] Highest',
        '* VANISHED (EARLIER) 4:5',
        'q12 OK [READ-ONLY] EXAMINE completed',
      ]);
      // §3.2.5.2: seq 1 = UID 1 and seq 2 = UID 3 still match, so nothing up to UID 3 is reported.
      const matched = await selectLines(c, 'q13', `EXAMINE INBOX (QRESYNC (${uv} 7 1:6 (1,2 1,3)))`);
      assert.ok(matched.includes('* VANISHED (EARLIER) 4:5'), matched.join('\n'));
      // …and when seq 3 = UID 6 matches too, nothing at all.
      const all = await selectLines(c, 'q14', `EXAMINE INBOX (QRESYNC (${uv} 7 1:6 (1,3 1,6)))`);
      assert.ok(!all.some((l) => l.includes('VANISHED')), all.join('\n'));
      // No known UIDs: 1:UIDNEXT-1.
      const implied = await selectLines(c, 'q15', `EXAMINE INBOX (QRESYNC (${uv} ${seenModseq}))`);
      assert.deepEqual(implied.slice(4), ['* VANISHED (EARLIER) 5', 'q15 OK [READ-ONLY] EXAMINE completed']);
      // §3.2.5: another UIDVALIDITY: the rest is ignored, an ordinary SELECT.
      const other = await selectLines(c, 'q16', `EXAMINE INBOX (QRESYNC (${Number(uv) + 1} 1 1:6))`);
      assert.ok(!other.some((l) => l.includes('VANISHED') || l.includes('FETCH')), other.join('\n'));
      // Syntax: "*" in known UIDs, unequal match sets, a missing modseq: BAD, and the mailbox stays selected.
      for (const bad of [`(QRESYNC (${uv} 7 1:*))`, `(QRESYNC (${uv} 7 1:6 (1,2 1)))`, `(QRESYNC (${uv}))`]) {
        const reply = await run(c, 'qb', `EXAMINE INBOX ${bad}`);
        assert.equal(reply.length, 1, reply.join('\n'));
        assert.match(reply[0]!, /^qb BAD/);
      }
      await expectReply(c, 'q17', 'UID FETCH 6 (FLAGS)', ['* 3 FETCH (UID 6 FLAGS () MODSEQ (n))', 'q17 OK UID FETCH completed']);
      c.destroy();
    });

    // Found by imaptest's qresync mode ("FETCH didn't return UID while QRESYNC was enabled").
    it('§3.2.4: under QRESYNC every FETCH a STORE or an implicit \\Seen causes carries the UID; under CONDSTORE alone, as before', async () => {
      const c = new RawClient(server().port);
      await c.login();
      // CONDSTORE only: RFC 7162's examples (Example 10) have no UID in a STORE's FETCH.
      await run(c, 'm0', 'ENABLE CONDSTORE');
      await run(c, 'm1', 'CREATE uidcheck');
      await run(c, 'm2', 'SELECT uidcheck');
      for (let i = 1; i <= 3; i++) {
        const body = `Subject: u${i}\r\n\r\nbody ${i}\r\n`;
        await run(c, `ma${i}`, `APPEND uidcheck {${body.length}+}\r\n${body}`);
      }
      await run(c, 'm3', 'UID STORE 1:3 +FLAGS.SILENT (\\Seen)');
      // This session saw them arrive: \Recent here, not in the next one.
      await expectReply(c, 'm4', 'STORE 2 +FLAGS (\\Flagged)', ['* 2 FETCH (FLAGS (\\Seen \\Flagged \\Recent) MODSEQ (n))', 'm4 OK STORE completed']);
      c.destroy();

      const q = new RawClient(server().port);
      await q.login();
      await expectReply(q, 'n1', 'ENABLE QRESYNC', ['* ENABLED QRESYNC', 'n1 OK ENABLE completed']);
      await run(q, 'n2', 'SELECT uidcheck');
      await expectReply(q, 'n3', 'STORE 3 +FLAGS (\\Answered)', ['* 3 FETCH (UID 3 FLAGS (\\Seen \\Answered) MODSEQ (n))', 'n3 OK STORE completed']);
      await expectReply(q, 'n4', 'STORE 2 -FLAGS.SILENT (\\Seen)', ['* 2 FETCH (UID 2 MODSEQ (n))', 'n4 OK STORE completed']);
      // A FETCH that sets \Seen reports the flags it set, with the UID.
      const fetched = (await run(q, 'n5', 'FETCH 2 (BODY[TEXT])')).join('\n');
      assert.match(fetched, /^\* 2 FETCH \(UID 2 BODY\[TEXT\]/m, fetched);
      assert.match(fetched, /FLAGS \(\\Flagged \\Seen\) MODSEQ \(\d+\)\)$/m, fetched);
      // One that sets nothing keeps to what was asked (and the MODSEQ CONDSTORE adds).
      await expectReply(q, 'n6', 'FETCH 1 (RFC822.SIZE)', ['* 1 FETCH (RFC822.SIZE 23 MODSEQ (n))', 'n6 OK FETCH completed']);
      q.destroy();
    });
  });
}

/** A store whose handles have no expungedSince (a third-party store): the IMAP layer's fallback. */
function withoutLog(store: MailStore): MailStore {
  return new Proxy(store, {
    get(target, key, receiver) {
      if (key !== 'open') return Reflect.get(target, key, receiver);
      return async (...args: Parameters<MailStore['open']>): Promise<UserMailbox> => {
        const handle = await target.open(...args);
        return new Proxy(handle, {
          get: (h, k, r) => (k === 'expungedSince' ? undefined : (Reflect.get(h, k, r) as unknown)),
        });
      };
    },
  });
}

describe('QRESYNC without an exact expunged log', () => {
  for (const [what, make] of [
    ['pruned beyond the retention (RFC 7162 §3.2.6 minmodseq rule)', () => new MemoryStore({ expungedRetention: 1 })],
    ['a store without expungedSince', () => withoutLog(new MemoryStore())],
  ] as const) {
    it(`reports every known UID that is gone: ${what}`, async () => {
      const store = make();
      const server = await startImapServer({ store });
      try {
        const c = new RawClient(server.port);
        await c.login();
        await seed(c, 200);
        await run(c, 'e', 'ENABLE QRESYNC');
        const uv = /UIDVALIDITY (\d+)/.exec((await run(c, 's', 'SELECT INBOX')).join('\n'))![1]!;
        // 100 expunges of one message each (UIDs 2, 4, … 200), far beyond a retention of 1.
        for (let uid = 2; uid <= 200; uid += 2) {
          await run(c, 'd', `UID STORE ${uid} +FLAGS.SILENT (\\Deleted)`);
          await run(c, 'x', `UID EXPUNGE ${uid}`);
        }
        await run(c, 'u', 'UNSELECT');
        const even = Array.from({ length: 100 }, (_, i) => 2 * (i + 1)).join(',');
        // Known UIDs 1:150 from modseq 201 (after the APPENDs): the even ones up to 150 are gone.
        const lines = await selectLines(c, 'q', `EXAMINE INBOX (QRESYNC (${uv} 201 1:150))`);
        const vanished = lines.find((l) => l.startsWith('* VANISHED (EARLIER) '));
        assert.equal(vanished, `* VANISHED (EARLIER) ${even.split(',').filter((u) => Number(u) <= 150).join(',')}`);
        // UID FETCH VANISHED from the same point, over all UIDs.
        const fetched = await run(c, 'f', 'UID FETCH 1:* (FLAGS) (CHANGEDSINCE 201 VANISHED)');
        assert.equal(fetched[0], `* VANISHED (EARLIER) ${even}`);
        c.destroy();
      } finally {
        await server.close();
        await store.close();
      }
    });
  }
});
