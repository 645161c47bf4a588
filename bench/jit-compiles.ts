/**
 * `npx tsx bench/jit-compiles.ts FILE [--from MS --to MS] [--top N]`
 *
 * What V8's optimizing compiler did in a server, from its `--trace-opt` lines: how many TurboFan
 * compiles, how much compiler time (the middle of the three "took a, b, c ms" figures is the part on
 * a background thread), and how many of them compiled a function (SharedFunctionInfo) that had been
 * compiled before. A repeat without a deopt is the mark of a closure created anew per call — per
 * command, per FETCH — whose optimized code is kept on the shared feedback vector only weakly: once
 * the closures that used it are collected, the next one runs unoptimized until it is found hot again
 * and compiled again, for as long as the server runs. Counts, not times: they do not depend on the
 * machine's load.
 *
 * FILE: what the server printed, e.g. `POSTROOM_BENCH_STDOUT=FILE npx tsx bench/p99-sched.ts
 * --servers postroom --node-args="--trace-opt"`, or `bench:append --node-args="--trace-opt"
 * --server-stdout FILE` (whose lines start with the wall clock in ms: `--from`/`--to` keep a window,
 * e.g. the measured APPENDs' from `--detail`).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { from: { type: 'string' }, to: { type: 'string' }, top: { type: 'string', default: '15' } } });
const file = positionals[0];
if (!file) throw new Error('usage: jit-compiles.ts FILE [--from MS --to MS] [--top N]');
const from = values.from ? Number(values.from) : -Infinity;
const to = values.to ? Number(values.to) : Infinity;

interface Compile {
  name: string;
  sfi: string;
  backgroundMs: number;
  mainMs: number;
  /** Compiles of the same function before this one. */
  earlier: number;
}
const seen = new Map<string, number>();
const inWindow: Compile[] = [];
let deopts = 0;
for (const line of readFileSync(file, 'utf8').split('\n')) {
  const stamp = /^(\d{13}) /.exec(line);
  const t = stamp ? Number(stamp[1]) : undefined;
  const inside = t === undefined || (t >= from && t <= to);
  if (inside && /\[bailout \(kind: deopt-(eager|soft)/.test(line)) deopts++;
  const m = /\[completed compiling \S+ <JSFunction (\S*) \(sfi = (\w+)\)> \(target TURBOFAN\).*took ([\d.]+), ([\d.]+), ([\d.]+) ms/.exec(line);
  if (!m) continue;
  const sfi = m[2]!;
  const earlier = seen.get(sfi) ?? 0;
  seen.set(sfi, earlier + 1);
  if (inside) inWindow.push({ name: m[1] || '(anonymous)', sfi, backgroundMs: Number(m[4]), mainMs: Number(m[3]) + Number(m[5]), earlier });
}

const sum = (cs: Compile[], k: 'backgroundMs' | 'mainMs'): number => cs.reduce((n, c) => n + c[k], 0);
const first = inWindow.filter((c) => c.earlier === 0);
const repeat = inWindow.filter((c) => c.earlier > 0);
const f = (n: number): string => n.toFixed(0);
process.stdout.write(`TurboFan compiles: ${inWindow.length} (${f(sum(inWindow, 'backgroundMs'))} ms on background threads, ${f(sum(inWindow, 'mainMs'))} ms on the main thread); eager/soft deopts: ${deopts}\n`);
process.stdout.write(`- first compiles of a function: ${first.length}, ${f(sum(first, 'backgroundMs'))} ms\n`);
process.stdout.write(`- repeats (the function compiled before): ${repeat.length}, ${f(sum(repeat, 'backgroundMs'))} ms\n`);
const byName = new Map<string, { n: number; ms: number }>();
for (const c of repeat) {
  const key = `${c.name} (${c.sfi.slice(-6)})`;
  const e = byName.get(key) ?? { n: 0, ms: 0 };
  e.n++;
  e.ms += c.backgroundMs;
  byName.set(key, e);
}
const top = Number(values.top);
process.stdout.write(`- most repeated: ${[...byName.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, top).map(([k, e]) => `${k} ×${e.n} ${f(e.ms)} ms`).join('; ') || 'none'}\n`);
process.stdout.write(`- costliest compiles: ${[...inWindow].sort((a, b) => b.backgroundMs - a.backgroundMs).slice(0, top).map((c) => `${c.name} ${c.backgroundMs.toFixed(1)} ms${c.earlier ? ` (repeat ${c.earlier})` : ''}`).join('; ')}\n`);
