/**
 * MESSAGELIMIT and SAVELIMIT (RFC 9738), on every store, with a server limited to 5 messages per
 * command and 4 saved at once: Python imaplib as a client that knows the extension pages through
 * a 12-message mailbox and copies it in pieces; a streamed MULTIAPPEND past SAVELIMIT keeps
 * nothing; the defaults are advertised by a server left alone. (The wire forms of every command
 * are in test/transcripts/messagelimit.txt.)
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { serverForSuite, startImapServer } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';
import { RawClient, run } from '../helpers/raw-client.js';
import { DEFAULT_IMAP_LIMITS } from '../../src/imap/limits.js';

let counter = 0;

async function seeded(port: number, count: number): Promise<{ box: string; uids: number[] }> {
  const box = `limited${++counter}`;
  const c = new RawClient(port);
  await c.login();
  await run(c, 'c', `CREATE ${box}`);
  const uids: number[] = [];
  for (let i = 1; i <= count; i++) {
    const msg = `Subject: m${i}\r\n\r\nbody ${i}\r\n`;
    const lines = await run(c, 'a', `APPEND ${box} {${msg.length}+}\r\n${msg}`);
    uids.push(Number(/APPENDUID \d+ (\d+)/.exec(lines.at(-1)!)![1]));
  }
  c.destroy();
  return { box, uids };
}

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`MESSAGELIMIT and SAVELIMIT (${storeName} store)`, () => {
    const server = serverForSuite(factory, { allowInsecureAuth: true, limits: { maxMessagesPerCommand: 5, maxMessagesPerSave: 4 } });

    it('Python imaplib pages UID FETCH and UID SEARCH by the UID in [MESSAGELIMIT], and copies in pieces after a refused COPY', async () => {
      const { box, uids } = await seeded(server().port, 12);
      const target = `${box}copy`;
      const c = new RawClient(server().port);
      await c.login();
      await run(c, 'c', `CREATE ${target}`);
      c.destroy();
      const script = fileURLToPath(new URL('./python/imaplib_messagelimit.py', import.meta.url));
      const out = await new Promise<string>((resolve, reject) => {
        // Asynchronous: a synchronous spawn would block the event loop this server runs on.
        execFile('python3', [script, server().host, String(server().port), box, target], { timeout: 60_000 }, (err, stdout, stderr) =>
          err ? reject(new Error(`${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout),
        );
      });
      assert.match(out, /^LIMITS: 5 4$/m);
      assert.match(out, /^FETCH PAGES: \[5, 5, 2\]$/m);
      assert.match(out, new RegExp(`^FETCH UIDS: \\[${uids.join(', ')}\\]$`, 'm'));
      assert.match(out, new RegExp(`^SEARCH UIDS: \\[${uids.join(', ')}\\]$`, 'm'));
      assert.match(out, new RegExp(`^COPY ALL: NO \\[MESSAGELIMIT 4 ${uids[8]}\\]$`, 'm'));
      assert.match(out, new RegExp(`^TARGET AFTER REFUSAL: ${target} \\(MESSAGES 0\\)$`, 'm'));
      assert.match(out, new RegExp(`^TARGET AFTER PIECES: ${target} \\(MESSAGES 12\\)$`, 'm'));
    });

    it('a streamed MULTIAPPEND (messages above 64 KB) past SAVELIMIT is refused and keeps nothing', async () => {
      const { box } = await seeded(server().port, 0);
      const c = new RawClient(server().port);
      await c.login();
      const body = `Subject: big\r\n\r\n${'x'.repeat(70 * 1024)}\r\n`;
      // Five messages, each a synchronising literal: the client waits for every "+".
      c.send(`m APPEND ${box} {${body.length}}\r\n`);
      let refused = '';
      for (let i = 1; i <= 5; i++) {
        const line = await c.expect(/^(\+|m )/);
        if (line.startsWith('m ')) {
          refused = line;
          break;
        }
        c.send(i < 5 ? `${body} {${body.length}}\r\n` : `${body}\r\n`);
      }
      if (!refused) refused = await c.expect(/^m /);
      assert.match(refused, /^m NO \[MESSAGELIMIT 4\] /);
      assert.deepEqual(await run(c, 's', `STATUS ${box} (MESSAGES)`), [`* STATUS ${box} (MESSAGES 0)`, 's OK STATUS completed']);
      c.destroy();
    });
  });
}

/** The numbers of a sequence set, in the order written ("5:3,9" → 5 4 3 9). */
function expand(set: string): number[] {
  return set.split(',').flatMap((part) => {
    const [a, b = a] = part.split(':').map(Number) as [number, number?];
    const out: number[] = [];
    for (let n = a; a <= b! ? n <= b! : n >= b!; n += a <= b! ? 1 : -1) out.push(n);
    return out;
  });
}

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`MESSAGELIMIT past one write chunk (${storeName} store)`, () => {
    // 260 is above one store call's chunk (250, chunks.ts): the order holds across chunks.
    const server = serverForSuite(factory, { allowInsecureAuth: true, limits: { maxMessagesPerCommand: 260 } });

    it('STORE and MOVE cut at the limit work from the highest UID down across chunks; COPYUID pairs each source with its copy', async () => {
      const box = `chunks${++counter}`;
      const c = new RawClient(server().port);
      await c.login();
      try {
        await run(c, 'c', `CREATE ${box}`);
        await run(c, 'd', `CREATE ${box}.dest`);
        // One MULTIAPPEND of 300 messages, Subject m<uid>.
        const bodies = Array.from({ length: 300 }, (_, i) => `Subject: m${i + 1}\r\n\r\nbody\r\n`);
        const appended = await run(c, 'a', `APPEND ${box} ${bodies.map((b) => `{${b.length}+}\r\n${b}`).join(' ')}`);
        assert.match(appended.at(-1)!, /^a OK \[APPENDUID \d+ 1:300\]/);
        assert.match((await run(c, 's', `SELECT ${box}`)).at(-1)!, /^s OK/);

        const stored = await run(c, 't', 'UID STORE 1:* +FLAGS (\\Flagged)');
        assert.match(stored.at(-1)!, /^t OK \[MESSAGELIMIT 260 41\]/);
        const order = stored.filter((l) => l.startsWith('* ')).map((l) => Number(/UID (\d+)/.exec(l)![1]));
        assert.deepEqual(order, Array.from({ length: 260 }, (_, i) => 300 - i), 'FETCHes from UID 300 down to 41');

        const moved = await run(c, 'm', `UID MOVE 1:* ${box}.dest`);
        assert.match(moved.at(-1)!, /^m OK \[MESSAGELIMIT 260 41\]/);
        const copyuid = /^\* OK \[COPYUID \d+ (\S+) (\S+)\]/.exec(moved.find((l) => l.includes('COPYUID'))!)!;
        const [src, dst] = [expand(copyuid[1]!), expand(copyuid[2]!)];
        assert.deepEqual(src, Array.from({ length: 260 }, (_, i) => 41 + i), 'the source set ascending');
        assert.equal(new Set(dst).size, 260);
        assert.equal(moved.filter((l) => / EXPUNGE$/.test(l)).length, 260);
        // Every pair names a source and its copy: the copy's Subject is its source's.
        assert.match((await run(c, 's2', `SELECT ${box}.dest`)).at(-1)!, /^s2 OK/);
        const pairs = [0, 9, 10, 259].map((i) => [src[i]!, dst[i]!] as const);
        for (const [s, d] of pairs) {
          const lines = await run(c, `f${d}`, `UID FETCH ${d} (BODY.PEEK[HEADER.FIELDS (SUBJECT)])`);
          assert.ok(lines.some((l) => l === `Subject: m${s}`), `dest UID ${d} is the copy of UID ${s}: ${lines.join(' | ')}`);
        }
      } finally {
        c.destroy();
      }
    });
  });
}

describe('MESSAGELIMIT and SAVELIMIT defaults', () => {
  it('a server left alone advertises MESSAGELIMIT and SAVELIMIT once logged in, not before', async () => {
    const server = await startImapServer({ allowInsecureAuth: true });
    try {
      const c = new RawClient(server.port);
      await c.expect(/^\* OK/);
      const before = (await run(c, 'c', 'CAPABILITY'))[0]!;
      assert.doesNotMatch(before, /MESSAGELIMIT|SAVELIMIT/);
      c.send('l LOGIN alice secret\r\n');
      await c.expect(/^l OK/);
      const after = (await run(c, 'd', 'CAPABILITY'))[0]!;
      assert.match(after, new RegExp(` MESSAGELIMIT=${DEFAULT_IMAP_LIMITS.maxMessagesPerCommand} SAVELIMIT=${DEFAULT_IMAP_LIMITS.maxMessagesPerSave}( |$)`));
      c.destroy();
    } finally {
      await server.close();
    }
  });
});
