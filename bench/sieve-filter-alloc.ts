/**
 * `node --heap-prof --heap-prof-interval 256 --import tsx bench/sieve-filter-alloc.ts [N]`, or plain
 * `tsx` for the CPU figure: the Sieve filter step of one delivery (createSieveFilter, the 50-rule
 * script of bench/sieve/fifty-rules.ts, a SQLite user) run N times over headers that differ in
 * every call, as deliveries' do — what one run costs in CPU and allocates (the garbage the
 * collector then takes CPU to clear, part of it on V8's helper threads).
 */
import { benchHeader, openFilterBench } from './sieve/filter-bench.js';

const N = Number(process.argv[2] ?? 20000);
const bench = await openFilterBench('sieve-filter-alloc');
const run = (seq: number) => bench.run(benchHeader(seq));
for (let i = 0; i < 2000; i++) await run(i);
for (let k = 0; k < 3; k++) {
  const start = process.cpuUsage();
  for (let i = 0; i < N; i++) await run(i);
  const used = process.cpuUsage(start);
  process.stdout.write(`filter step: ${((used.user + used.system) / N).toFixed(1)} µs CPU per delivery (all threads)\n`);
}
await bench.close();
