/**
 * `tsx bench/profile-summary.ts FILE.cpuprofile [N]`: the functions with the most self time in a
 * `node --cpu-prof` profile, and the same summed per source file — what RESULTS.md quotes.
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const [file, top = '25'] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file!, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

const short = (url: string): string => url.replace(/^file:\/\/.*?\/(src|node_modules|bench)\//, '$1/').replace(/^node:/, 'node:') || '(native)';
const fn = new Map<string, number>();
const files = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  const key = `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  fn.set(key, (fn.get(key) ?? 0) + us);
  const f = short(n.callFrame.url);
  files.set(f, (files.get(f) ?? 0) + us);
}
const pct = (us: number): string => `${((100 * us) / total).toFixed(1)}%`.padStart(6);
process.stdout.write(`profile ${file}: ${(total / 1e6).toFixed(1)} s sampled\n\nself time by function:\n`);
for (const [k, us] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) process.stdout.write(`${pct(us)}  ${k}\n`);
process.stdout.write('\nself time by file:\n');
for (const [k, us] of [...files].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) process.stdout.write(`${pct(us)}  ${k}\n`);
