/**
 * `tsx bench/sieve-rules-ab.ts --base DIR [N] [--mb MB] [--rounds R]`: one run of the 50-rule script
 * (bench/sieve/fifty-rules.ts) by this checkout's interpreter and by another checkout's (DIR, e.g.
 * an unpacked `git archive` of main), both loaded in this one process and called in turn, call by
 * call, over the bench's kinds of header — so that a shared machine's load falls on both alike.
 * Cold: before each call MB (default 32) of other memory is written (not timed); per side the
 * median wall time of a call, and the median of the paired differences (this − base; each pair
 * two neighbouring calls, their order swapped every other pair). Hot: process.cpuUsage over N
 * calls per side, sides in turn, R rounds. `--script last|all` (default all): the whole script or
 * its last rule alone (what the 49 others cost is the difference).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as here from '../src/sieve/index.js';
import { FIFTY_RULE_SCRIPT, sieveVariant } from './sieve/fifty-rules.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { base: { type: 'string' }, mb: { type: 'string', default: '32' }, rounds: { type: 'string', default: '3' }, script: { type: 'string', default: 'all' } },
});
if (!values.base) throw new Error('--base DIR');
const base = (await import(pathToFileURL(resolve(values.base, 'src/sieve/index.ts')).href)) as typeof here;
const N = Number(positionals[0] ?? 2000);
const MB = Number(values.mb);
const ROUNDS = Number(values.rounds);
const lines = FIFTY_RULE_SCRIPT.split('\r\n').filter((l) => l !== '');
const text = values.script === 'last' ? `${lines[0]}\r\n${lines[lines.length - 1]}\r\n` : FIFTY_RULE_SCRIPT;

type Side = { name: string; run: (h: Buffer) => unknown };
const side = (name: string, lib: typeof here): Side => {
  const c = lib.compileSieve(text);
  if (!c.ok) throw new Error(name);
  const limits = {};
  return { name, run: (header) => lib.runSieveNow(c.script, env(header), limits) };
};
const head = 'From: Bench <bench@bench.test>\r\nTo: users@bench.test\r\nSubject: delivery benchmark\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n';
const headers = Array.from({ length: 1000 }, (_, i) => Buffer.from(`Return-Path: <bench@bench.test>\r\nX-Bench: ab-${i}\r\n${sieveVariant(i)}${sieveVariant(i).startsWith('Subject:') ? head.replace(/^Subject: .*\r\n/m, '') : head}`));
const env = (header: Buffer) => ({ envelope: { from: 'bench@bench.test', to: 'user1@bench.test' }, header, body: async () => Buffer.alloc(0), size: 10240, mailboxExists: async () => true, now: new Date(), userAddresses: ['user1@bench.test'] });
const sides = [side('base', base), side('this', here)];

const other = new Float64Array((MB << 20) / 8);
let sink = 0;
function flush(i: number): void {
  for (let j = 0; j < other.length; j += 8) other[j] = j + i;
  sink += other[i & 1023]!;
}
for (let i = 0; i < 30000; i++) for (const s of sides) s.run(headers[i % 1000]!);
// Both sides must answer alike.
for (let i = 0; i < 10; i++) {
  const [a, b] = sides.map((s) => JSON.stringify(s.run(headers[i]!)));
  if (a !== b) throw new Error(`the sides differ on header ${i}: ${a} / ${b}`);
}
const cold: number[][] = [[], []];
const diffs: number[] = [];
const hot: number[][] = [[], []];
for (let round = 0; round < ROUNDS; round++) {
  for (let i = 0; i < N; i++) {
    const took = [0, 0];
    for (const k of i % 2 === 0 ? [0, 1] : [1, 0]) {
      flush(i);
      const t0 = performance.now();
      sides[k]!.run(headers[i % 1000]!);
      took[k] = (performance.now() - t0) * 1000;
      cold[k]!.push(took[k]!);
    }
    diffs.push(took[1]! - took[0]!);
  }
  for (const k of round % 2 === 0 ? [0, 1] : [1, 0]) {
    const u0 = process.cpuUsage();
    for (let i = 0; i < N * 5; i++) sides[k]!.run(headers[i % 1000]!);
    const u = process.cpuUsage(u0);
    hot[k]!.push((u.user + u.system) / (N * 5));
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log(`script: ${values.script}; cold (${MB} MB written before each call), ${ROUNDS}×${N} calls per side: median µs wall base ${median(cold[0]!).toFixed(2)}, this ${median(cold[1]!).toFixed(2)}; median of paired differences (this − base) ${median(diffs).toFixed(2)} µs`);
console.log(`hot µs CPU per call, each round: base ${hot[0]!.map((x) => x.toFixed(2)).join(', ')}; this ${hot[1]!.map((x) => x.toFixed(2)).join(', ')}`);
if (sink === -1) console.log(sink);
