/**
 * Memory per idle connection: start a server, measure PSS over its process tree, open N
 * connections that LOGIN, SELECT INBOX and IDLE, let it settle, measure again; then APPEND one
 * message per user from another connection and count the IDLE sessions that heard EXISTS.
 *
 * With `secondBatch`, a second batch of that many connections is opened after the first has settled,
 * and memory is read again once it has settled too: the slope between the two plateaus is what one
 * more connection costs, without the one-time growth the first batch brings (heap and allocator
 * arenas grown by the handshakes and logins, kept afterwards) — for a server that grows once, the
 * figure from the baseline overstates the cost of each connection.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { LoadRun } from './load/run-load.js';
import { WireClient } from './load/wire-client.js';
import { benchMessage } from './load/messages.js';
import { PASSWORD } from './servers/common.js';
import { treeMemory, type TreeMemory } from './servers/memory.js';
import type { RunningServer } from './servers/postroom.js';

const INOTIFY = '/proc/sys/fs/inotify/max_user_instances';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface IdleResult {
  held: number;
  before: TreeMemory;
  after: TreeMemory;
  notified: number;
  openSeconds: number;
  /** With `secondBatch`: memory after both batches settled, and how many the second batch held. */
  second?: { held: number; after: TreeMemory };
  /** How each plateau was read (baseline, first batch, second batch): seconds waited, and whether PSS had stopped moving. */
  plateaus: Plateau[];
}

export interface IdleOptions {
  start: () => Promise<RunningServer>;
  connections: number;
  /** The idle sessions connect to the server's implicit-TLS port (RunningServer.tlsPort). */
  tls?: boolean;
  users: string[];
  settleSeconds: number;
  /** How long IDLE sessions get to hear about the appended messages. */
  notifySeconds: number;
  workers: number;
  /** Connections in a second batch opened after the first settled (the slope between plateaus). */
  secondBatch?: number;
  /**
   * With a value, each plateau (the baseline too) is read only once PSS has stopped moving: sampled
   * every 5 s from `settleSeconds` on, until the samples of the last 30 s lie within 1 MB or 1 % of
   * each other, or this many seconds have passed. A fixed wait reads a server in the middle of giving
   * memory back (V8 shrinks its heap in steps after a burst; Dovecot's sessions move to
   * imap-hibernate over tens of seconds under load), and the next plateau then looks cheaper or
   * dearer than it is.
   */
  settleMaxSeconds?: number;
}

/** One plateau: PSS when read, and how long the wait for it was. */
export interface Plateau {
  memory: TreeMemory;
  seconds: number;
  /** False when settleMaxSeconds ran out before PSS stopped moving. */
  stable: boolean;
}

const SAMPLE_MS = 5_000;
const STABLE_WINDOW_SAMPLES = 7; // 30 s of samples 5 s apart

async function settle(pid: number, minSeconds: number, maxSeconds: number | undefined): Promise<Plateau> {
  const t0 = performance.now();
  await sleep(minSeconds * 1000);
  if (maxSeconds === undefined) return { memory: treeMemory(pid), seconds: minSeconds, stable: true };
  const window: number[] = [];
  for (;;) {
    const memory = treeMemory(pid);
    window.push(memory.pssBytes);
    if (window.length > STABLE_WINDOW_SAMPLES) window.shift();
    const seconds = (performance.now() - t0) / 1000;
    if (window.length === STABLE_WINDOW_SAMPLES) {
      const spread = Math.max(...window) - Math.min(...window);
      if (spread <= Math.max(1 << 20, memory.pssBytes * 0.01)) return { memory, seconds, stable: true };
    }
    if (seconds >= maxSeconds) return { memory, seconds, stable: false };
    await sleep(SAMPLE_MS);
  }
}

/**
 * Dovecot's IDLE uses one inotify instance per imap process, all under one uid, and the kernel
 * allows 128 by default: raise it for the run and put the old value back after.
 */
function raiseInotify(min: number): () => void {
  let old: string;
  try {
    old = readFileSync(INOTIFY, 'utf8').trim();
  } catch {
    return () => undefined;
  }
  if (Number(old) >= min) return () => undefined;
  try {
    writeFileSync(INOTIFY, String(min));
  } catch {
    process.stderr.write(`could not raise ${INOTIFY} to ${min}; Dovecot will fall back to polling\n`);
    return () => undefined;
  }
  return () => writeFileSync(INOTIFY, old);
}

async function appendOnePerUser(port: number, users: string[]): Promise<void> {
  for (const [i, user] of users.entries()) {
    const { client } = await WireClient.connect('127.0.0.1', port);
    await client.command(`LOGIN ${user} ${PASSWORD}`);
    await client.append('INBOX', '', benchMessage(7_000_000 + i, 'notify'));
    await client.command('LOGOUT');
    client.close();
  }
}

/**
 * Every user logs in, selects INBOX, idles and logs out once before the baseline is read, so that
 * what a server sets up once (compiled code, caches, index files) is not counted per connection.
 */
async function warmUp(port: number, users: string[], tls: boolean): Promise<void> {
  await Promise.all(
    users.map(async (user) => {
      const { client } = await WireClient.connect('127.0.0.1', port, 30_000, { tls });
      await client.command(`LOGIN ${user} ${PASSWORD}`);
      await client.command('SELECT INBOX');
      const tag = client.nextTag();
      client.write(`${tag} IDLE\r\n`);
      await client.next(10_000);
      client.write('DONE\r\n');
      await client.complete(tag, 10_000);
      await client.command('LOGOUT');
      client.close();
    }),
  );
}

export async function idleMemory(o: IdleOptions): Promise<IdleResult> {
  const restore = raiseInotify(o.connections + 1024);
  const server = await o.start();
  let run: LoadRun | undefined;
  let run2: LoadRun | undefined;
  try {
    const idlePort = o.tls ? server.tlsPort : server.port;
    if (idlePort === undefined) throw new Error(`${server.name} has no TLS port`);
    await warmUp(idlePort, o.users, o.tls === true);
    // The baseline gets the same time to settle as the measurement after it (a garbage-collected
    // server shrinks while idle; counting that against the connections would flatter it).
    const plateaus: Plateau[] = [await settle(server.pid, Math.max(2, o.settleSeconds), o.settleMaxSeconds)];
    const before = plateaus[0]!.memory;
    const t0 = performance.now();
    const batch = (clients: number, seed: number): LoadRun =>
      new LoadRun({
        host: '127.0.0.1',
        port: idlePort,
        ...(o.tls ? { tls: true } : {}),
        users: o.users,
        password: PASSWORD,
        clients,
        seconds: 0,
        workers: o.workers,
        scenario: 'idle',
        seed,
        connectConcurrency: 40,
      });
    run = batch(o.connections, 5);
    const held = await run.whenHolding();
    const openSeconds = (performance.now() - t0) / 1000;
    plateaus.push(await settle(server.pid, o.settleSeconds, o.settleMaxSeconds));
    const after = plateaus[1]!.memory;
    let second: IdleResult['second'];
    if (o.secondBatch) {
      run2 = batch(o.secondBatch, 6);
      const held2 = await run2.whenHolding();
      plateaus.push(await settle(server.pid, o.settleSeconds, o.settleMaxSeconds));
      second = { held: held2, after: plateaus[2]!.memory };
    }
    await appendOnePerUser(server.port, o.users);
    await sleep(o.notifySeconds * 1000);
    run.stop();
    run2?.stop();
    const result = await run.result();
    const notified = result.notified + (run2 ? (await run2.result()).notified : 0);
    return { held, before, after, notified, openSeconds, plateaus, ...(second ? { second } : {}) };
  } finally {
    run?.kill();
    run2?.kill();
    await server.stop();
    restore();
  }
}
