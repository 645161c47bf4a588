/**
 * `tsx bench/sieve-run-micro.ts [N] [--cold] [--cold-mb MB]`: one run of the 50-rule script (bench/sieve/fifty-rules.ts)
 * over the ten kinds of bench message, N runs in a loop, µs CPU per run. `--cold`: between runs,
 * MB (default 24) of other memory is written (not timed; each run timed on its own; the median
 * run is printed), so that the run meets
 * caches the way it does in the server at one LMTP session — where the rest of a delivery, and
 * while it waits for its fsync other processes, have used them since the last run.
 */
import { compileSieve, runSieve } from '../src/sieve/index.js';
import { FIFTY_RULE_SCRIPT, sieveVariant } from './sieve/fifty-rules.js';
const c = compileSieve(FIFTY_RULE_SCRIPT); if (!c.ok) throw new Error();
const head = 'From: Bench <bench@bench.test>\r\nTo: users@bench.test\r\nSubject: delivery benchmark\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n';
const hs = Array.from({length: 10}, (_, i) => Buffer.from(`X-Bench: x-${i}\r\n${sieveVariant(i)}${sieveVariant(i).startsWith('Subject:') ? head.replace(/^Subject: .*\r\n/m, '') : head}`));
const env = (header: Buffer) => ({ envelope: { from: 'bench@bench.test', to: 'user1@bench.test' }, header, body: async () => Buffer.alloc(0), size: 10240, mailboxExists: async () => true, now: new Date(), userAddresses: ['user1@bench.test'] });
const args = process.argv.slice(2);
const cold = args.includes('--cold');
const mbAt = args.indexOf('--cold-mb');
const MB = mbAt >= 0 ? Number(args[mbAt + 1]) : 24;
const N = Number(args.find((a, i) => !a.startsWith('--') && i !== mbAt + 1) ?? (cold ? 2000 : 20000));
const other = new Float64Array((MB << 20) / 8);
let sink = 0;
for (let k = 0; k < 3; k++) {
  let us = 0;
  const each: number[] = [];
  const s = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    if (cold) {
      for (let j = 0; j < other.length; j += 8) other[j] = j + i; // one write per 64-byte line
      sink += other[i]!;
    }
    const t0 = performance.now();
    await runSieve(c.script, env(hs[i % 10]!));
    const took = (performance.now() - t0) * 1000;
    us += took;
    each.push(took);
  }
  const u = process.cpuUsage(s);
  each.sort((a, b) => a - b);
  console.log(cold ? `runSieve, caches cold (${MB} MB written between runs): median ${each[each.length >> 1]!.toFixed(1)} µs, mean ${(us / N).toFixed(1)} µs (wall of the run alone)` : `runSieve avg over the 10 kinds: ${((u.user + u.system) / N).toFixed(1)} µs`);
}
if (sink === -1) console.log(sink);
