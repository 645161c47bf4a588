/**
 * Hostile input to SORT and THREAD gets a clear answer in bounded time, on both stores: a sort
 * program of 10,000 keys, References headers of 10,000 IDs, References that form loops, a charset
 * that does not exist.
 */
import { sortData } from '../../src/store/sort/sort-data.js';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { serverForSuite } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';
import { RawClient, run } from '../helpers/raw-client.js';
import { servedTime } from '../helpers/served-time.js';
import { MAX_THREAD_REFERENCES } from '../../src/mime/sort-keys.js';

/** Generous: each answer takes milliseconds; the defects guarded against take minutes or never end. */
const BOUND_MS = 10_000;

/** The reply and its served time (served-time.ts: less what the machine's other load kept this process off the CPU). */
async function timed(c: RawClient, tag: string, command: string): Promise<{ lines: string[]; ms: number }> {
  let lines: string[] = [];
  const { served } = await servedTime(async () => {
    lines = await run(c, tag, command);
  });
  return { lines, ms: served };
}

function append(c: RawClient, tag: string, raw: string): Promise<string[]> {
  return run(c, tag, `APPEND INBOX {${Buffer.byteLength(raw)}+}\r\n${raw}`);
}

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`SORT and THREAD bad input (${storeName} store)`, () => {
    const server = serverForSuite(factory);

    it('answers a program of 10,000 sort keys, hostile References and an unknown charset promptly', async () => {
      const c = new RawClient(server().port);
      await c.login();
      const refs = Array.from({ length: 10_000 }, (_, i) => `<r${i}@hostile.test>`);
      await append(c, 'a1', `Subject: root\r\nMessage-ID: <r0@hostile.test>\r\n\r\nx\r\n`);
      await append(c, 'a2', `Subject: long\r\nMessage-ID: <long@hostile.test>\r\nReferences: ${refs.join('\r\n ')}\r\n\r\nx\r\n`);
      await append(c, 'a3', `Subject: backwards\r\nMessage-ID: <back@hostile.test>\r\nReferences: ${[...refs].reverse().join(' ')}\r\n\r\nx\r\n`);
      // A loop: x → y → z → x, each also naming itself.
      await append(c, 'a4', 'Subject: x\r\nMessage-ID: <x@loop>\r\nReferences: <z@loop> <x@loop>\r\n\r\nx\r\n');
      await append(c, 'a5', 'Subject: y\r\nMessage-ID: <y@loop>\r\nReferences: <x@loop> <y@loop>\r\n\r\nx\r\n');
      await append(c, 'a6', 'Subject: z\r\nMessage-ID: <z@loop>\r\nReferences: <y@loop> <z@loop>\r\n\r\nx\r\n');
      assert.match((await run(c, 's', 'SELECT INBOX')).at(-1)!, /^s OK/);

      // 10,000 keys are more tokens than a command may have (maxTokens): refused before parsing.
      const keys = Array.from({ length: 10_000 }, (_, i) => (i % 2 ? 'TO' : 'CC')).join(' ');
      const refused = await timed(c, 'k', `SORT (${keys}) UTF-8 ALL`);
      assert.deepEqual(refused.lines, ['k BAD Too many tokens in command']);
      assert.ok(refused.ms < BOUND_MS, `SORT with 10,000 keys took ${refused.ms} ms`);
      // Just under the limit, the repeated keys collapse to two and the answer is prompt.
      const fewer = Array.from({ length: 9_000 }, (_, i) => (i % 2 ? 'TO' : 'CC')).join(' ');
      const sorted = await timed(c, 'k2', `SORT (${fewer}) UTF-8 ALL`);
      assert.deepEqual(sorted.lines, ['* SORT 1 2 3 4 5 6', 'k2 OK SORT completed']);
      assert.ok(sorted.ms < BOUND_MS, `SORT with 9,000 keys took ${sorted.ms} ms`);

      for (const algorithm of ['REFERENCES', 'REFS', 'ORDEREDSUBJECT']) {
        const threaded = await timed(c, 't', `THREAD ${algorithm} UTF-8 ALL`);
        assert.equal(threaded.lines.at(-1), 't OK THREAD completed');
        const line = threaded.lines.find((l) => l.startsWith('* THREAD'))!;
        // Every message exactly once, however the loops and long lists were linked.
        assert.deepEqual(line.replace(/[()]/g, ' ').split(/\s+/).slice(2).filter(Boolean).map(Number).sort(), [1, 2, 3, 4, 5, 6], line);
        assert.ok(threaded.ms < BOUND_MS, `THREAD ${algorithm} took ${threaded.ms} ms`);
      }
      // The hostile References were kept to MAX_THREAD_REFERENCES: memory stays bounded per message.
      const mail = await server().store.open('alice');
      const inbox = await mail.get('INBOX');
      const data = await sortData(mail, inbox.id); // the store's keys, or the generic fallback's
      assert.ok(data.every((m) => m.references.length <= MAX_THREAD_REFERENCES));
      assert.equal(data[1]!.references.length, MAX_THREAD_REFERENCES);

      assert.match((await run(c, 'b1', 'SORT (DATE) X-NO-SUCH-CHARSET ALL')).at(-1)!, /^b1 NO \[BADCHARSET \(US-ASCII UTF-8\)\] /);
      assert.match((await run(c, 'b2', 'THREAD REFERENCES X-NO-SUCH-CHARSET ALL')).at(-1)!, /^b2 NO \[BADCHARSET \(US-ASCII UTF-8\)\] /);
      assert.match((await run(c, 'b3', 'SEARCH CHARSET X-NO-SUCH-CHARSET ALL')).at(-1)!, /^b3 NO \[BADCHARSET \(US-ASCII UTF-8\)\] /);
      // Still serving.
      assert.match((await run(c, 'n', 'NOOP')).at(-1)!, /^n OK/);
      c.destroy();
    });
  });
}
