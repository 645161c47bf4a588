/**
 * Faults of a PostgreSQL cluster of nodes (issue 16): PostgreSQL stopped and started again under
 * load, and a node killed with SIGKILL under load. The rule in both: no wrong answer — every
 * command either succeeds or fails with NO [UNAVAILABLE], every acknowledged APPEND is there
 * afterwards under the UID it was given, and service resumes without restarting a node.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WireClient } from '../../bench/load/wire-client.js';
import { privateCluster, testDatabaseUrl } from '../helpers/postgres.js';
import { nodeDataDir, startServeNode, type ServeNode } from '../helpers/serve-node.js';

const message = (subject: string): Buffer => Buffer.from(`From: load@example.com\r\nSubject: ${subject}\r\n\r\nload\r\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface LoadResult {
  acked: number[];
  unavailable: number;
  /** Anything that is neither OK nor NO [UNAVAILABLE]: must stay empty. */
  wrong: string[];
}

/** One client appending until `stop()` (bounded: at most `max` appends); it reconnects when its connection drops. */
function appender(port: number, name: string, max = 400): { stop: () => void; done: Promise<LoadResult> } {
  let stopped = false;
  const result: LoadResult = { acked: [], unavailable: 0, wrong: [] };
  const done = (async () => {
    let client: WireClient | null = null;
    for (let i = 0; i < max && !stopped; i++) {
      try {
        if (!client) {
          client = (await WireClient.connect('127.0.0.1', port)).client;
          const login = await client.command('LOGIN alice pw-alice');
          if (login.status !== 'OK') {
            if (!/\[UNAVAILABLE\]/.test(login.tagged)) result.wrong.push(`LOGIN: ${login.tagged}`);
            else result.unavailable++;
            client.close();
            client = null;
            await sleep(50);
            continue;
          }
        }
        const r = await client.append('INBOX', '', message(`${name}-${i}`));
        const uid = /OK \[APPENDUID \d+ (\d+)\]/.exec(r.tagged);
        if (uid) result.acked.push(Number(uid[1]));
        else if (/^\S+ NO \[UNAVAILABLE\]/.test(r.tagged)) {
          result.unavailable++;
          await sleep(50);
        } else result.wrong.push(r.tagged);
      } catch (err) {
        // A dropped connection is an error only if the server went away on its own; here it must not.
        result.wrong.push(`connection: ${(err as Error).message}`);
        client?.close();
        client = null;
        await sleep(50);
      }
    }
    client?.close();
    return result;
  })();
  return { stop: () => (stopped = true), done };
}

async function allUids(port: number): Promise<number[]> {
  const { client } = await WireClient.connect('127.0.0.1', port);
  try {
    assert.equal((await client.command('LOGIN alice pw-alice')).status, 'OK');
    await client.command('SELECT INBOX');
    const r = await client.command('UID SEARCH ALL');
    return r.untagged.find((u) => u.text.startsWith('* SEARCH'))!.text.split(' ').slice(2).map(Number);
  } finally {
    client.close();
  }
}

describe('PostgreSQL nodes under faults', { timeout: 240_000 }, () => {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  async function nodes(url: string, count: number): Promise<ServeNode[]> {
    const out: ServeNode[] = [];
    for (let i = 0; i < count; i++) {
      const dir = await nodeDataDir();
      const node = await startServeNode(['--store', 'postgres', '--database-url', url], dir.dir);
      cleanups.push(dir.remove, () => node.stop('SIGKILL'));
      out.push(node);
    }
    return out;
  }

  it('PostgreSQL stopped and started under load: only OK or NO [UNAVAILABLE], then service and IDLE resume', async () => {
    const cluster = await privateCluster();
    cleanups.push(() => cluster.stop());
    const url = await testDatabaseUrl(cluster.adminUrl);
    const [a, b] = await nodes(url, 2);

    // An IDLE session on node a, to hear node b's appends after the restart (LISTEN reconnected).
    const { client: idler } = await WireClient.connect('127.0.0.1', a!.imapPort);
    cleanups.push(() => idler.close());
    assert.equal((await idler.command('LOGIN alice pw-alice')).status, 'OK');
    assert.equal((await idler.command('SELECT INBOX')).status, 'OK');
    idler.write('i IDLE\r\n');
    assert.match((await idler.next()).text, /^\+/);
    const heard: string[] = [];
    idler.onUntagged = (r) => heard.push(r.text);

    const load = [appender(a!.imapPort, 'a1'), appender(a!.imapPort, 'a2'), appender(b!.imapPort, 'b1')];
    await sleep(800);
    cluster.pause('fast'); // terminates every connection, refuses new ones
    await sleep(1500);
    cluster.start();
    await sleep(2500); // pools reconnect on the next command; LISTEN reconnects with backoff
    for (const l of load) l.stop();
    const results = await Promise.all(load.map((l) => l.done));

    console.log(`restart under load: ${results.map((r) => `${r.acked.length} acked, ${r.unavailable} unavailable`).join('; ')}`);
    // A node that went away says why only in its stderr: put it in the failure.
    const why = (): string => `node a exit ${a!.child.exitCode}, stderr: ${a!.stderr().slice(-4000)}\nnode b exit ${b!.child.exitCode}, stderr: ${b!.stderr().slice(-4000)}`;
    for (const r of results) assert.deepEqual(r.wrong, [], `every answer was OK or NO [UNAVAILABLE]; ${why()}`);
    const acked = results.flatMap((r) => r.acked);
    assert.ok(results.some((r) => r.unavailable > 0), 'the outage was noticed');
    assert.equal(new Set(acked).size, acked.length, 'no UID given twice');
    assert.equal(a!.child.exitCode, null, 'node a kept running');
    assert.equal(b!.child.exitCode, null, 'node b kept running');

    // Service resumed: new appends work on both nodes, and node a's IDLE hears node b's.
    const { client: writer } = await WireClient.connect('127.0.0.1', b!.imapPort);
    cleanups.push(() => writer.close());
    assert.equal((await writer.command('LOGIN alice pw-alice')).status, 'OK');
    await sleep(500);
    heard.length = 0; // what node a's own appenders caused is not the point here
    const late = await writer.append('INBOX', '', message('after the restart'));
    const lateUid = Number(/APPENDUID \d+ (\d+)/.exec(late.tagged)?.[1]);
    assert.ok(lateUid > 0, late.tagged);
    const deadline = Date.now() + 15_000;
    while (!heard.some((t) => / EXISTS$/.test(t)) && Date.now() < deadline) await sleep(50);
    assert.ok(heard.some((t) => / EXISTS$/.test(t)), `node a's IDLE heard an EXISTS after the restart (heard: ${heard.join(' | ')})`);

    const present = new Set(await allUids(a!.imapPort));
    for (const uid of [...acked, lateUid]) assert.ok(present.has(uid), `acknowledged UID ${uid} is there`);
  });

  it('a node killed with SIGKILL under load: every APPEND it acknowledged is there on the other node', async () => {
    const url = await testDatabaseUrl();
    const [victim, survivor] = await nodes(url, 2);
    const load = [appender(victim!.imapPort, 'v1'), appender(victim!.imapPort, 'v2'), appender(victim!.imapPort, 'v3')];
    await sleep(1000);
    victim!.child.kill('SIGKILL');
    await victim!.exited;
    for (const l of load) l.stop();
    const results = await Promise.all(load.map((l) => l.done));
    const acked = results.flatMap((r) => r.acked);
    assert.ok(acked.length > 0, 'appends were acknowledged before the kill');
    // The kill ends connections mid-command: those errors are expected; answers before it must be right.
    for (const r of results) for (const w of r.wrong) assert.match(w, /^connection:/);
    const present = new Set(await allUids(survivor!.imapPort));
    for (const uid of acked) assert.ok(present.has(uid), `acknowledged UID ${uid} survived the kill`);
  });
});
