/**
 * UIDONLY (RFC 9586) across sessions, on every store: once a session has enabled it, what another
 * session does reaches it without message sequence numbers — flag changes as `* uid UIDFETCH`,
 * expunges as VANISHED — at a command's end, in IDLE, and through NOTIFY (MessageNew with fetch
 * attributes). IMAP4rev2 and QRESYNC beside it. The one-session rules are in
 * test/transcripts/uidonly.txt.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { serverForSuite, type TestServer } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';
import { RawClient, run } from '../helpers/raw-client.js';

let counter = 0;

async function session(server: TestServer, enable?: string): Promise<RawClient> {
  const c = new RawClient(server.port);
  await c.login();
  if (enable) assert.equal((await run(c, 'e', `ENABLE ${enable}`)).at(-1), 'e OK ENABLE completed');
  return c;
}

async function append(c: RawClient, mailbox: string, subject: string): Promise<number> {
  const msg = `Subject: ${subject}\r\n\r\nbody\r\n`;
  const lines = await run(c, 'a', `APPEND ${mailbox} {${msg.length}+}\r\n${msg}`);
  assert.match(lines.at(-1)!, /^a OK/);
  return Number(/APPENDUID \d+ (\d+)/.exec(lines.at(-1)!)![1]);
}

/** A fresh mailbox with `n` messages; their UIDs. */
async function seeded(server: TestServer, n: number): Promise<{ box: string; uids: number[] }> {
  const box = `only${++counter}`;
  const c = await session(server);
  await run(c, 'c', `CREATE ${box}`);
  const uids: number[] = [];
  for (let i = 0; i < n; i++) uids.push(await append(c, box, `m${i}`));
  c.destroy();
  return { box, uids };
}

const untagged = (lines: string[]): string[] => lines.filter((l) => l.startsWith('* '));

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`UIDONLY (${storeName} store)`, () => {
    const server = serverForSuite(factory, { allowInsecureAuth: true });

    it('another session’s flag change and expunge reach it as UIDFETCH and VANISHED at a command’s end', async () => {
      const { box, uids } = await seeded(server(), 3);
      const a = await session(server(), 'UIDONLY');
      const b = await session(server());
      await run(a, 's', `SELECT ${box}`);
      await run(b, 's', `SELECT ${box}`);
      await run(b, 'f', 'STORE 2 +FLAGS.SILENT (\\Flagged)');
      await run(b, 'd', 'STORE 1 +FLAGS.SILENT (\\Deleted)');
      await run(b, 'x', 'EXPUNGE');
      const noop = untagged(await run(a, 'n', 'NOOP'));
      assert.ok(noop.includes(`* VANISHED ${uids[0]}`), noop.join('|'));
      assert.ok(noop.some((l) => new RegExp(`^\\* ${uids[1]} UIDFETCH \\(FLAGS \\(\\\\Flagged( \\\\Recent)?\\)\\)$`).test(l)), noop.join('|'));
      assert.ok(!noop.some((l) => / EXPUNGE$| FETCH /.test(l)), noop.join('|'));
      a.destroy();
      b.destroy();
    });

    it('in IDLE, with IMAP4rev2 and CONDSTORE on too: UIDFETCH with MODSEQ, VANISHED, EXISTS', async () => {
      const { box, uids } = await seeded(server(), 2);
      const a = await session(server(), 'UIDONLY IMAP4rev2 CONDSTORE');
      const b = await session(server());
      await run(a, 's', `SELECT ${box}`);
      await run(b, 's', `SELECT ${box}`);
      a.send('i IDLE\r\n');
      await a.expect(/^\+ /);
      await run(b, 'f', 'STORE 2 +FLAGS.SILENT (\\Seen)');
      assert.match(await a.expect(/^\* /), new RegExp(`^\\* ${uids[1]} UIDFETCH \\(FLAGS \\(\\\\Seen\\) MODSEQ \\(\\d+\\)\\)$`));
      await run(b, 'd', 'UID STORE ' + uids[0] + ' +FLAGS.SILENT (\\Deleted)');
      await a.expect(/^\* \d+ UIDFETCH/);
      await run(b, 'x', 'EXPUNGE');
      assert.equal(await a.expect(/^\* /), `* VANISHED ${uids[0]}`);
      const third = await append(b, box, 'new');
      assert.equal(await a.expect(/^\* /), '* 2 EXISTS');
      a.send('DONE\r\n');
      assert.equal(await a.expect(/^i /), 'i OK IDLE terminated');
      assert.ok(!a.transcript.some((l) => / EXPUNGE$| FETCH \(/.test(l)), a.transcript.join('|'));
      assert.ok(third > uids[1]!);
      a.destroy();
      b.destroy();
    });

    it('NOTIFY MessageNew with fetch attributes: UIDFETCH; MessageExpunge: VANISHED', async () => {
      const { box } = await seeded(server(), 1);
      const a = await session(server(), 'UIDONLY');
      const b = await session(server());
      await run(a, 's', `SELECT ${box}`);
      const set = await run(a, 'n', 'NOTIFY SET (selected (MessageNew (UID FLAGS) MessageExpunge FlagChange))');
      assert.equal(set.at(-1), 'n OK NOTIFY completed');
      const uid = await append(b, box, 'pushed');
      assert.equal(await a.expect(/^\* /), '* 2 EXISTS');
      assert.equal(await a.expect(/^\* /), '* 2 RECENT');
      assert.match(await a.expect(/^\* /), new RegExp(`^\\* ${uid} UIDFETCH \\(UID ${uid} FLAGS \\(.*\\)\\)$`));
      await run(b, 's', `SELECT ${box}`);
      await run(b, 'd', `UID STORE ${uid} +FLAGS.SILENT (\\Deleted)`);
      await a.expect(new RegExp(`^\\* ${uid} UIDFETCH`));
      await run(b, 'x', 'EXPUNGE');
      assert.equal(await a.expect(/^\* /), `* VANISHED ${uid}`);
      a.destroy();
      b.destroy();
    });

    it('QRESYNC beside it: SELECT (QRESYNC …) without match data reports UIDFETCH and VANISHED (EARLIER); UID FETCH … (CHANGEDSINCE m VANISHED) too', async () => {
      const { box, uids } = await seeded(server(), 3);
      const a = await session(server(), 'UIDONLY QRESYNC');
      const first = await run(a, 's', `SELECT ${box}`);
      const validity = /UIDVALIDITY (\d+)/.exec(first.join('\n'))![1];
      const modseq = Number(/HIGHESTMODSEQ (\d+)/.exec(first.join('\n'))![1]);
      await run(a, 'u', 'UNSELECT');
      const b = await session(server());
      await run(b, 's', `SELECT ${box}`);
      await run(b, 'f', 'STORE 3 +FLAGS.SILENT (\\Answered)');
      await run(b, 'd', 'STORE 1 +FLAGS.SILENT (\\Deleted)');
      await run(b, 'x', 'EXPUNGE');
      const again = untagged(await run(a, 'r', `SELECT ${box} (QRESYNC (${validity} ${modseq}))`));
      assert.ok(again.includes(`* VANISHED (EARLIER) ${uids[0]}`), again.join('|'));
      assert.ok(again.some((l) => new RegExp(`^\\* ${uids[2]} UIDFETCH \\(FLAGS \\(\\\\Answered\\) MODSEQ \\(\\d+\\)\\)$`).test(l)), again.join('|'));
      const changed = untagged(await run(a, 'c', `UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${modseq} VANISHED)`));
      assert.ok(changed.includes(`* VANISHED (EARLIER) ${uids[0]}`), changed.join('|'));
      assert.ok(changed.some((l) => l.startsWith(`* ${uids[2]} UIDFETCH (`)), changed.join('|'));
      assert.ok(!again.concat(changed).some((l) => / FETCH \(/.test(l)));
      a.destroy();
      b.destroy();
    });

    it('UNAUTHENTICATE turns it off: sequence numbers work again for the next login', async () => {
      const { box } = await seeded(server(), 1);
      const a = await session(server(), 'UIDONLY');
      await run(a, 's', `SELECT ${box}`);
      assert.match((await run(a, 'f', 'FETCH 1 FLAGS')).at(-1)!, /^f BAD \[UIDREQUIRED\]/);
      assert.equal((await run(a, 'u', 'UNAUTHENTICATE')).at(-1), 'u OK UNAUTHENTICATE completed');
      a.send('L LOGIN alice secret\r\n');
      await a.expect(/^L OK/);
      await run(a, 's', `SELECT ${box}`);
      assert.deepEqual(untagged(await run(a, 'f', 'FETCH 1 UID')).filter((l) => / FETCH /.test(l)).length, 1);
      a.destroy();
    });
  });
}

describe('UIDONLY with UIDBATCHES, Python imaplib', () => {
  for (const [storeName, factory] of Object.entries(storeFactories())) {
    const server = serverForSuite(factory, { allowInsecureAuth: true, limits: { minUidBatchSize: 10 } });
    it(`reads a 35-message mailbox (37 less 2 expunged) in batches of 10, every answer a UIDFETCH (${storeName} store)`, async () => {
      const { box, uids } = await seeded(server(), 37);
      const c = await session(server());
      await run(c, 's', `SELECT ${box}`);
      await run(c, 'd', `UID STORE ${uids[0]},${uids[5]} +FLAGS.SILENT (\\Deleted)`);
      await run(c, 'x', 'EXPUNGE');
      c.destroy();
      const kept = uids.filter((_, i) => i !== 0 && i !== 5);
      const script = fileURLToPath(new URL('./python/imaplib_uidbatches.py', import.meta.url));
      const out = await new Promise<string>((resolve, reject) => {
        // Asynchronous: a synchronous spawn would block the event loop this server runs on.
        execFile('python3', [script, server().host, String(server().port), box, '10'], { timeout: 60_000 }, (err, stdout, stderr) =>
          err ? reject(new Error(`${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout),
        );
      });
      assert.match(out, /^CAPS: UIDONLY UIDBATCHES$/m);
      assert.match(out, /^ENABLED: \[b'UIDONLY'\]$/m);
      assert.match(out, /^FETCH: UIDREQUIRED$/m);
      const desc = [...kept].reverse();
      const expected = [0, 10, 20, 30].map((i) => `'${desc[i]}:${i + 10 >= desc.length ? 1 : desc[i + 9]}'`);
      assert.match(out, new RegExp(`^RANGES: \\[${expected.join(', ')}\\]$`, 'm'));
      assert.match(out, /^BATCH SIZES: \[10, 10, 10, 5\]$/m);
      assert.match(out, new RegExp(`^UIDS: \\[${kept.join(', ')}\\]$`, 'm'));
    });
  }
});
