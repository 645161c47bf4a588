/**
 * `tsx bench/profile-diff.ts A.cpuprofile MESSAGES_A B.cpuprofile MESSAGES_B [N]`: two `node
 * --cpu-prof` profiles of the same server under different settings (say, without and with a Sieve
 * script), each divided by the messages it handled: µs per message by function, self and inclusive
 * (a function counted once per sample however deep it recurses), sorted by how much more B spends.
 * Where the per-step figures of bench/RESULTS.md come from.
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const short = (url: string): string => url.replace(/^file:\/\/.*?\/(src|node_modules|bench)\//, '$1/') || '(native)';
const keyOf = (n: Node): string => `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;

function perMessage(file: string, messages: number): { self: Map<string, number>; total: Map<string, number>; all: number } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfById = new Map<number, number>();
  p.samples.forEach((id, i) => selfById.set(id, (selfById.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let all = 0;
  for (const [id, us] of selfById) {
    all += us;
    const k = keyOf(byId.get(id)!);
    self.set(k, (self.get(k) ?? 0) + us / messages);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const key = keyOf(byId.get(at)!);
      if (seen.has(key)) continue;
      seen.add(key);
      total.set(key, (total.get(key) ?? 0) + us / messages);
    }
  }
  return { self, total, all: all / messages };
}

const [a, na, b, nb, top = '30'] = process.argv.slice(2);
const A = perMessage(a!, Number(na));
const B = perMessage(b!, Number(nb));
process.stdout.write(`µs per message: A ${A.all.toFixed(0)}, B ${B.all.toFixed(0)}, B−A ${(B.all - A.all).toFixed(0)}\n`);
for (const what of ['self', 'total'] as const) {
  const keys = new Set([...A[what].keys(), ...B[what].keys()]);
  const rows = [...keys].map((k) => [k, A[what].get(k) ?? 0, B[what].get(k) ?? 0] as const).sort((x, y) => y[2] - y[1] - (x[2] - x[1]));
  process.stdout.write(`\n${what} µs/message (A, B, B−A), largest increase first:\n`);
  for (const [k, x, y] of rows.slice(0, Number(top))) process.stdout.write(`${x.toFixed(1).padStart(8)} ${y.toFixed(1).padStart(8)} ${(y - x).toFixed(1).padStart(8)}  ${k}\n`);
}
