/**
 * maxMailboxesPerUser and maxKeywordsPerMailbox hold under parallel CREATEs and STOREs: the count
 * is checked inside the store's write, not only before it, so several connections of one user
 * writing at once cannot go past a limit together (issue 13, the race left by the first check).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { serverForSuite } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';
import { RawClient, run } from '../helpers/raw-client.js';

const LIMIT = 10;
const KEYWORDS = 10;
const MESSAGE = 'Subject: kw\r\n\r\nbody\r\n';
const CONNECTIONS = 6;
const EACH = 8;

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`mailboxes per user under parallel CREATEs (${storeName})`, () => {
    const server = serverForSuite(factory, { limits: { maxMailboxesPerUser: LIMIT } });
    it(`${CONNECTIONS} connections pipelining ${EACH} CREATEs each never make more than ${LIMIT} mailboxes`, async () => {
      const clients = await Promise.all(
        Array.from({ length: CONNECTIONS }, async () => {
          const c = new RawClient(server().port);
          await c.login();
          return c;
        }),
      );
      // Every command is sent at once, so each connection's checks run while the others write.
      for (const [n, c] of clients.entries()) {
        c.send(Array.from({ length: EACH }, (_, i) => `c${i} CREATE box-${n}-${i}\r\n`).join(''));
      }
      const answers = await Promise.all(clients.map((c) => Promise.all(Array.from({ length: EACH }, (_, i) => c.expect(new RegExp(`^c${i} `), 30_000)))));
      const ok = answers.flat().filter((a) => / OK/.test(a)).length;
      for (const a of answers.flat()) assert.match(a, / (OK|NO \[LIMIT\])/);
      const listed = (await run(clients[0]!, 'l', 'LIST "" "*"')).filter((line) => line.startsWith('* LIST'));
      assert.ok(listed.length <= LIMIT, `${listed.length} mailboxes for a limit of ${LIMIT}`);
      assert.equal(listed.length, ok + 1, 'every CREATE answered OK made one mailbox (besides INBOX)');
      for (const c of clients) c.destroy();
    });
  });

  describe(`keywords per mailbox under parallel STOREs (${storeName})`, () => {
    const server = serverForSuite(factory, { limits: { maxKeywordsPerMailbox: KEYWORDS } });
    it(`${CONNECTIONS} connections adding ${EACH} new keywords each never put more than ${KEYWORDS} in one mailbox`, async () => {
      const first = new RawClient(server().port);
      await first.login();
      for (let i = 0; i < CONNECTIONS; i++) await run(first, `a${i}`, `APPEND INBOX {${MESSAGE.length}+}\r\n${MESSAGE}`);
      const clients = [
        first,
        ...(await Promise.all(
          Array.from({ length: CONNECTIONS - 1 }, async () => {
            const c = new RawClient(server().port);
            await c.login();
            return c;
          }),
        )),
      ];
      // Every session selects before any keyword exists: each one's view knows of none.
      for (const c of clients) await run(c, 's', 'SELECT INBOX');
      for (const [n, c] of clients.entries()) {
        c.send(Array.from({ length: EACH }, (_, i) => `k${i} STORE ${n + 1} +FLAGS.SILENT (kw-${n}-${i})\r\n`).join(''));
      }
      const answers = await Promise.all(clients.map((c) => Promise.all(Array.from({ length: EACH }, (_, i) => c.expect(new RegExp(`^k${i} `), 30_000)))));
      for (const a of answers.flat()) assert.match(a, / (OK|NO \[LIMIT\])/);
      const ok = answers.flat().filter((a) => / OK/.test(a)).length;
      const fetched = (await run(clients[0]!, 'f', 'FETCH 1:* FLAGS')).filter((line) => line.startsWith('*'));
      const keywords = new Set(fetched.flatMap((line) => line.match(/kw-\d+-\d+/g) ?? []));
      assert.ok(keywords.size <= KEYWORDS, `${keywords.size} keywords for a limit of ${KEYWORDS}`);
      assert.equal(keywords.size, ok, 'every STORE answered OK added its keyword');
      for (const c of clients) c.destroy();
    });
  });
}
