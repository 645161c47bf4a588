/**
 * SEARCH with a thousand keys or more (issue 13, item 9) on every store: answered correctly — never
 * NO [SERVERBUG] (SQLite refuses expression trees deeper than 1000, which a flat chain of ANDs of
 * that length is) — while a bystander keeps being served.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { serverForSuite } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';
import { RawClient, run } from '../helpers/raw-client.js';
import { NoopProbe } from '../helpers/latency.js';

const MESSAGES = 240;

/** Message n (1-based): subject "msg n", from "sender<n mod 7>@example.org", \Flagged when n is a multiple of 5. */
function message(n: number): Buffer {
  return Buffer.from(`From: sender${n % 7}@example.org\r\nSubject: msg ${n}\r\n\r\nbody of ${n}\r\n`);
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

async function search(c: RawClient, tag: string, criteria: string): Promise<{ status: string; seqs: number[] }> {
  const lines = await run(c, tag, `SEARCH ${criteria}`);
  const status = lines[lines.length - 1]!;
  const data = lines.find((l) => l.startsWith('* SEARCH'));
  const seqs = data ? data.slice('* SEARCH'.length).trim().split(' ').filter(Boolean).map(Number) : [];
  return { status, seqs };
}

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`SEARCH with many keys (${storeName})`, () => {
    const server = serverForSuite(factory);
    let c: RawClient;

    before(async () => {
      const mail = await server().store.open('alice');
      const inbox = await mail.get('INBOX');
      for (const n of range(MESSAGES)) await mail.append(inbox.id, { content: message(n), flags: n % 5 === 0 ? ['\\Flagged'] : [] });
      await mail.close();
      c = new RawClient(server().port);
      await c.login();
      await run(c, 's', 'SELECT INBOX');
    });

    it('1,200 NOT SUBJECT keys (deeper than SQLite allows as a chain) match every message', async () => {
      const keys = range(1200).map((i) => `NOT SUBJECT "absent${i}"`).join(' ');
      const r = await search(c, 'a', keys);
      assert.match(r.status, /^a OK/);
      assert.deepEqual(r.seqs, range(MESSAGES));
    });

    it('3,000 keys of every kind that compiles, and some that do not', async () => {
      const keys = [
        ...range(1000).map(() => 'UNDELETED'),
        ...range(1000).map((i) => `NOT FROM "nobody${i}"`),
        ...range(500).map((i) => `NOT HEADER X-Absent "v${i}"`),
        ...range(499).map((i) => `NOT BODY "missing${i}"`),
        'SUBJECT "7"',
      ].join(' ');
      const r = await search(c, 'b', keys);
      assert.match(r.status, /^b OK/);
      assert.deepEqual(r.seqs, range(MESSAGES).filter((n) => String(n).includes('7')));
    });

    it('60 nested ORs and a set of 120 separate ranges', async () => {
      const ors = range(60).map((i) => `OR SUBJECT "msg ${i * 4}"`).join(' ') + ' FLAGGED';
      const r = await search(c, 'c', ors);
      assert.match(r.status, /^c OK/);
      const wanted = new Set(range(60).map((i) => i * 4));
      // "msg 4" also matches "msg 40".."msg 49" and "msg 4x"; compute what substring matching gives.
      const expected = range(MESSAGES).filter((n) => n % 5 === 0 || [...wanted].some((w) => `msg ${n}`.includes(`msg ${w}`)));
      assert.deepEqual(r.seqs, expected);

      const odd = range(MESSAGES).filter((n) => n % 2 === 1);
      const set = await search(c, 'd', `${odd.join(',')} FLAGGED`);
      assert.match(set.status, /^d OK/);
      assert.deepEqual(set.seqs, odd.filter((n) => n % 5 === 0));
    });

    it('a bystander is served while 9,000-token searches run', async () => {
      const other = new RawClient(server().port, { localAddress: '127.0.0.2' });
      await other.login();
      const probe = new NoopProbe(other);
      for (let i = 0; i < 3; i++) {
        const keys = range(3000).map((k) => `NOT SUBJECT "x${k}"`).join(' ');
        const r = await search(c, `e${i}`, keys);
        assert.match(r.status, new RegExp(`^e${i} OK`));
        assert.equal(r.seqs.length, MESSAGES);
      }
      const latency = await probe.stop();
      console.log(`# ${storeName}: bystander NOOP during 3,000-key searches: max ${latency.served.max.toFixed(0)} ms served (${latency.max.toFixed(0)} ms as seen) over ${latency.samples.length}`);
      // Each search takes a second or more; before, the bystander waited for all of it.
      assert.ok(latency.served.max < 500, `a bystander's NOOP took ${latency.served.max.toFixed(0)} ms served (${latency.max.toFixed(0)} ms as seen)`);
      other.destroy();
    });
  });
}
