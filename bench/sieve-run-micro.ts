import { compileSieve, runSieve } from '../src/sieve/index.js';
import { FIFTY_RULE_SCRIPT, sieveVariant } from './sieve/fifty-rules.js';
const c = compileSieve(FIFTY_RULE_SCRIPT); if (!c.ok) throw new Error();
const head = 'From: Bench <bench@bench.test>\r\nTo: users@bench.test\r\nSubject: delivery benchmark\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n';
const hs = Array.from({length: 10}, (_, i) => Buffer.from(`X-Bench: x-${i}\r\n${sieveVariant(i)}${sieveVariant(i).startsWith('Subject:') ? head.replace(/^Subject: .*\r\n/m, '') : head}`));
const env = (header: Buffer) => ({ envelope: { from: 'bench@bench.test', to: 'user1@bench.test' }, header, body: async () => Buffer.alloc(0), size: 10240, mailboxExists: async () => true, now: new Date(), userAddresses: ['user1@bench.test'] });
const N = Number(process.argv[2] ?? 20000);
for (let k = 0; k < 3; k++) {
  const s = process.cpuUsage();
  for (let i = 0; i < N; i++) await runSieve(c.script, env(hs[i % 10]!));
  const u = process.cpuUsage(s);
  console.log(`runSieve avg over the 10 kinds: ${((u.user + u.system) / N).toFixed(1)} µs`);
}
