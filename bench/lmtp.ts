/**
 * `npm run bench:lmtp [-- --quick] [--seconds S] [--only 10x1Mx1] [--out FILE] [--cpu-prof DIR]`
 * (`--cpu-prof DIR`: the Postroom server runs under `node --cpu-prof`, its profiles land in DIR;
 * read them with `tsx bench/profile-summary.ts FILE`)
 *
 * Mail delivery over LMTP, Postroom (`postroom serve --lmtp-port`, SQLite store) and Dovecot
 * (dovecot-lmtpd, Maildir, mail_fsync default) side by side in the same run, in turn: for each row
 * — concurrent LMTP sessions (1/10/50) × message size (10 KB / 1 MB) × recipients per transaction
 * (1/10) — each server starts on a fresh folder, takes a warm-up second, then `seconds` of
 * transactions from sessions that never pause. Reported: deliveries per second (recipients told
 * 250) and the p50/p99 time of a whole transaction (MAIL to the last reply after DATA).
 *
 * Checked, not trusted: every reply must be 250, every message differs (so no store can skip
 * bytes it has seen), and after each run the messages stored are counted and must equal the
 * deliveries acknowledged.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { UserFile } from '../src/auth/user-file.js';
import { LmtpClient } from '../src/lmtp/client.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { BENCH_TMP, PASSWORD } from './servers/common.js';
import { dovecotVersion, ensureDovecotLmtp, startDovecotLmtp } from './servers/dovecot-lmtp.js';
import type { RunningServer } from './servers/postroom.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    only: { type: 'string' },
    out: { type: 'string' },
    'cpu-prof': { type: 'string' },
  },
});
const SECONDS = Number(values.seconds ?? (values.quick ? 4 : 10));
const WARMUP_MS = 1000;
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

interface Result {
  deliveries: number;
  seconds: number;
  latencies: number[];
  errors: number;
  firstError?: string;
  stored: number;
}

/** A message of about `size` bytes: plain text lines, a unique first header per transaction. */
function baseMessage(size: number): Buffer {
  const head = 'From: Bench <bench@bench.test>\r\nTo: users@bench.test\r\nSubject: delivery benchmark\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n';
  const line = 'The quick brown fox jumps over the lazy dog. 0123456789\r\n';
  return Buffer.from(head + line.repeat(Math.ceil((size - head.length) / line.length)));
}

async function startPostroom(runDir: string): Promise<RunningServer> {
  const data = join(runDir, 'data');
  mkdirSync(data, { recursive: true });
  // scrypt cost does not matter here (LMTP checks no passwords); the names are what counts.
  const users = UserFile.inDataDir(data, { scrypt: { log2N: 10, r: 8, p: 1 } });
  for (const u of USERS) await users.add(u, PASSWORD);
  const child = spawn(
    process.execPath,
    [...(values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : []), '--import', 'tsx', 'src/cli/main.ts', 'serve', '--data', data, '--store', 'sqlite', '--imap-port', 'off', '--imaps-port', 'off', '--pop3-port', 'off', '--pop3s-port', 'off', '--lmtp-port', 'auto', '--log-level', 'error'],
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
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.once('exit', () => (clearTimeout(t), resolve()));
        child.kill('SIGTERM');
      }),
  };
}

async function countPostroom(runDir: string): Promise<number> {
  const store = await SqliteStore.open({ directory: join(runDir, 'data') });
  try {
    let n = 0;
    for (const u of USERS) {
      const mail = await store.open(u);
      n += (await mail.status((await mail.get('INBOX')).id)).messages;
    }
    return n;
  } finally {
    await store.close();
  }
}

function countMaildir(runDir: string): number {
  let n = 0;
  for (const u of USERS) for (const sub of ['new', 'cur']) n += readdirSync(join(runDir, 'mail', u, sub), { withFileTypes: true }).filter((e) => e.isFile()).length;
  return n;
}

async function load(port: number, row: Row, tag: string): Promise<Omit<Result, 'stored'>> {
  const base = baseMessage(row.size);
  const latencies: number[] = [];
  let deliveries = 0;
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
      const message = Buffer.concat([Buffer.from(`X-Bench: ${tag}-${s}-${seq}\r\n`), base]);
      const began = performance.now();
      const counted = Date.now() >= measureFrom;
      if (counted && !measuring) {
        measuring = true;
        measuredFrom = Date.now();
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
  return { deliveries, seconds, latencies, errors, firstError };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function runOne(server: 'Postroom' | 'Dovecot', row: Row, index: number): Promise<Result> {
  const runDir = join(ROOT, `${server.toLowerCase()}-${label(row)}`);
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  const running = server === 'Postroom' ? await startPostroom(runDir) : await startDovecotLmtp(runDir, USERS, row.sessions);
  let result: Omit<Result, 'stored'>;
  try {
    result = await load(running.port, row, `${server}-${index}`);
  } finally {
    await running.stop();
  }
  const stored = server === 'Postroom' ? await countPostroom(runDir) : countMaildir(runDir);
  rmSync(runDir, { recursive: true, force: true });
  return { ...result, stored };
}

const lines: string[] = [];
const say = (s: string): void => {
  lines.push(s);
  process.stdout.write(`${s}\n`);
};

ensureDovecotLmtp();
say(`# LMTP delivery: Postroom vs Dovecot — ${new Date().toISOString().slice(0, 10)}`);
say('');
say(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version}; Dovecot ${dovecotVersion()}.`);
say(`Each row: ${SECONDS} s measured after a 1 s warm-up, sessions that never pause; fresh folders per run; the two servers in turn.`);
say('');
say('| sessions | size | rcpts | Postroom deliveries/s | p50 ms | p99 ms | Dovecot deliveries/s | p50 ms | p99 ms | rate ratio | checks |');
say('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
let index = 0;
for (const row of ROWS) {
  if (only && !only.includes(label(row))) continue;
  const order: Array<'Postroom' | 'Dovecot'> = index % 2 === 0 ? ['Postroom', 'Dovecot'] : ['Dovecot', 'Postroom'];
  const results = new Map<string, Result>();
  for (const server of order) results.set(server, await runOne(server, row, index));
  index++;
  const p = results.get('Postroom')!;
  const d = results.get('Dovecot')!;
  const cell = (r: Result): string[] => {
    const sorted = [...r.latencies].sort((a, b) => a - b);
    return [(r.deliveries / r.seconds).toFixed(0), percentile(sorted, 50).toFixed(1), percentile(sorted, 99).toFixed(1)];
  };
  const check = (name: string, r: Result): string =>
    r.errors > 0 ? `${name}: ${r.errors} refused (${r.firstError ?? '?'})` : '';
  // Stored may exceed the measured deliveries by the warm-up's; it may never fall short of them.
  const storedOk = (r: Result): boolean => r.stored >= r.deliveries;
  const checks = [check('Postroom', p), check('Dovecot', d), storedOk(p) ? '' : `Postroom stored ${p.stored} < ${p.deliveries}`, storedOk(d) ? '' : `Dovecot stored ${d.stored} < ${d.deliveries}`]
    .filter(Boolean)
    .join('; ');
  say(`| ${row.sessions} | ${row.size >= 1 << 20 ? '1 MB' : '10 KB'} | ${row.rcpts} | ${cell(p).join(' | ')} | ${cell(d).join(' | ')} | ${(p.deliveries / p.seconds / (d.deliveries / d.seconds)).toFixed(2)} | ${checks || 'ok'} |`);
}
if (values.out) writeFileSync(values.out, `${lines.join('\n')}\n`);
