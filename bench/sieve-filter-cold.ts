/**
 * `tsx bench/sieve-filter-cold.ts [N] [--mb MB] [--passes P]`: the Sieve filter step of one
 * delivery (createSieveFilter with the 50-rule script, bench/sieve/fifty-rules.ts, a SQLite user —
 * bench/sieve/filter-bench.ts) with the CPU caches made cold before each call: MB (default 24) of
 * other memory is written between calls (not timed), as the rest of a delivery and other processes
 * do in the server between two runs. Each call is timed on its own (wall, performance.now); the
 * median of each pass is printed (the median, not the mean: on a shared machine a call now and then
 * waits for a core). On a loaded machine these medians move by half from pass to pass; `--callgrind`
 * is the figure to trust there.
 *
 * `--callgrind`: under `valgrind --tool=callgrind --cache-sim=yes --LL=2097152,16,64 node
 * --predictable --single-threaded --import tsx bench/sieve-filter-cold.ts 300 --mb 4 --callgrind`
 * (the simulated last level the size of one core's L2): after the warm-up the counts are zeroed,
 * N calls (each after its flush) are dumped, then N flushes alone; per call, the first dump less
 * the second: instructions and simulated misses, the same for the same code whatever else the
 * machine does. `bench/sieve-filter-cold-callgrind.sh` runs it and prints the figures. What this measures is the fixed part of a run as the server pays it — the
 * code and the objects a run touches, loaded again — which the hot loops of sieve-run-micro.ts and
 * sieve-filter-alloc.ts do not show.
 */
import { benchHeader, openFilterBench } from './sieve/filter-bench.js';

const args = process.argv.slice(2);
const mbAt = args.indexOf('--mb');
const passesAt = args.indexOf('--passes');
const MB = mbAt >= 0 ? Number(args[mbAt + 1]) : 24;
const PASSES = passesAt >= 0 ? Number(args[passesAt + 1]) : 3;
const N = Number(args.find((a, i) => !a.startsWith('--') && (mbAt < 0 || i !== mbAt + 1) && (passesAt < 0 || i !== passesAt + 1)) ?? 1500);

const CALLGRIND = args.includes('--callgrind');
const bench = await openFilterBench(`sieve-filter-cold-${process.pid}`);
const headers = Array.from({ length: N + 2000 }, (_, seq) => benchHeader(seq));
const other = new Float64Array((MB << 20) / 8);
let sink = 0;
/** Writes every 64-byte line of `other` (a function of its own, warmed up with the rest: the same code in both callgrind dumps). */
function flush(i: number): void {
  for (let j = 0; j < other.length; j += 8) other[j] = j + i;
  sink += other[i]!;
}
for (let i = 0; i < 2000; i++) {
  if (i % 10 === 0) flush(i);
  await bench.run(headers[N + i]!); // warm-up: the JIT settles, nothing timed
}
const { execFileSync } = await import('node:child_process');
const callgrind = (flag: string): void => void execFileSync('callgrind_control', [flag, String(process.pid)], { stdio: 'ignore' });
if (CALLGRIND) {
  callgrind('-z');
  for (let i = 0; i < N; i++) {
    flush(i);
    await bench.run(headers[i]!);
  }
  callgrind('-d'); // dump 1: N flushes and calls
  for (let i = 0; i < N; i++) {
    flush(i);
    await undefined;
  }
  callgrind('-d'); // dump 2: N flushes alone
}
for (let pass = 0; pass < (CALLGRIND ? 0 : PASSES); pass++) {
  const each: number[] = [];
  for (let i = 0; i < N; i++) {
    flush(i); // one write per 64-byte line
    const header = headers[i]!;
    const t0 = performance.now();
    await bench.run(header);
    each.push((performance.now() - t0) * 1000);
  }
  each.sort((a, b) => a - b);
  const q = (f: number): string => each[Math.floor(each.length * f)]!.toFixed(1);
  process.stdout.write(`filter step, caches cold (${MB} MB written between calls): median ${q(0.5)} µs, p25 ${q(0.25)}, p75 ${q(0.75)} (wall, ${N} calls)\n`);
}
if (sink === -1) process.stdout.write(`${sink}\n`);
await bench.close();
