/**
 * `npx tsx bench/metrics-callgrind.ts [--base DIR] [--commands 400]`: instructions the server
 * executes for a fixed IMAP workload, counted by valgrind's callgrind — the same for the same code
 * and input whatever else the machine is doing, unlike seconds. The bench server runs under
 * callgrind with metrics on, off, and (with --base) at an earlier commit; counting is zeroed after
 * start-up (callgrind_control -z) and dumped after the workload (-d), so only the workload counts.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { WireClient } from './load/wire-client.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { UserFile } from '../src/auth/user-file.js';

const { values } = parseArgs({ options: { base: { type: 'string' }, commands: { type: 'string', default: '400' } } });
const ROUNDS = Math.ceil(Number(values.commands) / 4);
const work = resolve('.bench-tmp/callgrind');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

// One user, a small mailbox: the workload is the protocol path, not the disk.
const seed = join(work, 'seed');
await UserFile.inDataDir(seed, { scrypt: { log2N: 10, r: 8, p: 1 } }).add('ann', 'pw');
const store = await SqliteStore.open({ directory: seed });
const box = await store.open('ann');
const inbox = await box.get('INBOX');
for (let i = 0; i < 50; i++) await box.append(inbox.id, { content: Buffer.from(`Subject: seed ${i}\r\n\r\nbody ${i}\r\n`) });
await box.close();
await store.close();

async function measure(name: string, root: string, env: Record<string, string>): Promise<number> {
  const data = join(work, name.replace(/\W+/g, '-'));
  cpSync(seed, data, { recursive: true });
  const file = name.replace(/\W+/g, '-');
  const out = join(work, `${file}.callgrind`);
  const child = spawn(
    'valgrind',
    // --predictable and --single-threaded: V8 compiles and collects garbage on this thread, at
    // points that depend on the work done, not on timing — so the counts repeat.
    ['--tool=callgrind', '--smc-check=all-non-file', `--callgrind-out-file=${out}`, process.execPath, '--predictable', '--single-threaded', '--import', 'tsx', join(root, 'bench/servers/postroom-main.ts'), data, '1000'],
    { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const port = await new Promise<number>((ok, fail) => {
    createInterface({ input: child.stdout! }).on('line', (l) => l.startsWith('{"msg":"listening"') && ok((JSON.parse(l) as { imapPort: number }).imapPort));
    child.once('exit', (code) => fail(new Error(`${name}: exited ${code}`)));
  });
  const { client } = await WireClient.connect('127.0.0.1', port, 600_000);
  // Warm up the code paths (and the JIT) before counting.
  await client.command('LOGIN ann pw', 600_000);
  await client.command('SELECT INBOX', 600_000);
  // The same commands as counted, so the JIT has settled on them before counting starts.
  for (let i = 0; i < 50; i++) {
    await client.command('UID FETCH 1:* (FLAGS)', 600_000);
    await client.command('NOOP', 600_000);
    await client.command(`UID STORE ${1 + (i % 50)} -FLAGS (\\Flagged)`, 600_000);
    await client.command('STATUS INBOX (MESSAGES UNSEEN)', 600_000);
  }
  execFileSync('callgrind_control', ['-z', String(child.pid)]);
  const started = Date.now();
  for (let i = 0; i < ROUNDS; i++) {
    await client.command('UID FETCH 1:* (FLAGS)', 600_000);
    await client.command('NOOP', 600_000);
    await client.command(`UID STORE ${1 + (i % 50)} +FLAGS (\\Flagged)`, 600_000);
    await client.command('STATUS INBOX (MESSAGES UNSEEN)', 600_000);
  }
  execFileSync('callgrind_control', ['-d', String(child.pid)]);
  const seconds = (Date.now() - started) / 1000;
  client.close();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  // The dump after -d is the file with the highest part number: its totals are the workload's.
  const dumps = readdirSync(work).filter((f) => f.startsWith(`${file}.callgrind.`)).sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()));
  const text = readFileSync(join(work, dumps.at(-1) ?? `${file}.callgrind`), 'utf8');
  const total = Number(/^(?:summary|totals): (\d+)/m.exec(text)![1]);
  process.stderr.write(`  ${name}: ${total} instructions in ${seconds.toFixed(0)} s\n`);
  return total;
}

const sides: Array<[string, string, Record<string, string>]> = [
  ['metrics-off', process.cwd(), {}],
  ['metrics-on', process.cwd(), { POSTROOM_BENCH_METRICS: '1' }],
  ['metrics-on, no process metrics', process.cwd(), { POSTROOM_BENCH_METRICS: 'counters' }],
  ...(values.base ? ([['base', resolve(values.base), {}]] as Array<[string, string, Record<string, string>]>) : []),
];
const results: Array<[string, number]> = [];
for (const [name, root, env] of sides) results.push([name, await measure(name, root, env)]);
const commands = ROUNDS * 4;
const off = results[0]![1];
process.stdout.write(`callgrind, ${commands} IMAP commands (UID FETCH FLAGS of 50, NOOP, UID STORE, STATUS), one client\n\n| server | instructions | per command | vs metrics off |\n| --- | ---: | ---: | ---: |\n`);
for (const [name, total] of results) process.stdout.write(`| ${name} | ${total} | ${Math.round(total / commands)} | ${(total / off).toFixed(4)} |\n`);
