/**
 * maxMailboxesPerUser and maxKeywordsPerMailbox hold when the write that passes them is a RENAME
 * (which creates the missing parents of the new name), an APPEND with keywords, or a COPY or MOVE
 * bringing keywords into the destination — with several connections of one user writing at once.
 * The server's early check (src/imap/commands/mail-limits.ts) reads before the write; without the
 * store's second count inside the write, these parallel writers went past the limit together
 * (issue 13, item 11). The limit-parallel test does the same for CREATE and STORE.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { serverForSuite } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';
import { RawClient, run } from '../helpers/raw-client.js';

const MAILBOXES = 10;
const KEYWORDS = 10;
const MESSAGE = 'Subject: kw\r\n\r\nbody\r\n';
const CONNECTIONS = 6;
const EACH = 6;

async function connect(port: number, count: number): Promise<RawClient[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const c = new RawClient(port);
      await c.login();
      return c;
    }),
  );
}

/** Sends every connection's commands at once (pipelined), then waits for every tagged answer. */
async function pipelined(clients: RawClient[], command: (n: number, i: number) => string): Promise<string[]> {
  for (const [n, c] of clients.entries()) c.send(Array.from({ length: EACH }, (_, i) => `w${i} ${command(n, i)}\r\n`).join(''));
  const answers = await Promise.all(clients.map((c) => Promise.all(Array.from({ length: EACH }, (_, i) => c.expect(new RegExp(`^w${i} `), 60_000)))));
  return answers.flat();
}

function append(keyword?: string): string {
  return `APPEND INBOX${keyword ? ` (${keyword})` : ''} {${MESSAGE.length}+}\r\n${MESSAGE}`;
}

async function keywordsIn(c: RawClient, mailbox: string): Promise<Set<string>> {
  await run(c, 'x', `EXAMINE ${mailbox}`);
  const fetched = (await run(c, 'f', 'FETCH 1:* FLAGS')).filter((line) => line.startsWith('*'));
  return new Set(fetched.flatMap((line) => line.match(/kw-\d+-\d+/g) ?? []));
}

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`mailboxes per user under parallel RENAMEs that create parents (${storeName})`, () => {
    const server = serverForSuite(factory, { limits: { maxMailboxesPerUser: MAILBOXES + CONNECTIONS * EACH } });
    it(`RENAMEs creating ${CONNECTIONS * EACH} parents at once never pass the limit`, async () => {
      const clients = await connect(server().port, CONNECTIONS);
      // INBOX and the sources leave room for MAILBOXES - 1 more: fewer than the RENAMEs would add.
      const sources = CONNECTIONS * EACH;
      for (let k = 0; k < sources; k++) await run(clients[0]!, 'c', `CREATE src-${k}`);
      const limit = MAILBOXES + sources;
      const answers = await pipelined(clients, (n, i) => `RENAME src-${n * EACH + i} parent-${n}-${i}/child`);
      for (const a of answers) assert.match(a, / (OK|NO \[LIMIT\])/);
      const ok = answers.filter((a) => / OK/.test(a)).length;
      const listed = (await run(clients[0]!, 'l', 'LIST "" "*"')).filter((line) => line.startsWith('* LIST'));
      assert.ok(listed.length <= limit, `${listed.length} mailboxes for a limit of ${limit}`);
      assert.equal(listed.length, 1 + sources + ok, 'every RENAME answered OK made exactly one new parent');
      assert.ok(ok >= 1 && ok <= MAILBOXES - 1, `${ok} RENAMEs passed; room was for ${MAILBOXES - 1}`);
      for (const c of clients) c.destroy();
    });
  });

  describe(`keywords per mailbox under parallel APPENDs (${storeName})`, () => {
    const server = serverForSuite(factory, { limits: { maxKeywordsPerMailbox: KEYWORDS } });
    it(`${CONNECTIONS} connections appending with ${EACH} new keywords each never put more than ${KEYWORDS} in one mailbox`, async () => {
      const clients = await connect(server().port, CONNECTIONS);
      // One APPEND each first, so every session's early check has read INBOX (and holds a stale view).
      for (const c of clients) await run(c, 'a', append());
      const answers = await pipelined(clients, (n, i) => append(`kw-${n}-${i}`));
      for (const a of answers) assert.match(a, / (OK|NO \[LIMIT\])/);
      const ok = answers.filter((a) => / OK/.test(a)).length;
      const keywords = await keywordsIn(clients[0]!, 'INBOX');
      assert.ok(keywords.size <= KEYWORDS, `${keywords.size} keywords for a limit of ${KEYWORDS}`);
      assert.equal(keywords.size, ok, 'every APPEND answered OK brought its keyword');
      for (const c of clients) c.destroy();
    });
  });

  for (const command of ['COPY', 'MOVE'] as const) {
    describe(`keywords per mailbox under parallel ${command}s (${storeName})`, () => {
      const server = serverForSuite(factory, { limits: { maxKeywordsPerMailbox: KEYWORDS } });
      it(`${CONNECTIONS} connections bringing ${EACH} new keywords each into one mailbox never pass ${KEYWORDS}`, async () => {
        const clients = await connect(server().port, CONNECTIONS);
        // Each connection's own source mailbox, with one message per keyword (EACH <= KEYWORDS each).
        for (const [n, c] of clients.entries()) {
          await run(c, 'c', `CREATE source-${n}`);
          for (let i = 0; i < EACH; i++) {
            await run(c, 'a', `APPEND source-${n} (kw-${n}-${i}) {${MESSAGE.length}+}\r\n${MESSAGE}`);
          }
        }
        await run(clients[0]!, 'c', 'CREATE Target');
        for (const [n, c] of clients.entries()) await run(c, 's', `SELECT source-${n}`);
        const answers = await pipelined(clients, (_n, i) => `UID ${command} ${i + 1} Target`);
        for (const a of answers) assert.match(a, / (OK|NO \[LIMIT\])/);
        const ok = answers.filter((a) => / OK/.test(a)).length;
        const keywords = await keywordsIn(clients[0]!, 'Target');
        assert.ok(keywords.size <= KEYWORDS, `${keywords.size} keywords for a limit of ${KEYWORDS}`);
        assert.equal(keywords.size, ok, `every ${command} answered OK brought its keyword`);
        for (const c of clients) c.destroy();
      });
    });
  }
}
