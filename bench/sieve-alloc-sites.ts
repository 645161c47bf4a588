/**
 * `tsx bench/sieve-alloc-sites.ts [N]`: where the Sieve filter step of a delivery allocates (the
 * 50-rule script, bench/sieve/fifty-rules.ts, headers that differ per call, as in
 * bench/sieve-filter-alloc.ts): V8's sampling heap profiler with collected objects counted, 64-byte
 * interval, over N filter calls after a warm-up; bytes per call by allocating function (self) and
 * by the nearest src/ frame.
 */
import { Session } from 'node:inspector/promises';
import { benchHeader, openFilterBench } from './sieve/filter-bench.js';

const N = Number(process.argv[2] ?? 5000);
const bench = await openFilterBench('sieve-alloc-sites');
const headers = Array.from({ length: N + 2000 }, (_, seq) => benchHeader(seq));
const run = (seq: number) => bench.run(headers[seq]!);
for (let i = 0; i < 2000; i++) await run(N + i);

interface Node {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: Node[];
}
const session = new Session();
session.connect();
await session.post('HeapProfiler.enable');
await session.post('HeapProfiler.startSampling', { samplingInterval: 64, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
for (let i = 0; i < N; i++) await run(i);
const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: Node } };
const short = (url: string): string => url.replace(/^file:\/\/.*?\/(src|node_modules|bench)\//, '$1/') || '(native)';
const name = (n: Node): string => `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
const self = new Map<string, number>();
const nearest = new Map<string, number>();
let all = 0;
const walk = (n: Node, src: string | null): void => {
  const here = /\/src\//.test(n.callFrame.url) ? name(n) : src;
  if (n.selfSize > 0) {
    all += n.selfSize;
    self.set(name(n), (self.get(name(n)) ?? 0) + n.selfSize);
    const k = here ?? '(outside src)';
    nearest.set(k, (nearest.get(k) ?? 0) + n.selfSize);
  }
  for (const c of n.children) walk(c, here);
};
walk(profile.head, null);
process.stdout.write(`${(all / N).toFixed(0)} bytes allocated per filter call (sampled, collected objects included)\n\nby allocating function:\n`);
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) process.stdout.write(`${(v / N).toFixed(0).padStart(7)}  ${k}\n`);
process.stdout.write('\nby nearest src/ frame:\n');
for (const [k, v] of [...nearest].sort((a, b) => b[1] - a[1]).slice(0, 25)) process.stdout.write(`${(v / N).toFixed(0).padStart(7)}  ${k}\n`);
await bench.close();
