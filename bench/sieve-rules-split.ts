/**
 * `tsx bench/sieve-rules-split.ts [N] [--mb MB] [--rounds R]`: what the 50 rules of the bench script
 * (bench/sieve/fifty-rules.ts) cost in one run of runSieve, split by kind of rule: the script
 * without some of its rules against the whole, over the bench's ten kinds of header. Variants are
 * interleaved call by call (so that load on a shared machine falls on all alike); for each, the
 * median wall time of a call with caches made cold first (MB, default 8, of other memory written
 * between calls, not timed) and the CPU per call of a hot loop (process.cpuUsage over N calls).
 */
import { compileSieve, runSieve, type SieveScript } from '../src/sieve/index.js';
import { FIFTY_RULE_SCRIPT, sieveVariant } from './sieve/fifty-rules.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : dflt;
};
const MB = opt('--mb', 8);
const ROUNDS = opt('--rounds', 3);
const N = Number(args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--')) ?? 3000);

const lines = FIFTY_RULE_SCRIPT.split('\r\n');
const [require_, ...rules] = lines.filter((l) => l !== '');
const pick = (keep: (rule: string, i: number) => boolean): string => `${require_}\r\n${rules.filter(keep).join('\r\n')}\r\n`;
const variants: Record<string, string> = {
  'keep only': `${require_}\r\nkeep;\r\n`,
  'last rule (addflag $Bench)': pick((_, i) => i === 49),
  'no list-id rules': pick((_, i) => i >= 10),
  'no partner rules': pick((_, i) => i < 10 || i >= 20),
  'no ticket rules': pick((_, i) => i < 20 || i >= 30),
  'no alerts rules': pick((_, i) => i < 30 || i >= 40),
  'no envelope rules': pick((_, i) => i < 40 || i >= 45),
  'no invoice rules': pick((_, i) => i < 45 || i >= 49),
  'no address rules': pick((_, i) => (i < 10 || i >= 20) && (i < 30 || i >= 40) && (i < 45 || i >= 49)),
  'all 50': FIFTY_RULE_SCRIPT,
};
const scripts: Array<[string, SieveScript]> = Object.entries(variants).map(([name, text]) => {
  const c = compileSieve(text);
  if (!c.ok) throw new Error(`${name}: ${JSON.stringify(c.errors)}`);
  return [name, c.script];
});

const head = 'From: Bench <bench@bench.test>\r\nTo: users@bench.test\r\nSubject: delivery benchmark\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n';
const headers = Array.from({ length: 1000 }, (_, i) => Buffer.from(`Return-Path: <bench@bench.test>\r\nX-Bench: split-${i}\r\n${sieveVariant(i)}${sieveVariant(i).startsWith('Subject:') ? head.replace(/^Subject: .*\r\n/m, '') : head}`));
const LIMITS = {};
const env = (header: Buffer) => ({ envelope: { from: 'bench@bench.test', to: 'user1@bench.test' }, header, body: async () => Buffer.alloc(0), size: 10240, mailboxExists: async () => true, now: new Date(), userAddresses: ['user1@bench.test'] });

const other = new Float64Array((MB << 20) / 8);
let sink = 0;
function flush(i: number): void {
  for (let j = 0; j < other.length; j += 8) other[j] = j + i;
  sink += other[i & 1023]!;
}
// Warm-up: every variant hot, so that the JIT has settled for all.
for (let i = 0; i < 20000; i++) for (const [, s] of scripts) await runSieve(s, env(headers[i % 1000]!), LIMITS);

const cold = new Map<string, number[]>(scripts.map(([n]) => [n, []]));
const hot = new Map<string, number[]>(scripts.map(([n]) => [n, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (let i = 0; i < N; i++) {
    for (const [name, s] of scripts) {
      flush(i);
      const t0 = performance.now();
      await runSieve(s, env(headers[i % 1000]!), LIMITS);
      cold.get(name)!.push((performance.now() - t0) * 1000);
    }
  }
  for (const [name, s] of scripts) {
    const u0 = process.cpuUsage();
    for (let i = 0; i < N; i++) await runSieve(s, env(headers[i % 1000]!), LIMITS);
    const u = process.cpuUsage(u0);
    hot.get(name)!.push((u.user + u.system) / N);
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log(`variant | cold median µs (wall, ${MB} MB between calls, ${ROUNDS}×${N}) | hot µs CPU per call (each round)`);
for (const [name] of scripts) console.log(`${name} | ${median(cold.get(name)!).toFixed(2)} | ${hot.get(name)!.map((x) => x.toFixed(2)).join(', ')}`);
if (sink === -1) console.log(sink);
