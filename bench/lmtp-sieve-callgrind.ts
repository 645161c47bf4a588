/**
 * `npx tsx bench/lmtp-sieve-callgrind.ts [--messages 300] [--warmup 300] [--sessions 1] [--sides none,script]
 * [--base DIR] [--cache-sim] [--keep]`: instructions `postroom serve` executes per LMTP delivery without and
 * with the 50-rule Sieve script (bench/sieve/fifty-rules.ts), counted by valgrind's callgrind — the
 * same for the same code and input whatever else the machine is doing, unlike CPU seconds on a
 * shared machine (bench:lmtp's sieve rows move ±10 % from round to round there).
 *
 * Each side's server runs under callgrind with V8 in `--predictable --single-threaded` mode (its
 * compiles and collections on the main thread, at points that depend on the work, not on timing);
 * it takes `--warmup` deliveries (the script's folders are created, the JIT settles), then counting
 * is zeroed (callgrind_control -z), `--messages` more are delivered over `--sessions` LMTP
 * sessions, and the counts are dumped (-d). The messages are bench:lmtp's sieve rows' (one in ten
 * for a list folder, one in ten to Tickets). `--base DIR`: the same sides from another checkout
 * (an A/B against an earlier commit; DIR needs node_modules). `--cache-sim`: callgrind's cache
 * model as well — first-level and last-level misses per delivery, which instruction counts alone
 * do not show (the run's cost in the server is more its cache misses than its instructions).
 * Instruction counts leave out the time a syscall spends in the kernel (the fdatasync's wait, the
 * WAL's writes).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { UserFile } from '../src/auth/user-file.js';
import { LmtpClient } from '../src/lmtp/client.js';
import { BENCH_TMP, PASSWORD } from './servers/common.js';
import { FIFTY_RULE_SCRIPT, sieveStore, sieveVariant } from './sieve/fifty-rules.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '300' },
    warmup: { type: 'string', default: '300' },
    sessions: { type: 'string', default: '1' },
    sides: { type: 'string', default: 'none,script' },
    base: { type: 'string' },
    'cache-sim': { type: 'boolean', default: false },
    // Keep the callgrind dumps (in .bench-tmp/lmtp-sieve-callgrind) for callgrind_annotate.
    keep: { type: 'boolean', default: false },
    // Counts of the main thread (the event loop) apart: callgrind's --separate-threads=yes, the
    // table's figures are then thread 1's, and the last column every thread's.
    'main-thread': { type: 'boolean', default: false },
  },
});
const MESSAGES = Number(values.messages);
const WARMUP = Number(values.warmup);
const SESSIONS = Number(values.sessions);
const USERS = Array.from({ length: 10 }, (_, i) => `user${i + 1}`);
const work = join(BENCH_TMP, 'lmtp-sieve-callgrind');
if (!values.keep) rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

const SCRIPTS: Record<string, string | null> = {
  none: null,
  script: FIFTY_RULE_SCRIPT,
  flag: 'require "imap4flags";\r\naddflag "$Bench";\r\n',
  // The script's rules with every fileinto made one to INBOX: against 'script', the cost of the other folders.
  inbox: FIFTY_RULE_SCRIPT.replace(/fileinto :create (:flags "\$Invoice" )?"[^"]+"/g, 'fileinto $1"INBOX"'),
};

const head = 'From: Bench <bench@bench.test>\r\nTo: users@bench.test\r\nSubject: delivery benchmark\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n';
const line = 'The quick brown fox jumps over the lazy dog. 0123456789\r\n';
const base = Buffer.from(head + line.repeat(Math.ceil((10 * 1024 - head.length) / line.length)));
const noSubject = Buffer.from(base.toString('latin1').replace(/^Subject: .*\r\n/m, ''), 'latin1');

let seqAll = 0;
async function deliver(port: number, count: number): Promise<void> {
  const clients = await Promise.all(Array.from({ length: SESSIONS }, () => LmtpClient.connect({ host: '127.0.0.1', port }, { timeoutMs: 600_000 })));
  let next = 0;
  // Every side gets the same sequence of messages (the counts compare like with like).
  const first = seqAll;
  await Promise.all(
    clients.map(async (client, s) => {
      while (next < count) {
        const seq = first + next++;
        const variant = sieveVariant(seq);
        const message = Buffer.concat([Buffer.from(`X-Bench: cg-${seq}\r\n${variant}`), variant.startsWith('Subject:') ? noSubject : base]);
        const result = await client.send('bench@bench.test', [{ address: `${USERS[(s + seq) % USERS.length]}@bench.test` }], message);
        if (result.delivery[0]?.code !== 250) throw new Error(`delivery refused: ${JSON.stringify(result)}`);
      }
    }),
  );
  seqAll = first + count;
  await Promise.all(clients.map((c) => c.quit()));
}

interface Counts {
  instructions: number;
  /**
   * The same without V8's optimizing compiles (Compiler::CompileOptimized, inclusive): with
   * --single-threaded they run on the main thread, and hundreds of deliveries after the start
   * they were still most of the count (59 % of a 'none' side's after 400 warm-up deliveries) —
   * a compile here or there moves a side's total by more than the script costs.
   */
  withoutCompiles: number;
  /** With --cache-sim: first-level (I1+D1) and last-level misses. */
  l1?: number;
  ll?: number;
}

async function measure(name: string, root: string, script: string | null): Promise<Counts> {
  const file = name.replace(/\W+/g, '-');
  const data = join(work, file, 'data');
  mkdirSync(data, { recursive: true });
  const users = UserFile.inDataDir(data, { scrypt: { log2N: 10, r: 8, p: 1 } });
  for (const u of USERS) await users.add(u, PASSWORD);
  await (await sieveStore(data, USERS, script)).close();
  const out = join(work, `${file}.callgrind`);
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--smc-check=all-non-file',
      ...(values['cache-sim'] ? ['--cache-sim=yes'] : []),
      ...(values['main-thread'] ? ['--separate-threads=yes'] : []),
      `--callgrind-out-file=${out}`,
      process.execPath,
      '--predictable',
      '--single-threaded',
      '--import',
      'tsx',
      'src/cli/main.ts',
      'serve',
      '--data', data, '--store', 'sqlite', '--imap-port', 'off', '--imaps-port', 'off', '--pop3-port', 'off', '--pop3s-port', 'off', '--lmtp-port', 'auto', '--log-level', 'error',
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const port = await new Promise<number>((ok, fail) => {
    createInterface({ input: child.stdout! }).on('line', (l) => l.includes('"listening"') && ok((JSON.parse(l) as { lmtpPort: number }).lmtpPort));
    child.once('exit', (code) => fail(new Error(`${name}: exited ${code}: ${stderr}`)));
  });
  seqAll = 0;
  await deliver(port, WARMUP);
  execFileSync('callgrind_control', ['-z', String(child.pid)]);
  const started = Date.now();
  await deliver(port, MESSAGES);
  execFileSync('callgrind_control', ['-d', String(child.pid)]);
  const seconds = (Date.now() - started) / 1000;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  // The dump after -d is the file with the highest part number: its totals are the workload's.
  // With --main-thread the parts are named N-TT (TT the thread, 01 the main one).
  const part = (f: string): number => Number(f.split('.').pop()!.split('-')[0]);
  const all = readdirSync(work).filter((f) => f.startsWith(`${file}.callgrind.`)).sort((a, b) => part(a) - part(b));
  const last = all.length > 0 ? part(all.at(-1)!) : 0;
  const dumps = values['main-thread'] ? all.filter((f) => f.endsWith('-01')) : all;
  const totalsOf = (name: string): { events: string[]; totals: number[] } => {
    const t = readFileSync(join(work, name), 'utf8');
    return { events: /^events: (.*)$/m.exec(t)![1]!.split(' '), totals: /^(?:summary|totals): (.*)$/m.exec(t)![1]!.split(' ').map(Number) };
  };
  const { events, totals } = totalsOf(dumps.at(-1) ?? `${file}.callgrind`);
  if (values['main-thread']) {
    // Every thread's instructions in the workload's dump (the main thread, the Sieve thread, the fsync threads…).
    const threads = all.filter((f) => part(f) === last).map((f) => [f.split('-').pop(), totalsOf(f).totals[0]! / MESSAGES / 1e3] as const);
    process.stderr.write(`  ${name}: k instructions per delivery by thread: ${threads.map(([t, n]) => `${t} ${n.toFixed(1)}`).join(', ')}\n`);
  }
  const of = (e: string): number => totals[events.indexOf(e)] ?? 0;
  const inclusive = execFileSync('callgrind_annotate', ['--inclusive=yes', '--threshold=100', join(work, dumps.at(-1)!)], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const compiles = Math.max(0, ...inclusive.split('\n').filter((l) => /Compiler::CompileOptimized\(/.test(l) && !/'\d/.test(l)).map((l) => Number(/^\s*([\d,]+)/.exec(l)?.[1]?.replace(/,/g, '') ?? 0)));
  const counts: Counts = { instructions: of('Ir'), withoutCompiles: of('Ir') - compiles };
  if (values['cache-sim']) {
    counts.l1 = of('I1mr') + of('D1mr') + of('D1mw');
    counts.ll = of('ILmr') + of('DLmr') + of('DLmw');
  }
  process.stderr.write(`  ${name}: ${(counts.instructions / MESSAGES / 1e3).toFixed(0)} k instructions per delivery (${seconds.toFixed(0)} s)\n`);
  return counts;
}

const plan: Array<[string, string, string | null]> = [];
for (const side of values.sides.split(',')) {
  if (!(side in SCRIPTS)) throw new Error(`--sides: unknown side ${side} (known: ${Object.keys(SCRIPTS).join(', ')})`);
  plan.push([side, process.cwd(), SCRIPTS[side]!]);
  if (values.base) plan.push([`base ${side}`, resolve(values.base), SCRIPTS[side]!]);
}
const results: Array<[string, Counts]> = [];
for (const [name, root, script] of plan) results.push([name, await measure(name, root, script)]);
const k = (n: number | undefined): string => (n === undefined ? '–' : (n / MESSAGES / 1e3).toFixed(1));
process.stdout.write(`\ncallgrind, ${MESSAGES} LMTP deliveries of 10 KB over ${SESSIONS} session(s) after ${WARMUP} warm-up, per delivery (thousands)\n\n`);
process.stdout.write(`| server | instructions | without V8's optimizing compiles | L1 misses | LL misses |\n|---|---:|---:|---:|---:|\n`);
for (const [name, c] of results) process.stdout.write(`| ${name} | ${k(c.instructions)} | ${k(c.withoutCompiles)} | ${k(c.l1)} | ${k(c.ll)} |\n`);
if (!values.keep) rmSync(work, { recursive: true, force: true });
