/**
 * `npx tsx bench/lmtp-sieve-ab.ts [--sessions 1,10] [--messages 600] [--rounds 4] [--base DIR]`:
 * the server's CPU per LMTP delivery without and with the 50-rule script (bench/sieve/fifty-rules.ts),
 * read from /proc for a fixed number of messages, with every server started once and the sides
 * taking turns in short batches — so that a machine whose load moves (other processes) moves
 * every side alike, and neither start-up nor warm-up (JIT, the script's mailboxes being created)
 * is counted. `--base DIR`: two more sides, the same two servers run from another checkout (an
 * A/B against an earlier commit; DIR needs node_modules). `--cpu-prof DIR`: each server runs under
 * `node --cpu-prof`, its profiles in DIR/<side> (every side handles the same number of messages, so
 * bench/profile-diff.ts can compare them per message).
 *
 * Per side and session count: CPU µs per delivery of all the server's threads and of its main
 * thread (the event loop), the median over the rounds, and each round's figures. Rates are
 * printed too, but on a shared machine they are the least to trust.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { UserFile } from '../src/auth/user-file.js';
import { LmtpClient } from '../src/lmtp/client.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { BENCH_TMP, PASSWORD, stopChild } from './servers/common.js';
import { FIFTY_RULE_SCRIPT, sieveVariant } from './sieve/fifty-rules.js';
import { postroomEntry } from './servers/compiled.js';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '1,10' },
    messages: { type: 'string', default: '600' },
    rounds: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '400' },
    base: { type: 'string' },
    'cpu-prof': { type: 'string' },
    strace: { type: 'string' },
    // With --strace: every call, timed, of every thread (`-f -tt`), instead of the counts (`-c`).
    'strace-full': { type: 'boolean', default: false },
    'gc-log': { type: 'string' },
    'v8-flags': { type: 'string' },
    sides: { type: 'string', default: 'none,script' },
    // Milliseconds to wait after a batch's last reply before its CPU is read: background work the
    // batch left running (V8's concurrent marking and compiles, the WAL sync) is then counted too.
    'settle-ms': { type: 'string', default: '0' },
  },
});
const MESSAGES = Number(values.messages);
const ROUNDS = Number(values.rounds);
const WARMUP = Number(values.warmup);
const SETTLE_MS = Number(values['settle-ms']);
const USERS = Array.from({ length: 10 }, (_, i) => `user${i + 1}`);
const ROOT = join(BENCH_TMP, 'lmtp-sieve-ab');

function cpuOf(pid: number): { total: number; main: number } {
  const ticks = (path: string): number => {
    const stat = readFileSync(path, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(rest[11]) + Number(rest[12]);
  };
  return { total: ticks(`/proc/${pid}/stat`) * 10_000, main: ticks(`/proc/${pid}/task/${pid}/stat`) * 10_000 };
}

/** CPU µs of each of the process's threads, summed by thread name (`V8 DefaultWorke`, `libuv-worker`, …; the main thread as "main"). */
function threadsOf(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  // Threads that share a name (Node names most of them "node") are told apart by their start order.
  const tids = readdirSync(`/proc/${pid}/task`).sort((a, b) => Number(a) - Number(b));
  for (const [i, tid] of tids.entries()) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = tid === String(pid) ? 'main' : `${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))} #${i}`;
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + (Number(rest[11]) + Number(rest[12])) * 10_000);
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

const head = 'From: Bench <bench@bench.test>\r\nTo: users@bench.test\r\nSubject: delivery benchmark\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n';
const line = 'The quick brown fox jumps over the lazy dog. 0123456789\r\n';
const base = Buffer.from(head + line.repeat(Math.ceil((10 * 1024 - head.length) / line.length)));
const noSubject = Buffer.from(base.toString('latin1').replace(/^Subject: .*\r\n/m, ''), 'latin1');

interface Side {
  name: string;
  pid: number;
  port: number;
  stop: () => Promise<void>;
  runs: Map<number, Array<{ total: number; main: number; rate: number }>>;
  /** CPU µs by thread name over the measured batches, and the deliveries they made. */
  threads: Map<string, number>;
  counted: number;
}

async function start(name: string, codeRoot: string, script: string | null): Promise<Side> {
  const data = join(ROOT, name.replace(/\W+/g, '-'), 'data');
  rmSync(join(data, '..'), { recursive: true, force: true });
  mkdirSync(data, { recursive: true });
  const users = UserFile.inDataDir(data, { scrypt: { log2N: 10, r: 8, p: 1 } });
  for (const u of USERS) await users.add(u, PASSWORD);
  if (script !== null) {
    const store = await SqliteStore.open({ directory: data });
    for (const u of USERS) {
      const mail = await store.open(u);
      await mail.sievePut!('bench', script);
      await mail.sieveSetActive!('bench');
      await mail.close();
    }
    await store.close();
  }
  const child = spawn(
    process.execPath,
    [
      // `--v8-flags "--trace-opt --trace-deopt"` with `--gc-log DIR`: other V8 traces, logged the same way.
      ...(values['gc-log'] ? (values['v8-flags']?.split(' ') ?? ['--trace-gc-nvp']) : []),
      ...(values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-interval', process.env.CPU_PROF_INTERVAL ?? '100', '--cpu-prof-dir', resolve(values['cpu-prof'], name.replace(/\W+/g, '-'))] : []), ...postroomEntry(codeRoot, 'src/cli/main.ts'), 'serve', '--data', data, '--store', 'sqlite', '--imap-port', 'off', '--imaps-port', 'off', '--pop3-port', 'off', '--pop3s-port', 'off', '--lmtp-port', 'auto', '--log-level', 'error'],
    { cwd: codeRoot, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((ok, fail) => {
    // `--gc-log DIR`: the server's V8 collections (--trace-gc-nvp lines) in DIR/<side>.txt.
    const gcLog = values['gc-log'] ? resolve(values['gc-log'], `${name.replace(/\W+/g, '-')}.txt`) : null;
    createInterface({ input: child.stdout! }).on('line', (l) => {
      if (gcLog && !l.startsWith('{')) appendFileSync(gcLog, `${l}\n`);
      if (l.includes('"listening"')) ok((JSON.parse(l) as { lmtpPort: number }).lmtpPort);
    });
    child.once('exit', (code) => fail(new Error(`${name}: postroom serve exited with ${code}`)));
  });
  // `--strace DIR`: `strace -c -f` attached to the listening server (every thread), its counts in
  // DIR/<side>.txt once the server is stopped (the CPU figures are then the traced server's).
  const tracer = values.strace ? spawn('strace', [...(values['strace-full'] ? ['-tt'] : ['-c']), '-f', '-p', String(child.pid), '-o', resolve(values.strace, `${name.replace(/\W+/g, '-')}.txt`)], { stdio: 'ignore' }) : null;
  if (tracer) await new Promise((r) => setTimeout(r, 1000)); // attached
  const stop = async (): Promise<void> => {
    if (tracer && tracer.exitCode === null) {
      const gone = new Promise((r) => tracer.once('exit', r));
      tracer.kill('SIGINT'); // detaches and writes the summary
      await gone;
    }
    await stopChild(child, 30_000);
  };
  return { name, pid: child.pid!, port, stop, runs: new Map(), threads: new Map(), counted: 0 };
}

let seqAll = 0;
/** `count` deliveries over `sessions` sessions; every message differs; every reply must be 250. */
async function deliver(side: Side, sessions: number, count: number): Promise<{ total: number; main: number; rate: number }> {
  const clients = await Promise.all(Array.from({ length: sessions }, () => LmtpClient.connect({ host: '127.0.0.1', port: side.port }, { timeoutMs: 120_000 })));
  let next = 0;
  const first = seqAll;
  seqAll += count;
  const cpu0 = cpuOf(side.pid);
  const threads0 = threadsOf(side.pid);
  const t0 = performance.now();
  await Promise.all(
    clients.map(async (client, s) => {
      while (next < count) {
        const seq = first + next++;
        const variant = sieveVariant(seq);
        const message = Buffer.concat([Buffer.from(`X-Bench: ab-${seq}\r\n${variant}`), variant.startsWith('Subject:') ? noSubject : base]);
        const result = await client.send('bench@bench.test', [{ address: `${USERS[(s + seq) % USERS.length]}@bench.test` }], message);
        const reply = result.delivery[0];
        if (reply?.code !== 250) {
          const bad = [result.mail, ...result.rcpt, result.data, ...result.delivery].find((r) => r && r.code >= 400);
          throw new Error(`${side.name}: delivery refused: ${bad?.code} ${bad?.lines.join(' ')}`);
        }
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  if (SETTLE_MS > 0) await new Promise((r) => setTimeout(r, SETTLE_MS));
  const cpu1 = cpuOf(side.pid);
  for (const [name, us] of threadsOf(side.pid)) side.threads.set(name, (side.threads.get(name) ?? 0) + us - (threads0.get(name) ?? 0));
  side.counted += count;
  await Promise.all(clients.map((c) => c.quit()));
  return { total: (cpu1.total - cpu0.total) / count, main: (cpu1.main - cpu0.main) / count, rate: count / seconds };
}

const here = process.cwd();
/** `--sides none,script,keep,flag`: besides no script and the 50-rule one, `keep;` alone and one addflag (what the path costs without the rules). */
const SCRIPTS: Record<string, string | null> = {
  none: null,
  script: FIFTY_RULE_SCRIPT,
  keep: 'keep;\r\n',
  flag: 'require "imap4flags";\r\naddflag "$Bench";\r\n',
  // The 50-rule script's destinations without its rules (Lists/listN, Tickets, else kept with $Bench),
  // and its rules without its destinations (every fileinto to INBOX): 'rules' against 'folders'.
  folders: `require ["fileinto", "mailbox", "imap4flags"];\r\n${Array.from({ length: 10 }, (_, i) => `if header :contains "list-id" "<list${i + 1}.lists.example.org>" { fileinto :create "Lists/list${i + 1}"; stop; }`).join('\r\n')}\r\nif header :contains "subject" "[ticket #" { fileinto :create "Tickets"; stop; }\r\naddflag "$Bench";\r\n`,
  inbox: FIFTY_RULE_SCRIPT.replace(/fileinto :create (:flags "\$Invoice" )?"[^"]+"/g, 'fileinto $1"INBOX"'),
};
// 'folders' with every fileinto made one to INBOX: against 'folders', what filing into other folders costs.
SCRIPTS['folders-inbox'] = SCRIPTS.folders!.replace(/fileinto :create "[^"]+"/g, 'fileinto "INBOX"');
const sides: Side[] = [];
for (const name of values.sides.split(',')) {
  if (!(name in SCRIPTS)) throw new Error(`--sides: unknown side ${name} (known: ${Object.keys(SCRIPTS).join(', ')})`);
  sides.push(await start(name, here, SCRIPTS[name]!));
}
if (values.base) sides.push(await start('base none', resolve(values.base), null), await start('base script', resolve(values.base), FIFTY_RULE_SCRIPT));
const sessionCounts = values.sessions.split(',').map(Number);
try {
  for (const side of sides) await deliver(side, 10, WARMUP);
  let turn = 0;
  for (let r = 0; r < ROUNDS; r++) {
    for (const sessions of sessionCounts) {
      const order = turn++ % 2 === 0 ? [...sides] : [...sides].reverse();
      for (const side of order) {
        const got = await deliver(side, sessions, MESSAGES);
        side.runs.set(sessions, [...(side.runs.get(sessions) ?? []), got]);
      }
    }
  }
} finally {
  for (const side of sides) await side.stop();
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
process.stdout.write(`\n${MESSAGES} deliveries of 10 KB per batch, ${ROUNDS} rounds, sides in turn; server CPU µs per delivery: all threads (main thread), median of the rounds\n\n`);
process.stdout.write('| sessions | side | CPU µs (main) | rate /s | rounds: CPU µs (main) rate |\n|---:|---|---:|---:|---|\n');
for (const sessions of sessionCounts) {
  for (const side of sides) {
    const runs = side.runs.get(sessions) ?? [];
    const rounds = runs.map((x) => `${x.total.toFixed(0)} (${x.main.toFixed(0)}) ${x.rate.toFixed(0)}/s`).join(', ');
    process.stdout.write(
      `| ${sessions} | ${side.name} | ${median(runs.map((x) => x.total)).toFixed(0)} (${median(runs.map((x) => x.main)).toFixed(0)}) | ${median(runs.map((x) => x.rate)).toFixed(0)} | ${rounds} |\n`,
    );
  }
}
process.stdout.write('\nCPU µs per delivery by thread (all measured batches):\n\n');
const names = [...new Set(sides.flatMap((s) => [...s.threads.keys()]))].sort();
process.stdout.write(`| thread | ${sides.map((s) => s.name).join(' | ')} |\n|---|${sides.map(() => '---:').join('|')}|\n`);
for (const n of names) process.stdout.write(`| ${n} | ${sides.map((s) => ((s.threads.get(n) ?? 0) / s.counted).toFixed(0)).join(' | ')} |\n`);
rmSync(ROOT, { recursive: true, force: true });
