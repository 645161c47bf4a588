/**
 * CATENATE (RFC 4469) with URL-PARTIAL (RFC 5550) over real sockets, on every store: what the RFC
 * examples in test/transcripts/catenate.txt cannot show with one user — a URL to another user's
 * mailbox is refused with BADURL whatever the reason (not shared, shared without "r", another
 * user's absolute URL) and the answer reveals nothing; with "r" granted the shared mailbox reads;
 * a message built from URLs larger than the APPEND limit is NO [TOOBIG] and nothing is added; a
 * multi-megabyte message built from URLs arrives byte for byte; CATENATE in REPLACE (RFC 8508 §6
 * takes append-data) reads the message it replaces.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { serverForSuite } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';
import { loggedIn, RawClient, run } from '../helpers/raw-client.js';
import type { Logger } from '../../src/util/logger.js';

const LIMIT = 3 * 1024 * 1024;

/** Logs errors to the test output: a SERVERBUG shows its cause. */
const logger: Logger = {
  child: () => logger,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (obj: unknown, msg?: string) => console.error('server error:', msg, obj),
};

const login = loggedIn;

/** APPENDs `body` with LITERAL+; returns the tagged reply. */
async function append(c: RawClient, tag: string, mailbox: string, body: Buffer | string): Promise<string> {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'latin1') : body;
  c.send(Buffer.concat([Buffer.from(`${tag} APPEND ${mailbox} {${bytes.length}+}\r\n`), bytes, Buffer.from('\r\n')]));
  return c.expect(new RegExp(`^${tag} `));
}

/** The literal after `prefix` in the lines of a response. */
function literalAfter(lines: string[], prefix: RegExp): Buffer {
  const wire = lines.join('\r\n');
  const m = prefix.exec(wire);
  assert.ok(m, `no ${prefix} in ${JSON.stringify(wire.slice(0, 300))}`);
  const size = Number(/\{(\d+)\}$/.exec(m[0])![1]);
  const start = m.index + m[0].length + 2;
  return Buffer.from(wire.slice(start, start + size), 'latin1');
}

const SECRET = 'Subject: bob only\r\n\r\nthe secret plans\r\n';

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`CATENATE and URL-PARTIAL end to end (${storeName} store)`, () => {
    const server = serverForSuite(factory, { logger, limits: { maxMessageSize: LIMIT } });

    it('a URL to another user\'s mailbox is BADURL, the same answer as a mailbox that does not exist', async () => {
      const bob = await login(server().port, 'bob', 'hunter2');
      const alice = await login(server().port, 'alice', 'secret');
      try {
        assert.match(await append(bob, 'b1', 'INBOX', SECRET), /^b1 OK/);
        const urls = [
          'imap://bob@127.0.0.1/INBOX/;UID=1',
          '/Shared/bob/INBOX/;UID=1',
          '/Shared/bob/INBOX/;UID=1/;SECTION=TEXT',
          '/NoSuchBox/;UID=1',
        ];
        const answers: string[] = [];
        for (const [i, url] of urls.entries()) {
          const lines = await run(alice, `c${i}`, `APPEND INBOX CATENATE (URL "${url}")`);
          answers.push(lines.at(-1)!.replace(url, '<url>').replace(`c${i}`, 'c'));
          assert.ok(!lines.join('\n').includes('secret plans'), 'nothing of the message is revealed');
        }
        assert.deepEqual(new Set(answers).size, 1, `one answer for all: ${answers.join(' | ')}`);
        assert.match(answers[0]!, /^c NO \[BADURL <url>\]/);
        // Looked up ("l") but not readable ("r"): still BADURL.
        assert.match((await run(bob, 'b2', 'SETACL INBOX alice l')).at(-1)!, /^b2 OK/);
        assert.match((await run(alice, 'c5', 'APPEND INBOX CATENATE (URL "/Shared/bob/INBOX/;UID=1")')).at(-1)!, /^c5 NO \[BADURL \/Shared\/bob\/INBOX\/;UID=1\]/);
        // With "r" the shared message reads, through the shared namespace only.
        assert.match((await run(bob, 'b3', 'SETACL INBOX alice lr')).at(-1)!, /^b3 OK/);
        assert.match((await run(alice, 'c6', 'APPEND INBOX CATENATE (URL "/Shared/bob/INBOX/;UID=1/;SECTION=TEXT")')).at(-1)!, /^c6 OK \[APPENDUID \d+ 1\]/);
        assert.match((await run(alice, 'c7', 'APPEND INBOX CATENATE (URL "imap://bob@127.0.0.1/INBOX/;UID=1")')).at(-1)!, /^c7 NO \[BADURL /);
        await run(alice, 's', 'EXAMINE INBOX');
        const fetched = await run(alice, 'f', 'UID FETCH 1 BODY.PEEK[]');
        assert.equal(literalAfter(fetched, /BODY\[\] \{\d+\}/).toString('latin1'), 'the secret plans\r\n');
        assert.match((await run(alice, 'st', 'STATUS INBOX (MESSAGES)'))[0]!, /MESSAGES 1\)/);
        await run(bob, 'b4', 'DELETEACL INBOX alice');
      } finally {
        bob.destroy();
        alice.destroy();
      }
    });

    it('a message built past the APPEND limit is NO [TOOBIG] and nothing is added; a large one streams byte for byte', async () => {
      const c = await login(server().port, 'alice', 'secret');
      try {
        await run(c, 'cr', 'CREATE Big');
        const line = 'x'.repeat(1022) + '\r\n';
        const big = Buffer.from('Subject: big\r\n\r\n' + line.repeat(Math.floor((LIMIT * 0.6) / line.length)), 'latin1');
        assert.match(await append(c, 'a1', 'Big', big), /^a1 OK/);
        // Two copies pass the 3 MB limit: TOOBIG, both messages of the MULTIAPPEND refused.
        const too = await run(c, 't1', 'APPEND Big CATENATE (URL "/Big/;UID=1") CATENATE (URL "/Big/;UID=1" URL "/Big/;UID=1")');
        assert.match(too.at(-1)!, /^t1 NO \[TOOBIG\]/);
        assert.match((await run(c, 'st', 'STATUS Big (MESSAGES)'))[0]!, /MESSAGES 1\)/);
        // One copy and a partial of it: fits, streamed from the store into the store.
        const ok = await run(c, 'a2', `APPEND Big CATENATE (URL "/Big/;UID=1" URL "/Big/;UID=1/;SECTION=TEXT/;PARTIAL=1024.${300 * 1024}")`);
        assert.match(ok.at(-1)!, /^a2 OK \[APPENDUID \d+ 2\]/);
        await run(c, 's', 'EXAMINE Big');
        const fetched = await run(c, 'f', 'UID FETCH 2 BODY.PEEK[]');
        const text = big.subarray(big.indexOf('\r\n\r\n') + 4);
        const expected = Buffer.concat([big, text.subarray(1024, 1024 + 300 * 1024)]);
        assert.ok(literalAfter(fetched, /BODY\[\] \{\d+\}/).equals(expected), 'the catenated message is the parts, byte for byte');
        // MULTIAPPEND: a streamed plain message (over 64 KiB), then a CATENATE of URLs alone.
        const plain = Buffer.from('Subject: streamed\r\n\r\n' + line.repeat(100), 'latin1');
        c.send(Buffer.concat([Buffer.from(`m1 APPEND Big {${plain.length}}\r\n`)]));
        await c.expect(/^\+/);
        c.send(Buffer.concat([plain, Buffer.from(' CATENATE (URL "/Big/;UID=2/;PARTIAL=0.9")\r\n')]));
        assert.match(await c.expect(/^m1 /), /^m1 OK \[APPENDUID \d+ 3:4\]/);
        const m4 = await run(c, 'f4', 'UID FETCH 4 BODY.PEEK[]');
        assert.equal(literalAfter(m4, /BODY\[\] \{\d+\}/).toString('latin1'), 'Subject: ');
        // A TEXT literal over the limit is refused before its continuation.
        c.send(`t2 APPEND Big CATENATE (TEXT {${LIMIT + 1}}\r\n`);
        assert.match(await c.expect(/^t2 /), /^t2 NO \[TOOBIG\]/);
      } finally {
        c.destroy();
      }
    });

    it('REPLACE with CATENATE reads the message it replaces (RFC 8508 §6 append-data)', async () => {
      const c = await login(server().port, 'alice', 'secret');
      try {
        await run(c, 'cr', 'CREATE Drafts2');
        assert.match(await append(c, 'a1', 'Drafts2', 'Subject: draft 1\r\n\r\nfirst text\r\n'), /^a1 OK/);
        await run(c, 's', 'SELECT Drafts2');
        const body = 'second text\r\n';
        c.send(`r1 UID REPLACE 1 Drafts2 CATENATE (URL ";UID=1/;SECTION=HEADER" TEXT {${body.length}+}\r\n${body})\r\n`);
        const lines: string[] = [];
        for (;;) {
          const l = await c.expect(/.*/);
          lines.push(l);
          if (l.startsWith('r1 ')) break;
        }
        assert.match(lines.at(-1)!, /^r1 OK/);
        assert.ok(lines.some((l) => /^\* OK \[APPENDUID \d+ 2\]/.test(l)), lines.join('\n'));
        assert.ok(lines.includes('* 1 EXPUNGE'), lines.join('\n'));
        const fetched = await run(c, 'f', 'UID FETCH 2 BODY.PEEK[]');
        assert.equal(literalAfter(fetched, /BODY\[\] \{\d+\}/).toString('latin1'), 'Subject: draft 1\r\n\r\nsecond text\r\n');
        // A bad URL in a REPLACE: nothing replaced.
        const bad = await run(c, 'r2', 'UID REPLACE 2 Drafts2 CATENATE (URL ";UID=9")');
        assert.match(bad.at(-1)!, /^r2 NO \[BADURL ;UID=9\]/);
        assert.match((await run(c, 'st', 'STATUS Drafts2 (MESSAGES UIDNEXT)'))[0]!, /MESSAGES 1 UIDNEXT 3\)/);
      } finally {
        c.destroy();
      }
    });

    it('a digest with a bad URL after good ones fails whole (the RFC 4469 example 4 shape)', async () => {
      const c = await login(server().port, 'alice', 'secret');
      try {
        await run(c, 'cr', 'CREATE Digest');
        assert.match(await append(c, 'a1', 'Digest', 'Subject: one\r\n\r\none\r\n'), /^a1 OK/);
        const head = 'Subject: digest\r\n\r\n';
        c.send(`d1 APPEND Digest CATENATE (TEXT {${head.length}+}\r\n${head} URL "/Digest/;UID=1" URL "/Digest/;UID=77/;section=1.5.9")\r\n`);
        assert.match(await c.expect(/^d1 /), /^d1 NO \[BADURL \/Digest\/;UID=77\/;section=1\.5\.9\]/);
        assert.match((await run(c, 'st', 'STATUS Digest (MESSAGES)'))[0]!, /MESSAGES 1\)/);
      } finally {
        c.destroy();
      }
    });
  });
}
