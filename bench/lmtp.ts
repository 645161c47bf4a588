/**
 * `npm run bench:lmtp [-- --quick] [--seconds S] [--only 10x1Mx1,…|sieve] [--out FILE] [--cpu-prof DIR] [--postroom-config FILE]
 *  [--postroom-only] [--rounds N] [--warmup S] [--sieve-sessions 1,10]`
 * (`--postroom-config FILE`: serve's settings file, e.g. `{"sqliteDirectBodyWrites": true}` for an A/B.
 * `--cpu-prof DIR`: the Postroom server runs under `node --cpu-prof`, its profiles land in DIR;
 * read them with `tsx bench/profile-summary.ts FILE`. `--postroom-only`: no Dovecot, for A/B runs
 * of Postroom's own CPU per delivery (the last column, read from /proc); with `--only sieve`,
 * Postroom without and with the script, N rounds in alternating order — on a shared machine the
 * ratio within a round and the server's CPU µs per delivery say more than the rates. With
 * `--postroom-only`, each run also writes a `threads …` line to stderr: per measured delivery, the
 * bench's own CPU (the client), and for the server's main thread and its five busiest other
 * threads (named `node#<tid − pid>`) the CPU and the run-queue wait (/proc schedstat) and the
 * voluntary and involuntary context switches — the SQLite sync thread is the one with ~0.5–1
 * voluntary switches per delivery (about one per WAL fdatasync), V8's four platform threads (GC
 * and compiles) the ones with almost none. `--sieve-sessions 10`: only that Sieve row.)
 *
 * Mail delivery over LMTP, Postroom (`postroom serve --lmtp-port`, SQLite store) and Dovecot
 * (dovecot-lmtpd, Maildir, mail_fsync default) side by side in the same run, in turn: for each row
 * — concurrent LMTP sessions (1/10/50) × message size (10 KB / 1 MB) × recipients per transaction
 * (1/10) — each server starts on a fresh folder, takes a warm-up second, then `seconds` of
 * transactions from sessions that never pause. Reported: deliveries per second (recipients told
 * 250) and the p50/p99 time of a whole transaction (MAIL to the last reply after DATA).
 *
 * Sieve rows (after the others, or alone with `--only sieve`): the same load with a 50-rule script
 * active for every user (bench/sieve/fifty-rules.ts: the same text for Postroom and for Dovecot's
 * Pigeonhole, dovecot-sieve) against no script, four runs per row side by side, `--rounds N` times
 * (Postroom's two runs next to each other, their order alternating by round; a sync(2) and a
 * second's pause after every run). Targets (issue
 * 17): Postroom with the script within 10 % of Postroom without, and at least Dovecot with it.
 *
 * Checked, not trusted: every reply must be 250, every message differs (so no store can skip
 * bytes it has seen), and after each run the messages stored are counted and must equal the
 * deliveries acknowledged.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { UserFile } from '../src/auth/user-file.js';
import { LmtpClient } from '../src/lmtp/client.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { BENCH_TMP, PASSWORD, stopChild } from './servers/common.js';
import { dovecotVersion, ensureDovecotLmtp, startDovecotLmtp } from './servers/dovecot-lmtp.js';
import type { RunningServer } from './servers/postroom.js';
import { FIFTY_RULE_SCRIPT, sieveVariant } from './sieve/fifty-rules.js';
import { postroomEntry } from './servers/compiled.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    only: { type: 'string' },
    out: { type: 'string' },
    'cpu-prof': { type: 'string' },
    'postroom-config': { type: 'string' },
    'postroom-only': { type: 'boolean', default: false },
    rounds: { type: 'string' },
    // Seconds of load before the measured window (default 1): a control for how much of a row is
    // the JIT still compiling (at 1 session a second is ~300 deliveries; the Sieve code tiers up later).
    warmup: { type: 'string' },
    // Only these Sieve rows' session counts, e.g. "10" (default both: 1,10).
    'sieve-sessions': { type: 'string' },
  },
});
const ROUNDS = Number(values.rounds ?? 1);
const SECONDS = Number(values.seconds ?? (values.quick ? 4 : 10));
const WARMUP_MS = Number(values.warmup ?? 1) * 1000;
const USERS = Array.from({ length: 10 }, (_, i) => `user${i + 1}`);
const ROOT = join(BENCH_TMP, 'lmtp');

interface Row {
  sessions: number;
  size: number;
  rcpts: number;
}
const ROWS: Row[] = [];
for (const sessions of [1, 10, 50]) for (const size of [10 * 1024, 1024 * 1024]) for (const rcpts of [1, 10]) ROWS.push({ sessions, size, rcpts });
const label = (r: Row): string => `${r.sessions}x${r.size >= 1 << 20 ? '1M' : '10k'}x${r.rcpts}`;
const only = values.only?.split(',');
const onlySieve = only?.length === 1 && only[0] === 'sieve';
/** Rows run with and without the 50-rule script. */
const SIEVE_ROWS: Row[] = [
  { sessions: 1, size: 10 * 1024, rcpts: 1 },
  { sessions: 10, size: 10 * 1024, rcpts: 1 },
].filter((r) => !values['sieve-sessions'] || values['sieve-sessions'].split(',').map(Number).includes(r.sessions));

interface Result {
  deliveries: number;
  seconds: number;
  latencies: number[];
  errors: number;
  firstError?: string;
  stored: number;
  /** Stored in a mailbox other than INBOX (a script filed it). */
  filed: number;
  /** CPU seconds the server used from listening to the end of the load (Postroom only). */
  cpu?: number;
  /** Postroom only: the server's CPU per measured delivery, µs — all its threads, and its main thread (the event loop). */
  cpuUs?: { total: number; main: number };
}

/** utime+stime of a process (all its threads) and of its main thread, in µs, from /proc (Linux). */
function cpuOf(pid: number): { total: number; main: number } | null {
  const ticks = (path: string): number => {
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const stat = readFileSync(path, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(rest[11]) + Number(rest[12]);
  };
  try {
    const tick = 1e6 / 100; // CLK_TCK is 100 on Linux
    return { total: ticks(`/proc/${pid}/stat`) * tick, main: ticks(`/proc/${pid}/task/${pid}/stat`) * tick };
  } catch {
    return null;
  }
}

/** Per thread of a process: name, CPU µs, run-queue wait µs (schedstat), switches voluntary and not. */
interface ThreadStat { comm: string; cpu: number; wait: number; vol: number; invol: number }
function threadsOf(pid: number): Map<number, ThreadStat> {
  const out = new Map<number, ThreadStat>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const dir = `/proc/${pid}/task/${tid}`;
        const sched = readFileSync(`${dir}/schedstat`, 'utf8').trim().split(' ');
        const status = readFileSync(`${dir}/status`, 'utf8');
        const num = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
        out.set(Number(tid), { comm: readFileSync(`${dir}/comm`, 'utf8').trim(), cpu: Number(sched[0]) / 1000, wait: Number(sched[1]) / 1000, vol: num('voluntary_ctxt_switches'), invol: num('nonvoluntary_ctxt_switches') });
      } catch {
        // the thread ended
      }
    }
  } catch {
    // the process ended
  }
  return out;
}
/** Per delivery, the threads' deltas summed by name (the main thread as "main"). */
function threadDelta(pid: number, before: Map<number, ThreadStat>, after: Map<number, ThreadStat>, n: number): string {
  const sums = new Map<string, ThreadStat>();
  for (const [tid, a] of after) {
    const b = before.get(tid) ?? { comm: a.comm, cpu: 0, wait: 0, vol: 0, invol: 0 };
    const name = tid === pid ? 'main' : `${a.comm}#${tid - pid}`;
    const s = sums.get(name) ?? { comm: name, cpu: 0, wait: 0, vol: 0, invol: 0 };
    s.cpu += a.cpu - b.cpu; s.wait += a.wait - b.wait; s.vol += a.vol - b.vol; s.invol += a.invol - b.invol;
    sums.set(name, s);
  }
  return [...sums.values()].filter((s) => s.cpu > 0).sort((x, y) => y.cpu - x.cpu).slice(0, 6)
    .map((s) => `${s.comm}: cpu ${(s.cpu / n).toFixed(1)} wait ${(s.wait / n).toFixed(1)} µs, vol ${(s.vol / n).toFixed(2)} invol ${(s.invol / n).toFixed(2)}`).join('; ');
}

/** A message of about `size` bytes: plain text lines, a unique first header per transaction. */
function baseMessage(size: number): Buffer {
  const head = 'From: Bench <bench@bench.test>\r\nTo: users@bench.test\r\nSubject: delivery benchmark\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n';
  const line = 'The quick brown fox jumps over the lazy dog. 0123456789\r\n';
  return Buffer.from(head + line.repeat(Math.ceil((size - head.length) / line.length)));
}

async function startPostroom(runDir: string, script: string | null): Promise<RunningServer & { cpuAtStart: number }> {
  const data = join(runDir, 'data');
  mkdirSync(data, { recursive: true });
  // scrypt cost does not matter here (LMTP checks no passwords); the names are what counts.
  const users = UserFile.inDataDir(data, { scrypt: { log2N: 10, r: 8, p: 1 } });
  for (const u of USERS) await users.add(u, PASSWORD);
  if (script !== null) {
    // Each user's own active script, as ManageSieve would store it.
    const store = await SqliteStore.open({ directory: data });
    try {
      for (const u of USERS) {
        const mail = await store.open(u);
        await mail.sievePut!('bench', script);
        await mail.sieveSetActive!('bench');
        await mail.close();
      }
    } finally {
      await store.close();
    }
  }
  const child = spawn(
    process.execPath,
    [...(values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : []), ...postroomEntry(process.cwd(), 'src/cli/main.ts'), 'serve', '--data', data, '--store', 'sqlite', '--imap-port', 'off', '--imaps-port', 'off', '--pop3-port', 'off', '--pop3s-port', 'off', '--lmtp-port', 'auto', '--log-level', 'error', ...(values['postroom-config'] ? ['--config', values['postroom-config']] : [])],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('"listening"')) resolve((JSON.parse(line) as { lmtpPort: number }).lmtpPort);
    });
    child.once('exit', (code) => reject(new Error(`postroom serve exited with ${code}`)));
  });
  return {
    name: 'Postroom',
    pid: child.pid!,
    cpuAtStart: cpuSeconds(child.pid!),
    port,
    stop: () => stopChild(child, 30_000),
  };
}

/** sync(2), then a second's pause: nothing one run wrote or deleted is still being written back when the next starts. */
function settleDisk(): void {
  // What the run left for the kernel to write back, and how long writing it took (stderr).
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(meminfo)?.[1] ?? 0);
  const began = performance.now();
  execFileSync('sync');
  process.stderr.write(`settle: ${((kb('Dirty') + kb('Writeback')) / 1024).toFixed(1)} MB dirty or under writeback after the run; sync took ${(performance.now() - began).toFixed(0)} ms\n`);
  execFileSync('sleep', ['1']);
}

/** CPU seconds a process has used (utime + stime from /proc, clock ticks of 10 ms). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function countPostroom(runDir: string): Promise<{ stored: number; filed: number }> {
  const store = await SqliteStore.open({ directory: join(runDir, 'data') });
  try {
    let n = 0;
    let filed = 0;
    for (const u of USERS) {
      const mail = await store.open(u);
      // Every mailbox: a script files into several.
      for (const box of await mail.list()) {
        if (box.noselect) continue;
        const count = (await mail.status(box.id)).messages;
        n += count;
        if (box.name !== 'INBOX') filed += count;
      }
      await mail.close();
    }
    return { stored: n, filed };
  } finally {
    await store.close();
  }
}

function countMaildir(runDir: string): { stored: number; filed: number } {
  let n = 0;
  let filed = 0;
  for (const u of USERS) {
    const home = join(runDir, 'mail', u);
    // INBOX and every Maildir++ folder (".Lists.list3", ".Tickets"…) a script filed into.
    const folders = ['', ...readdirSync(home, { withFileTypes: true }).filter((e) => e.isDirectory() && e.name.startsWith('.')).map((e) => e.name)];
    for (const f of folders) {
      for (const sub of ['new', 'cur']) {
        // A user Dovecot stored nothing for has no new/ or cur/: counted as none, so the run's
        // checks say "stored N < deliveries" instead of the bench dying here.
        const dir = join(home, f, sub);
        const count = existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile()).length : 0;
        n += count;
        if (f !== '') filed += count;
      }
    }
  }
  return { stored: n, filed };
}

async function load(port: number, row: Row, tag: string, varied: boolean, pid?: number): Promise<Omit<Result, 'stored' | 'filed'>> {
  const base = baseMessage(row.size);
  const noSubject = Buffer.from(base.toString('latin1').replace(/^Subject: .*\r\n/m, ''), 'latin1');
  const latencies: number[] = [];
  let deliveries = 0;
  const cpuAt: { start: { total: number; main: number } | null; threads?: Map<number, ThreadStat>; client?: NodeJS.CpuUsage } = { start: null };
  let errors = 0;
  let firstError: string | undefined;
  let measuring = false;
  const start = Date.now();
  const measureFrom = start + WARMUP_MS;
  const end = measureFrom + SECONDS * 1000;
  let measuredFrom = 0;
  const session = async (s: number): Promise<void> => {
    const client = await LmtpClient.connect({ host: '127.0.0.1', port }, { timeoutMs: 120_000 });
    for (let seq = 0; Date.now() < end; seq++) {
      const to = Array.from({ length: row.rcpts }, (_, k) => `${USERS[(s + seq + k) % USERS.length]}@bench.test`);
      // Sieve rows (with and without the script alike): one message in ten for a list, one for a ticket.
      const variant = varied ? sieveVariant(seq + s) : '';
      const message = Buffer.concat([Buffer.from(`X-Bench: ${tag}-${s}-${seq}\r\n${variant}`), variant.startsWith('Subject:') ? noSubject : base]);
      const began = performance.now();
      const counted = Date.now() >= measureFrom;
      if (counted && !measuring) {
        measuring = true;
        measuredFrom = Date.now();
        if (pid !== undefined) {
          cpuAt.start = cpuOf(pid);
          cpuAt.threads = threadsOf(pid);
          cpuAt.client = process.cpuUsage();
        }
      }
      const result = await client.send('bench@bench.test', to.map((address) => ({ address })), message);
      const took = performance.now() - began;
      const ok = result.delivery.filter((r) => r?.code === 250).length;
      const bad = row.rcpts - ok;
      if (bad > 0) {
        errors += bad;
        firstError ??= [result.mail, ...result.rcpt, result.data, ...result.delivery].find((r) => r && r.code >= 400)?.lines.join(' ');
      }
      if (counted) {
        deliveries += ok;
        latencies.push(took);
      }
    }
    await client.quit();
  };
  await Promise.all(Array.from({ length: row.sessions }, (_, s) => session(s)));
  // Deliveries of transactions that started in the window count; the window ends when the last one is answered.
  const seconds = (Date.now() - (measuredFrom || measureFrom)) / 1000;
  const cpuAfter = pid !== undefined ? cpuOf(pid) : null;
  if (pid !== undefined && cpuAt.threads && deliveries > 0) process.stderr.write(`threads ${tag} ${deliveries / ((Date.now() - measuredFrom) / 1000) | 0}/s per delivery: client ${(((c) => c.user + c.system)(process.cpuUsage(cpuAt.client)) / deliveries).toFixed(1)} µs; ${threadDelta(pid, cpuAt.threads, threadsOf(pid), deliveries)}\n`);
  // From the first measured transaction to the last answer, per delivery measured (the warm-up's
  // module loading and JIT are left out).
  const cpuBefore = cpuAt.start;
  const cpuUs = cpuBefore && cpuAfter && deliveries > 0 ? { total: (cpuAfter.total - cpuBefore.total) / deliveries, main: (cpuAfter.main - cpuBefore.main) / deliveries } : undefined;
  return { deliveries, seconds, latencies, errors, firstError, ...(cpuUs ? { cpuUs } : {}) };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function runOne(server: 'Postroom' | 'Dovecot', row: Row, index: number, sieve?: { script: string | null }): Promise<Result> {
  const runDir = join(ROOT, `${server.toLowerCase()}-${label(row)}${sieve ? (sieve.script ? '-script' : '-noscript') : ''}`);
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  const script = sieve?.script ?? null;
  const running = server === 'Postroom' ? await startPostroom(runDir, script) : await startDovecotLmtp(runDir, USERS, row.sessions, script);
  let result: Omit<Result, 'stored' | 'filed'>;
  try {
    result = await load(running.port, row, `${server}-${index}${sieve ? (sieve.script ? "s" : "n") : ""}`, sieve !== undefined, server === 'Postroom' ? running.pid : undefined);
    if ('cpuAtStart' in running) result.cpu = cpuSeconds(running.pid) - (running.cpuAtStart as number);
  } finally {
    await running.stop();
  }
  const counted = server === 'Postroom' ? await countPostroom(runDir) : countMaildir(runDir);
  rmSync(runDir, { recursive: true, force: true });
  return { ...result, ...counted };
}

const lines: string[] = [];
const say = (s: string): void => {
  lines.push(s);
  process.stdout.write(`${s}\n`);
};

const postroomOnly = values['postroom-only'];
if (!postroomOnly) ensureDovecotLmtp();
say(`# LMTP delivery: Postroom vs Dovecot — ${new Date().toISOString().slice(0, 10)}`);
say('');
say(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version}; Dovecot ${dovecotVersion()}.`);
say(`Each row: ${SECONDS} s measured after a ${WARMUP_MS / 1000} s warm-up, sessions that never pause; fresh folders per run; the two servers in turn.`);
say('');
const rate = (r: Result): number => r.deliveries / r.seconds;
const cell = (r: Result): string[] => {
  const sorted = [...r.latencies].sort((a, b) => a - b);
  return [rate(r).toFixed(0), percentile(sorted, 50).toFixed(1), percentile(sorted, 99).toFixed(1)];
};
const cpuCell = (r: Result): string => (r.cpuUs ? `${r.cpuUs.total.toFixed(0)} (${r.cpuUs.main.toFixed(0)})` : '–');
const check = (name: string, r: Result): string => (r.errors > 0 ? `${name}: ${r.errors} refused (${r.firstError ?? '?'})` : '');
// Stored may exceed the measured deliveries by the warm-up's; it may never fall short of them.
const storedCheck = (name: string, r: Result): string => (r.stored >= r.deliveries ? '' : `${name} stored ${r.stored} < ${r.deliveries}`);
let index = 0;
if (!onlySieve) {
  say('| sessions | size | rcpts | Postroom deliveries/s | p50 ms | p99 ms | Dovecot deliveries/s | p50 ms | p99 ms | rate ratio | Postroom CPU µs/delivery (main thread) | checks |');
  say('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const row of ROWS) {
    if (only && !only.includes(label(row))) continue;
    const order: Array<'Postroom' | 'Dovecot'> = index % 2 === 0 ? ['Postroom', 'Dovecot'] : ['Dovecot', 'Postroom'];
    const results = new Map<string, Result>();
    for (const server of order) if (!postroomOnly || server === 'Postroom') results.set(server, await runOne(server, row, index));
    if (postroomOnly) {
      const p = results.get('Postroom')!;
      say(`| ${row.sessions} | ${row.size >= 1 << 20 ? '1 MB' : '10 KB'} | ${row.rcpts} | ${cell(p).join(' | ')} | – | – | – | – | ${cpuCell(p)} | ${[check('Postroom', p), storedCheck('Postroom', p)].filter(Boolean).join('; ') || 'ok'} |`);
      index++;
      continue;
    }
    index++;
    const p = results.get('Postroom')!;
    const d = results.get('Dovecot')!;
    const checks = [check('Postroom', p), check('Dovecot', d), storedCheck('Postroom', p), storedCheck('Dovecot', d)].filter(Boolean).join('; ');
    say(`| ${row.sessions} | ${row.size >= 1 << 20 ? '1 MB' : '10 KB'} | ${row.rcpts} | ${cell(p).join(' | ')} | ${cell(d).join(' | ')} | ${(rate(p) / rate(d)).toFixed(2)} | ${cpuCell(p)} | ${checks || 'ok'} |`);
  }
  say('');
}

// Postroom alone, without and with the script, round after round in alternating order.
if (onlySieve && values['postroom-only']) {
  say('Sieve, Postroom only: no script against the 50-rule script, interleaved; CPU µs is the server process\'s CPU (user+system) per message stored, warm-up included; the measured window\'s is per delivery measured, warm-up left out (all threads, the main thread in brackets).');
  say('');
  say('| sessions | round | no script /s | script /s | script/none | no script CPU µs | script CPU µs | measured window: none → script, µs (main thread) | stored (none, script) | checks |');
  say('|---:|---:|---:|---:|---:|---:|---:|---|---:|---|');
  const us = (r: Result): string => (r.cpu !== undefined && r.stored > 0 ? ((r.cpu * 1e6) / r.stored).toFixed(0) : '?');
  for (const row of SIEVE_ROWS) {
    for (let round = 0; round < ROUNDS; round++) {
      const scripts = index % 2 === 0 ? [null, FIFTY_RULE_SCRIPT] : [FIFTY_RULE_SCRIPT, null];
      const results = new Map<string, Result>();
      for (const script of scripts) {
        results.set(script ? 'script' : 'none', await runOne('Postroom', row, index, { script }));
        settleDisk();
      }
      index++;
      const pn = results.get('none')!;
      const ps = results.get('script')!;
      const checks = [check('Postroom', pn), check('Postroom+script', ps), storedCheck('Postroom', pn), storedCheck('Postroom+script', ps)].filter(Boolean);
      if (ps.filed < ps.stored / 10) checks.push(`script filed only ${ps.filed} of ${ps.stored}`);
      say(`| ${row.sessions} | ${round + 1} | ${cell(pn)[0]} | ${cell(ps)[0]} | ${(rate(ps) / rate(pn)).toFixed(2)} | ${us(pn)} | ${us(ps)} | ${cpuCell(pn)} → ${cpuCell(ps)} | ${pn.stored}, ${ps.stored} | ${checks.join('; ') || 'ok'} |`);
    }
  }
}

// Sieve rows: each server without a script and with the 50-rule one, the four runs in turn.
if (!only || (onlySieve && !values['postroom-only'])) {
  say('Sieve: a 50-rule script (bench/sieve/fifty-rules.ts) active for every user, against no script; the same messages (1 in 10 filed to a list folder, 1 in 10 to Tickets, the rest kept with a flag after all 50 rules).');
  say('');
  say('| sessions | size | rcpts | Postroom no script /s | Postroom script /s | p99 ms | script/none | Dovecot no script /s | Dovecot script /s | p99 ms | script/none | Postroom/Dovecot with script | checks |');
  say('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const row of SIEVE_ROWS) for (let round = 0; round < ROUNDS; round++) {
    // Postroom's two runs side by side, then Dovecot's, in the order of the round: each Postroom
    // run follows the other, never Dovecot's (whose thousands of Maildir files, written and then
    // deleted, the kernel is still writing back for seconds after). Until 2026-12-05 the 10-session
    // row ran Dovecot, Dovecot, Postroom with the script, Postroom without — the scripted run
    // always right after Dovecot's — and --rounds was not honoured here (one round per row).
    const runs: Array<['Postroom' | 'Dovecot', string | null]> =
      round % 2 === 0
        ? [['Postroom', null], ['Postroom', FIFTY_RULE_SCRIPT], ['Dovecot', null], ['Dovecot', FIFTY_RULE_SCRIPT]]
        : [['Postroom', FIFTY_RULE_SCRIPT], ['Postroom', null], ['Dovecot', FIFTY_RULE_SCRIPT], ['Dovecot', null]];
    const results = new Map<string, Result>();
    for (const [server, script] of runs) {
      results.set(`${server}-${script ? 'script' : 'none'}`, await runOne(server, row, index, { script }));
      settleDisk(); // the last run's dirty pages and deletions written out before the next one starts
    }
    index++;
    const [pn, ps, dn, ds] = ['Postroom-none', 'Postroom-script', 'Dovecot-none', 'Dovecot-script'].map((k) => results.get(k)!) as [Result, Result, Result, Result];
    const checks = [
      check('Postroom', pn), check('Postroom+script', ps), check('Dovecot', dn), check('Dovecot+script', ds),
      storedCheck('Postroom', pn), storedCheck('Postroom+script', ps), storedCheck('Dovecot', dn), storedCheck('Dovecot+script', ds),
    ].filter(Boolean);
    // The script must have run: about one message in five filed out of INBOX, none without it.
    for (const [name, r, want] of [['Postroom', ps, true], ['Dovecot', ds, true], ['Postroom', pn, false], ['Dovecot', dn, false]] as const) {
      if (want && r.filed < r.stored / 10) checks.push(`${name}+script filed only ${r.filed} of ${r.stored}`);
      if (!want && r.filed > 0) checks.push(`${name} without a script filed ${r.filed}`);
    }
    say(
      `| ${row.sessions}${ROUNDS > 1 ? ` (round ${round + 1})` : ''} | 10 KB | ${row.rcpts} | ${cell(pn)[0]} | ${cell(ps)[0]} | ${cell(ps)[2]} | ${(rate(ps) / rate(pn)).toFixed(2)} | ` +
        `${cell(dn)[0]} | ${cell(ds)[0]} | ${cell(ds)[2]} | ${(rate(ds) / rate(dn)).toFixed(2)} | ${(rate(ps) / rate(ds)).toFixed(2)} | ${checks.join('; ') || 'ok'} |`,
    );
  }
}
if (values.out) writeFileSync(values.out, `${lines.join('\n')}\n`);
