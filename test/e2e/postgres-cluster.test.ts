/**
 * Three `postroom serve --store postgres` nodes on one database (issue 16): IDLE on one node hears
 * APPEND, STORE, MOVE and RESETKEY (URLMECH) made on another; concurrent APPENDs from every node into one mailbox get
 * distinct, increasing UIDs; the POP3 maildrop lock holds across nodes. Prints the cross-node
 * notification delay (APPEND's tagged OK on one node → EXISTS on another).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WireClient, type Response } from '../../bench/load/wire-client.js';
import { testDatabaseUrl } from '../helpers/postgres.js';
import { nodeDataDir, startServeNode, type ServeNode } from '../helpers/serve-node.js';
import { RawPop3 } from './pop3/raw-client.js';

const message = (subject: string): Buffer => Buffer.from(`From: a@example.com\r\nSubject: ${subject}\r\n\r\nbody of ${subject}\r\n`);

async function login(port: number, user = 'alice'): Promise<WireClient> {
  const { client } = await WireClient.connect('127.0.0.1', port);
  const ok = await client.command(`LOGIN ${user} pw-${user}`);
  assert.equal(ok.status, 'OK', ok.tagged);
  return client;
}

/** A session idling in `mailbox`; `heard(pattern)` resolves with the arrival time of a matching untagged line. */
async function idler(port: number, mailbox: string): Promise<{ client: WireClient; heard: (pattern: RegExp, timeoutMs?: number) => Promise<number> }> {
  const client = await login(port);
  assert.equal((await client.command(`SELECT ${mailbox}`)).status, 'OK');
  client.write('idle IDLE\r\n');
  assert.match((await client.next()).text, /^\+/);
  const seen: Array<{ at: number; r: Response }> = [];
  let wake: (() => void) | null = null;
  client.onUntagged = (r) => {
    seen.push({ at: performance.now(), r });
    wake?.();
  };
  const heard = async (pattern: RegExp, timeoutMs = 10_000): Promise<number> => {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const i = seen.findIndex((s) => pattern.test(s.r.text));
      if (i >= 0) return seen.splice(0, i + 1).at(-1)!.at;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`no ${pattern} within ${timeoutMs} ms (heard: ${seen.map((s) => s.r.text).join(' | ')})`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, Math.min(left, 200));
      });
    }
  };
  return { client, heard };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

describe('three postroom nodes on one PostgreSQL database', { timeout: 240_000 }, () => {
  const nodes: ServeNode[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  const clients: WireClient[] = [];

  before(async () => {
    const url = await testDatabaseUrl();
    const dirs = await Promise.all([nodeDataDir(), nodeDataDir(), nodeDataDir()]);
    cleanups.push(...dirs.map((d) => d.remove));
    // Started together: the schema is migrated once, under the advisory lock, not three times.
    nodes.push(...(await Promise.all(dirs.map((d) => startServeNode(['--store', 'postgres', '--database-url', url], d.dir)))));
  });

  after(async () => {
    for (const c of clients) c.close();
    for (const n of nodes) assert.equal(await n.stop(), 0, n.stderr());
    for (const c of cleanups) await c();
  });

  it('IDLE on node 1 hears an APPEND on node 3, a STORE on node 2; delay measured over 30 appends', async () => {
    const watch = await idler(nodes[0]!.imapPort, 'INBOX');
    clients.push(watch.client);
    const writer = await login(nodes[2]!.imapPort);
    clients.push(writer);
    const delays: number[] = [];
    for (let i = 1; i <= 30; i++) {
      const done = await writer.append('INBOX', '', message(`m${i}`));
      const acked = performance.now();
      assert.match(done.tagged, new RegExp(`OK \\[APPENDUID \\d+ ${i}\\]`));
      const at = await watch.heard(new RegExp(`^\\* ${i} EXISTS`));
      delays.push(Math.max(0, at - acked));
    }
    delays.sort((a, b) => a - b);
    console.log(
      `cross-node APPEND → EXISTS delay over ${delays.length}: p50 ${percentile(delays, 50).toFixed(1)} ms, p99 ${percentile(delays, 99).toFixed(1)} ms, max ${delays.at(-1)!.toFixed(1)} ms`,
    );
    const flagger = await login(nodes[1]!.imapPort);
    clients.push(flagger);
    await flagger.command('SELECT INBOX');
    assert.equal((await flagger.command('UID STORE 2 +FLAGS.SILENT (\\Flagged)')).status, 'OK');
    await watch.heard(/^\* 2 FETCH \(.*FLAGS \([^)]*\\Flagged/);
  });

  it('RESETKEY on node 2 is told to a session idling in the mailbox on node 1 (URLMECH, RFC 4467 §7)', async () => {
    const watch = await idler(nodes[0]!.imapPort, 'INBOX');
    clients.push(watch.client);
    const resetter = await login(nodes[1]!.imapPort);
    clients.push(resetter);
    assert.equal((await resetter.command('CREATE Keys')).status, 'OK');
    assert.match((await resetter.command('RESETKEY Keys')).tagged, /OK \[URLMECH INTERNAL\]/);
    assert.match((await resetter.command('RESETKEY INBOX')).tagged, /OK \[URLMECH INTERNAL\]/);
    await watch.heard(/^\* OK \[URLMECH INTERNAL\]/);
    // Only INBOX's reset reached it: nothing else is queued.
    await new Promise((r) => setTimeout(r, 300));
    await assert.rejects(watch.heard(/URLMECH/, 200));
  });

  it('MOVE on node 2 is seen by node 1 (EXPUNGE in the source) and node 3 (EXISTS in the target)', async () => {
    const mover = await login(nodes[1]!.imapPort);
    clients.push(mover);
    assert.equal((await mover.command('CREATE Archive')).status, 'OK');
    const source = await idler(nodes[0]!.imapPort, 'INBOX');
    const target = await idler(nodes[2]!.imapPort, 'Archive');
    clients.push(source.client, target.client);
    await mover.command('SELECT INBOX');
    const moved = await mover.command('UID MOVE 1 Archive');
    assert.equal(moved.status, 'OK', moved.tagged);
    await source.heard(/^\* 1 EXPUNGE/);
    await target.heard(/^\* 1 EXISTS/);
  });

  it('concurrent APPENDs from all three nodes give distinct, increasing UIDs', async () => {
    const perClient = 10;
    const writers = await Promise.all(nodes.flatMap((n) => [0, 1, 2].map(() => login(n.imapPort))));
    clients.push(...writers);
    await writers[0]!.command('CREATE Busy');
    const results = await Promise.all(
      writers.map(async (w, k) => {
        const uids: number[] = [];
        for (let i = 0; i < perClient; i++) {
          const done = await w.append('Busy', '', message(`w${k}-${i}`));
          const m = /APPENDUID (\d+) (\d+)/.exec(done.tagged);
          assert.ok(m, done.tagged);
          uids.push(Number(m[2]));
        }
        return uids;
      }),
    );
    for (const uids of results) for (let i = 1; i < uids.length; i++) assert.ok(uids[i]! > uids[i - 1]!, `one client's UIDs increase: ${uids}`);
    const all = results.flat().sort((a, b) => a - b);
    assert.equal(new Set(all).size, all.length, 'no UID handed out twice');
    const check = writers[0]!;
    await check.command('SELECT Busy');
    const listed = await check.command('UID SEARCH ALL');
    const found = listed.untagged.find((r) => r.text.startsWith('* SEARCH'))!.text.split(' ').slice(2).map(Number);
    assert.deepEqual(found, all, 'every acknowledged APPEND is there, under the UID it was given');
  });

  it('a POP3 maildrop locked on node 1 is [IN-USE] on node 2 until QUIT', async () => {
    const pop3 = async (port: number): Promise<RawPop3> => {
      const c = await RawPop3.connect(port);
      assert.match(await c.greeting, /^\+OK/);
      assert.match(await c.cmd('USER bob'), /^\+OK/);
      return c;
    };
    const first = await pop3(nodes[0]!.pop3Port);
    assert.match(await first.cmd('PASS pw-bob'), /^\+OK/);
    const second = await pop3(nodes[1]!.pop3Port);
    assert.match(await second.cmd('PASS pw-bob'), /^-ERR \[IN-USE\]/);
    assert.match(await first.cmd('QUIT'), /^\+OK/);
    await first.waitClosed();
    const third = await pop3(nodes[1]!.pop3Port);
    assert.match(await third.cmd('PASS pw-bob'), /^\+OK/);
    await third.cmd('QUIT');
    second.close();
  });
});
