/**
 * `npx tsx bench/after-idle.ts [--rounds 2000] [--seq E-LIST,LIST,S-LIST,E-NOOP,NOOP] [--trees A,B]
 *   [--run-name NAME] [--trace DIR] [--node-args "FLAGS"] [--wrap "perf record … --"]`
 *
 * Is a command slower right after the session slept? One persistent client against Postroom (the
 * compiled server, on the bench's seeded data), each round the steps of `--seq` in turn, every step
 * timed alone, so that both kinds of a command meet the same load of the machine:
 *   CMD    after a NOOP (the server and client were busy a moment before)
 *   E-CMD  after APPEND + UID STORE +FLAGS.SILENT (\Deleted) + EXPUNGE — the end of a round of the
 *          persistent-1 mix, after which its next round starts with LIST: the session slept through
 *          the EXPUNGE's WAL fdatasync
 *   S-CMD  after a NOOP and a 1 ms pause of the client (the session slept, nothing was written)
 *   B-CMD  after a NOOP and 1 ms of the client spinning (the server slept, the client stayed on its core)
 *   F-CMD  after a UID STORE of a flag (its sync runs in the background)
 * with CMD one of LIST ("" "*"), STATUS (Archive, as the mix asks), NOOP. Prints p50/p90/p99 per
 * step and the load average. `--trees`: each tree's server in turn, rounds split over them (A B A B
 * by run). `--trace DIR` also writes the server's tails trace and a client trace in the format
 * bench/tails-profile.ts joins with a CPU profile (`--node-args "--cpu-prof --cpu-prof-dir P"`);
 * `--wrap` runs the server under a wrapper such as `perf record -g --clockid=CLOCK_MONOTONIC -o F --`.
 * Wall-clock, so NOISY on a loaded machine: compare the kinds within one run, not runs between them.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { WireClient } from './load/wire-client.js';
import { benchMessage } from './load/messages.js';
import { BENCH_TMP, PASSWORD, mixedUsers } from './servers/common.js';
import type { RunningServer } from './servers/postroom.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2000' },
    seq: { type: 'string', default: 'E-LIST,LIST,S-LIST,E-STATUS,STATUS,E-NOOP,NOOP' },
    trees: { type: 'string', default: '.' },
    'run-name': { type: 'string', default: 'after-idle' },
    trace: { type: 'string' },
    'node-args': { type: 'string' },
    wrap: { type: 'string' },
  },
});
const ROUNDS = Number(values.rounds);
const STEPS = values.seq.split(',');
const trees = values.trees.split(',').map((t) => resolve(t));
const spec = mixedUsers(20, 1_000);
const COMMANDS: Record<string, string> = { LIST: 'LIST "" "*"', STATUS: 'STATUS Archive (MESSAGES UIDNEXT UNSEEN)', NOOP: 'NOOP' };

interface Entry {
  name: string;
  sent: number;
  answered: number;
  done: number;
  active: number;
}

async function runTree(tree: string, label: string, rounds: number, seed: number, lat: Map<string, number[]>): Promise<void> {
  const mod = (await import(pathToFileURL(join(tree, 'bench/servers/postroom.ts')).href)) as typeof import('./servers/postroom.js');
  const dir = join(BENCH_TMP, 'run', values['run-name']);
  rmSync(dir, { recursive: true, force: true });
  if (values.trace) {
    mkdirSync(values.trace, { recursive: true });
    process.env.POSTROOM_BENCH_TAILS = '1';
    process.env.POSTROOM_BENCH_TRACE_DIR = values.trace;
  }
  const server: RunningServer = await mod.startPostroom({
    runDir: dir,
    spec,
    maxConnections: 10,
    ...(values['node-args'] ? { nodeArgs: values['node-args'].split(' ') } : {}),
    ...(values.wrap ? { wrap: values.wrap.split(' ') } : {}),
  });
  const entries: Entry[] = [];
  try {
    const { client } = await WireClient.connect('127.0.0.1', server.port);
    await client.command(`LOGIN user1 ${PASSWORD}`);
    await client.command('SELECT INBOX');
    for (let i = 0; i < rounds; i++) {
      for (const step of STEPS) {
        const kind = /^[A-Z]-/.test(step) ? step[0] : '';
        const name = kind ? step.slice(2) : step;
        const command = COMMANDS[name];
        if (!command) throw new Error(`--seq: ${step}: LIST, STATUS or NOOP, with E-, S-, B- or F- before it`);
        if (kind === 'E') {
          const c = await client.append('INBOX', '', benchMessage(5_000_000 + seed * 100_000 + i, 'appended'));
          const uid = /APPENDUID \d+ (\d+)/.exec(c.tagged)?.[1];
          if (!uid) throw new Error(`APPEND: ${c.tagged}`);
          await client.command(`UID STORE ${uid} +FLAGS.SILENT (\\Deleted)`);
          await client.command('EXPUNGE');
        } else if (kind === 'F') {
          await client.command(`UID STORE 1 ${i % 2 ? '+' : '-'}FLAGS (\\Flagged)`);
        } else {
          await client.command('NOOP');
          if (kind === 'S') await new Promise((r) => setTimeout(r, 1));
          if (kind === 'B') for (const until = performance.now() + 1; performance.now() < until; );
        }
        const t0 = performance.now();
        const c = await client.command(command);
        const t1 = performance.now();
        if (c.status !== 'OK') throw new Error(`${step}: ${c.tagged}`);
        const key = `${label}${step}`;
        (lat.get(key) ?? lat.set(key, []).get(key)!).push(t1 - t0);
        entries.push({ name: key, sent: performance.timeOrigin + t0, answered: performance.timeOrigin + client.taggedAt, done: performance.timeOrigin + t1, active: 0 });
      }
    }
    client.close();
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  if (values.trace) writeFileSync(join(values.trace, `client-${process.pid}-${seed}.json`), JSON.stringify(entries));
}

const lat = new Map<string, number[]>();
const load0 = loadavg()[0]!;
// Runs of at most 1,000 rounds, trees in turn (A B, B A, …) so drift in the load falls on each.
const runs = Math.max(1, Math.ceil(ROUNDS / 1_000));
for (let r = 0; r < runs; r++) {
  const order = trees.map((_, i) => i);
  if (r % 2 === 1) order.reverse();
  for (const t of order) await runTree(trees[t]!, trees.length > 1 ? `${t === 0 ? 'A' : 'B'} ` : '', Math.ceil(ROUNDS / runs), r * 10 + t, lat);
}
const q = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
process.stdout.write(`load ${load0.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}${trees.length > 1 ? `; A = ${trees[0]}, B = ${trees[1]}` : ''}\n`);
process.stdout.write('| step | n | p50 ms | p90 ms | p99 ms |\n| --- | ---: | ---: | ---: | ---: |\n');
for (const [k, xs] of [...lat.entries()].sort()) process.stdout.write(`| ${k} | ${xs.length} | ${q(xs, 0.5).toFixed(3)} | ${q(xs, 0.9).toFixed(3)} | ${q(xs, 0.99).toFixed(3)} |\n`);
