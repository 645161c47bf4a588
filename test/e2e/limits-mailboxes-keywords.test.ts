/**
 * Limits on what one user builds (issue 13, item 11): mailboxes per user, keywords per mailbox and
 * keyword length, answered NO [LIMIT] (RFC 5530 §3) by every store, whatever command would break
 * them (CREATE, RENAME; STORE, APPEND, COPY, MOVE).
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { serverForSuite } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';
import { RawClient, run } from '../helpers/raw-client.js';

const last = (lines: string[]): string => lines[lines.length - 1]!;
const MESSAGE = 'Subject: kw\r\n\r\nbody\r\n';

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`keywords per message and mailbox, defaults (${storeName})`, () => {
    const server = serverForSuite(factory);
    it('6,000 keywords on one message: NO [LIMIT], nothing stored', async () => {
      const c = new RawClient(server().port);
      await c.login();
      await run(c, 'a', `APPEND INBOX {${MESSAGE.length}+}\r\n${MESSAGE}`);
      await run(c, 's', 'SELECT INBOX');
      const keywords = Array.from({ length: 6000 }, (_, i) => `kw${i}`).join(' ');
      assert.match(last(await run(c, 'b', `STORE 1 +FLAGS (${keywords})`)), /^b NO \[LIMIT\] Too many keywords in this mailbox \(limit 256\)/);
      const fetched = await run(c, 'f', 'FETCH 1 FLAGS');
      assert.match(fetched[0]!, /^\* 1 FETCH \(FLAGS \((\\Recent)?\)\)/);
      assert.match(last(await run(c, 'l', `STORE 1 +FLAGS (${'k'.repeat(101)})`)), /^l NO \[LIMIT\] Keyword longer than 100 octets/);
      c.destroy();
    });
  });

  describe(`keywords per mailbox, limit 10 (${storeName})`, () => {
    const server = serverForSuite(factory, { limits: { maxKeywordsPerMailbox: 10 } });
    let c: RawClient;
    before(async () => {
      c = new RawClient(server().port);
      await c.login();
      await run(c, 'c1', 'CREATE Other');
      await run(c, 'c2', 'CREATE Full');
      for (let i = 0; i < 3; i++) await run(c, `a${i}`, `APPEND INBOX {${MESSAGE.length}+}\r\n${MESSAGE}`);
      // Full has ten keywords already.
      await run(c, 'a9', `APPEND Full (${Array.from({ length: 10 }, (_, i) => `full${i}`).join(' ')}) {${MESSAGE.length}+}\r\n${MESSAGE}`);
      await run(c, 's', 'SELECT INBOX');
    });

    it('STORE: ten keywords fit, the eleventh does not; keywords already there always do', async () => {
      const ten = Array.from({ length: 10 }, (_, i) => `t${i}`).join(' ');
      assert.match(last(await run(c, 'b1', `STORE 1 +FLAGS (${ten})`)), /^b1 OK/);
      assert.match(last(await run(c, 'b2', 'STORE 2 +FLAGS (t3 t7 \\Seen)')), /^b2 OK/);
      assert.match(last(await run(c, 'b3', 'STORE 3 +FLAGS (eleven)')), /^b3 NO \[LIMIT\]/);
      assert.match(last(await run(c, 'b4', 'STORE 3 FLAGS (ELEVEN)')), /^b4 NO \[LIMIT\]/);
      assert.match(last(await run(c, 'b5', 'STORE 3 -FLAGS (t1)')), /^b5 OK/);
    });

    it('APPEND, COPY and MOVE into a mailbox that has ten keywords', async () => {
      assert.match(last(await run(c, 'p1', `APPEND Full (full3) {${MESSAGE.length}+}\r\n${MESSAGE}`)), /^p1 OK/);
      assert.match(last(await run(c, 'p2', `APPEND Full (new) {${MESSAGE.length}+}\r\n${MESSAGE}`)), /^p2 NO \[LIMIT\]/);
      // Message 1 of INBOX carries t0..t9: Full has no room for them, Other has.
      assert.match(last(await run(c, 'p3', 'COPY 1 Full')), /^p3 NO \[LIMIT\]/);
      assert.match(last(await run(c, 'p4', 'MOVE 1 Full')), /^p4 NO \[LIMIT\]/);
      assert.match(last(await run(c, 'p5', 'COPY 1 Other')), /^p5 OK \[COPYUID/);
      assert.match(last(await run(c, 'p6', 'STATUS Full (MESSAGES)')).slice(0, 5), /^p6 OK/);
      const status = await run(c, 'p7', 'STATUS Full (MESSAGES)');
      assert.match(status[0]!, /MESSAGES 2\)/, 'only the APPEND with a known keyword went in');
    });
  });

  describe(`mailboxes per user, limit 8 (${storeName})`, () => {
    const server = serverForSuite(factory, { limits: { maxMailboxesPerUser: 8 } });
    it('CREATE (parents count), RENAME into new parents, DELETE frees a place', async () => {
      const c = new RawClient(server().port);
      await c.login();
      // INBOX + 4 = 5
      for (const name of ['a', 'b', 'c', 'd']) assert.match(last(await run(c, `c${name}`, `CREATE ${name}`)), /OK/);
      // x/y/z needs three more: 8, the limit.
      assert.match(last(await run(c, 'x', 'CREATE x/y/z')), /^x OK/);
      assert.match(last(await run(c, 'e', 'CREATE e')), /^e NO \[LIMIT\] Too many mailboxes \(limit 8\)/);
      // Renaming to a name whose parent is missing creates the parent too.
      assert.match(last(await run(c, 'r1', 'RENAME a p/a')), /^r1 NO \[LIMIT\]/);
      assert.match(last(await run(c, 'r2', 'RENAME a x/a')), /^r2 OK/);
      // Renaming INBOX leaves an empty INBOX: one more mailbox.
      assert.match(last(await run(c, 'r3', 'RENAME INBOX old')), /^r3 NO \[LIMIT\]/);
      assert.match(last(await run(c, 'd1', 'DELETE b')), /^d1 OK/);
      assert.match(last(await run(c, 'e2', 'CREATE e')), /^e2 OK/);
      const list = await run(c, 'l', 'LIST "" "*"');
      assert.equal(list.filter((l) => l.startsWith('* LIST')).length, 8);
      c.destroy();
    });
  });
}
