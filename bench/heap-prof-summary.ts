/**
 * `tsx bench/heap-prof-summary.ts FILE [N]`: where the bytes of a sampling heap profile
 * (POSTROOM_BENCH_HEAP_PROF, bench/servers/postroom-main.ts — collected objects included) were
 * allocated: by function, by the nearest frame in src/ (the project code that asked for them,
 * whether it allocated itself or through Node or a library), and inclusive per src/ function.
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: Node[];
}

const [file, top = '30'] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file!, 'utf8')) as { head: Node };
const short = (url: string): string => url.replace(/^file:\/\/.*?\/(src|node_modules|bench)\//, '$1/') || '(native)';
const name = (n: Node): string => `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
const isSrc = (n: Node): boolean => /\/src\//.test(n.callFrame.url);

const self = new Map<string, number>();
const nearestSrc = new Map<string, number>();
const inclusive = new Map<string, number>();
let total = 0;
const add = (m: Map<string, number>, k: string, v: number): void => void m.set(k, (m.get(k) ?? 0) + v);

function walk(n: Node, stack: Node[]): void {
  stack.push(n);
  if (n.selfSize > 0) {
    total += n.selfSize;
    add(self, name(n), n.selfSize);
    const src = [...stack].reverse().find(isSrc);
    add(nearestSrc, src ? name(src) : '(no src frame)', n.selfSize);
    for (const k of new Set(stack.filter(isSrc).map(name))) add(inclusive, k, n.selfSize);
  }
  for (const c of n.children) walk(c, stack);
  stack.pop();
}
walk(profile.head, []);

const mb = (b: number): string => `${(b / 1048576).toFixed(1)} MB`.padStart(9);
const pct = (b: number): string => `${((100 * b) / total).toFixed(1)}%`.padStart(6);
const print = (title: string, m: Map<string, number>): void => {
  process.stdout.write(`\n${title}:\n`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) process.stdout.write(`${pct(v)} ${mb(v)}  ${k}\n`);
};
process.stdout.write(`heap profile ${file}: ${(total / 1048576).toFixed(1)} MB sampled\n`);
print('self, by function', self);
print('by the nearest src/ frame', nearestSrc);
print('inclusive, by src/ function', inclusive);
