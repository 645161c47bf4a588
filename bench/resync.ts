/**
 * `npm run bench:resync [-- --quick] [--messages N] [--flags F] [--expunges E] [--repeat R]`
 * A client that knows a large mailbox (default 100,000 messages) reconnects after another session
 * changed the flags of F messages (1,000) and expunged E (100). How many bytes the server sends and
 * how long it takes until the client's cache (UID → flags) is in sync, three ways:
 *   - QRESYNC:   ENABLE QRESYNC, EXAMINE INBOX (QRESYNC (uidvalidity modseq)) — one round trip;
 *   - CONDSTORE: EXAMINE (CONDSTORE), UID FETCH 1:* (FLAGS) (CHANGEDSINCE m), UID SEARCH ALL for
 *                the expunges;
 *   - plain:     EXAMINE, UID FETCH 1:* (FLAGS) — everything again.
 * Postroom (SqliteStore) and Dovecot (Maildir) are seeded alike (bench/servers) and measured in
 * the same run, over plaintext loopback for both. Each resynchronised cache is checked against a
 * full fetch: a fast wrong answer fails the run.
 */
import net from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_TMP, PASSWORD, type SeedSpec } from './servers/common.js';
import { startPostroom, type RunningServer } from './servers/postroom.js';
import { dovecotVersion, ensureDovecot, startDovecot } from './servers/dovecot.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    messages: { type: 'string' },
    flags: { type: 'string' },
    expunges: { type: 'string' },
    repeat: { type: 'string' },
  },
});
const MESSAGES = Number(values.messages ?? (values.quick ? 5_000 : 100_000));
const FLAGS = Number(values.flags ?? (values.quick ? 100 : 1_000));
const EXPUNGES = Number(values.expunges ?? (values.quick ? 10 : 100));
const REPEAT = Number(values.repeat ?? 3);
const USER = `resync${MESSAGES}`;

/** A bare IMAP client over one socket that counts the bytes it receives. */
class Wire {
  private buf = '';
  private waiting: (() => void) | null = null;
  received = 0;
  private closed = false;
  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.received += d.length;
      this.buf += d;
      this.waiting?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiting?.();
    });
  }

  static async open(port: number): Promise<Wire> {
    const socket = net.connect({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const w = new Wire(socket);
    await w.line();
    return w;
  }

  private async line(): Promise<string> {
    for (;;) {
      const i = this.buf.indexOf('\r\n');
      if (i >= 0) {
        const l = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 2);
        return l;
      }
      if (this.closed) throw new Error('connection closed');
      await new Promise<void>((r) => (this.waiting = r));
      this.waiting = null;
    }
  }

  private tag = 0;
  /** Sends a command, returns its untagged lines; throws unless it ends OK. */
  async run(command: string): Promise<string[]> {
    const tag = `t${++this.tag}`;
    this.socket.write(`${tag} ${command}\r\n`);
    const lines: string[] = [];
    for (;;) {
      const l = await this.line();
      if (l.startsWith(`${tag} `)) {
        if (!l.startsWith(`${tag} OK`)) throw new Error(`${command.slice(0, 60)}: ${l}`);
        return lines;
      }
      lines.push(l);
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

type Cache = Map<number, string>;

const FETCH_RE = /^\* \d+ FETCH \((.*)\)$/;
function fetchEntry(line: string): [number, string] | null {
  const m = FETCH_RE.exec(line);
  if (!m) return null;
  const uid = /UID (\d+)/.exec(m[1]!);
  const flags = /FLAGS \(([^)]*)\)/.exec(m[1]!);
  if (!uid || !flags) return null;
  return [Number(uid[1]), flags[1]!.split(' ').filter((f) => f && f !== '\\Recent').sort().join(' ')];
}

function expandSet(set: string): number[] {
  const out: number[] = [];
  for (const part of set.split(',')) {
    const [a, b] = part.split(':').map(Number) as [number, number | undefined];
    for (let n = a; n <= (b ?? a); n++) out.push(n);
  }
  return out;
}

async function login(port: number): Promise<Wire> {
  const w = await Wire.open(port);
  await w.run(`LOGIN ${USER} ${PASSWORD}`);
  return w;
}

/** The full state: what plain resync produces, and what every other way must equal. */
async function fullFetch(w: Wire, cache: Cache): Promise<void> {
  cache.clear();
  for (const l of await w.run('UID FETCH 1:* (FLAGS)')) {
    const e = fetchEntry(l);
    if (e) cache.set(e[0], e[1]);
  }
}

interface Baseline {
  cache: Cache;
  uidValidity: number;
  modseq: number;
}

async function baseline(port: number): Promise<Baseline> {
  const w = await login(port);
  const sel = (await w.run('EXAMINE INBOX (CONDSTORE)')).join('\n');
  const cache: Cache = new Map();
  await fullFetch(w, cache);
  w.close();
  return {
    cache,
    uidValidity: Number(/UIDVALIDITY (\d+)/.exec(sel)![1]),
    modseq: Number(/HIGHESTMODSEQ (\d+)/.exec(sel)![1]),
  };
}

/** Another session: F flag changes and E expunges, spread over the mailbox. */
async function mutate(port: number, uids: number[]): Promise<void> {
  const w = await login(port);
  await w.run('SELECT INBOX');
  const step = Math.floor(uids.length / (FLAGS + EXPUNGES));
  const picked = uids.filter((_, i) => i % step === 0).slice(0, FLAGS + EXPUNGES);
  const flagged = picked.filter((_, i) => i % ((FLAGS + EXPUNGES) / EXPUNGES) !== 0).slice(0, FLAGS);
  const doomed = picked.filter((u) => !flagged.includes(u)).slice(0, EXPUNGES);
  for (let i = 0; i < flagged.length; i += 100) await w.run(`UID STORE ${flagged.slice(i, i + 100).join(',')} +FLAGS.SILENT (\\Flagged)`);
  await w.run(`UID STORE ${doomed.join(',')} +FLAGS.SILENT (\\Deleted)`);
  await w.run(`UID EXPUNGE ${doomed.join(',')}`);
  w.close();
}

type Mode = 'QRESYNC' | 'CONDSTORE' | 'plain';

/** Reconnects from the baseline; returns bytes received and ms until the cache is in sync. */
async function resync(port: number, mode: Mode, base: Baseline, truth: Cache): Promise<{ bytes: number; ms: number }> {
  const started = performance.now();
  const w = await login(port);
  const cache: Cache = new Map(base.cache);
  const apply = (lines: string[]): void => {
    for (const l of lines) {
      const v = /^\* VANISHED \(EARLIER\) (\S+)$/.exec(l);
      if (v) for (const uid of expandSet(v[1]!)) cache.delete(uid);
      const e = fetchEntry(l);
      if (e) cache.set(e[0], e[1]);
    }
  };
  if (mode === 'QRESYNC') {
    await w.run('ENABLE QRESYNC');
    apply(await w.run(`EXAMINE INBOX (QRESYNC (${base.uidValidity} ${base.modseq}))`));
  } else if (mode === 'CONDSTORE') {
    await w.run('EXAMINE INBOX (CONDSTORE)');
    apply(await w.run(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${base.modseq})`));
    const search = (await w.run('UID SEARCH ALL')).find((l) => l.startsWith('* SEARCH'))!;
    const present = new Set(search.split(' ').slice(2).map(Number));
    for (const uid of [...cache.keys()]) if (!present.has(uid)) cache.delete(uid);
  } else {
    await w.run('EXAMINE INBOX');
    await fullFetch(w, cache);
  }
  const ms = performance.now() - started;
  const bytes = w.received;
  w.close();
  if (cache.size !== truth.size) throw new Error(`${mode}: ${cache.size} messages after resync, ${truth.size} on the server`);
  for (const [uid, flags] of truth) if (cache.get(uid) !== flags) throw new Error(`${mode}: UID ${uid} has "${cache.get(uid)}", server "${flags}"`);
  return { bytes, ms };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(server: RunningServer): Promise<Record<Mode, { bytes: number; ms: number }>> {
  const base = await baseline(server.port);
  await mutate(server.port, [...base.cache.keys()]);
  const truth: Cache = new Map();
  const w = await login(server.port);
  await w.run('EXAMINE INBOX');
  await fullFetch(w, truth);
  w.close();
  if (truth.size !== base.cache.size - EXPUNGES) throw new Error(`${server.name}: expected ${base.cache.size - EXPUNGES} messages, found ${truth.size}`);
  const out = {} as Record<Mode, { bytes: number; ms: number }>;
  for (const mode of ['QRESYNC', 'CONDSTORE', 'plain'] as const) {
    const runs = [];
    for (let i = 0; i < REPEAT; i++) runs.push(await resync(server.port, mode, base, truth));
    out[mode] = { bytes: median(runs.map((r) => r.bytes)), ms: median(runs.map((r) => r.ms)) };
  }
  return out;
}

async function main(): Promise<void> {
  ensureDovecot();
  const spec: SeedSpec = { users: { [USER]: MESSAGES } };
  console.log(`resync: ${MESSAGES} messages, ${FLAGS} flag changes and ${EXPUNGES} expunges by another session; median of ${REPEAT}; Dovecot ${dovecotVersion()}`);
  const results: Array<[string, Record<Mode, { bytes: number; ms: number }>]> = [];
  const starters: Array<[string, () => Promise<RunningServer>]> = [
    ['Postroom', () => startPostroom({ runDir: join(BENCH_TMP, 'run', 'resync-p'), spec })],
    ['Dovecot', () => startDovecot({ runDir: join(BENCH_TMP, 'run', 'resync-d'), spec, highPerformanceLogin: false, hibernateSeconds: 0, maxConnections: 100 })],
  ];
  for (const [name, start] of starters) {
    const server = await start();
    try {
      results.push([name, await measure(server)]);
    } finally {
      await server.stop();
    }
  }
  const kb = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;
  console.log('\n| server | mode | bytes received | time to in sync |');
  console.log('|---|---|---:|---:|');
  for (const [name, r] of results) for (const mode of ['QRESYNC', 'CONDSTORE', 'plain'] as const) console.log(`| ${name} | ${mode} | ${kb(r[mode].bytes)} | ${r[mode].ms.toFixed(0)} ms |`);
  const [p, d] = [results[0]![1], results[1]![1]];
  console.log('\nPostroom / Dovecot:');
  for (const mode of ['QRESYNC', 'CONDSTORE', 'plain'] as const) {
    console.log(`  ${mode}: bytes ${(p[mode].bytes / d[mode].bytes).toFixed(2)}x, time ${(p[mode].ms / d[mode].ms).toFixed(2)}x`);
  }
}

await main();
