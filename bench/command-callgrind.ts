/**
 * `npx tsx bench/command-callgrind.ts [--base DIR] [--rounds 200] [--commands 'CMD|CMD…']`:
 * instructions the server executes per round of the given IMAP commands, counted by valgrind's
 * callgrind — the same for the same code and input whatever else the machine is doing, unlike
 * seconds (bench/metrics-callgrind.ts does the same for the metrics A/B). Each tree's bench
 * server (its own bench/servers/postroom-main.ts, so its own src/) runs under callgrind with V8
 * single-threaded and predictable; after LOGIN, SELECT INBOX, a LIST (so the kept list answers
 * lookups by name, as in the persistent-1 mix) and 50 warm-up rounds, counting is zeroed
 * (callgrind_control -z), `--rounds` rounds run, and the counts are dumped (-d).
 * Default commands: the persistent-1 mix's STATUS (of another mailbox), its FETCH FLAGS and NOOP.
 *
 * Besides the total it prints the instructions per round spent in each shared object (self cost
 * summed by callgrind's `ob=`): the total moves ±25 % between runs of the same tree (how the
 * socket's reads fall and when V8 tiers code up differ run to run, and JIT code is most of it),
 * while the part in better-sqlite3's object (SQLite and its bindings) is the same run to run —
 * read that one to see statements added or taken away.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { WireClient } from './load/wire-client.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { UserFile } from '../src/auth/user-file.js';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    rounds: { type: 'string', default: '200' },
    commands: { type: 'string', default: 'STATUS Archive (MESSAGES UIDNEXT UNSEEN)|UID FETCH 1:* (FLAGS)|NOOP' },
  },
});
const ROUNDS = Number(values.rounds);
const COMMANDS = values.commands.split('|');
const work = resolve('.bench-tmp/command-callgrind');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

// One user, INBOX of 200 messages and an Archive of 20: the workload is the protocol path, not the disk.
const seed = join(work, 'seed');
await UserFile.inDataDir(seed, { scrypt: { log2N: 10, r: 8, p: 1 } }).add('ann', 'pw');
const store = await SqliteStore.open({ directory: seed });
const box = await store.open('ann');
const inbox = await box.get('INBOX');
const archive = await box.create('Archive');
for (let i = 0; i < 200; i++) await box.append(inbox.id, { content: Buffer.from(`Subject: seed ${i}\r\n\r\nbody ${i}\r\n`) });
for (let i = 0; i < 20; i++) await box.append(archive.id, { content: Buffer.from(`Subject: old ${i}\r\n\r\nbody ${i}\r\n`) });
await box.close();
await store.close();

async function measure(name: string, root: string): Promise<{ total: number; byObject: Map<string, number> }> {
  const data = join(work, name);
  cpSync(seed, data, { recursive: true });
  const out = join(work, `${name}.callgrind`);
  const child = spawn(
    'valgrind',
    ['--tool=callgrind', '--smc-check=all-non-file', `--callgrind-out-file=${out}`, process.execPath, '--predictable', '--single-threaded', '--import', 'tsx', join(root, 'bench/servers/postroom-main.ts'), data, '1000'],
    { cwd: root, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const port = await new Promise<number>((ok, fail) => {
    createInterface({ input: child.stdout! }).on('line', (l) => l.startsWith('{"msg":"listening"') && ok((JSON.parse(l) as { imapPort: number }).imapPort));
    child.once('exit', (code) => fail(new Error(`${name}: exited ${code}`)));
  });
  const { client } = await WireClient.connect('127.0.0.1', port, 600_000);
  await client.command('LOGIN ann pw', 600_000);
  await client.command('SELECT INBOX', 600_000);
  await client.command('LIST "" "*"', 600_000);
  for (let i = 0; i < 50; i++) for (const c of COMMANDS) await client.command(c, 600_000);
  execFileSync('callgrind_control', ['-z', String(child.pid)]);
  for (let i = 0; i < ROUNDS; i++) for (const c of COMMANDS) await client.command(c, 600_000);
  execFileSync('callgrind_control', ['-d', String(child.pid)]);
  client.close();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  const dumps = readdirSync(work).filter((f) => f.startsWith(`${name}.callgrind.`)).sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()));
  const text = readFileSync(join(work, dumps.at(-1) ?? `${name}.callgrind`), 'utf8');
  const total = Number(/^(?:summary|totals): (\d+)/m.exec(text)![1]);
  process.stderr.write(`  ${name}: ${total} instructions\n`);
  return { total, byObject: selfByObject(text) };
}

/** Self cost (instructions) per shared object: cost lines count for the current `ob=`, not the ones after `calls=` (inclusive). */
function selfByObject(text: string): Map<string, number> {
  const names = new Map<string, string>();
  const out = new Map<string, number>();
  let ob = '?';
  let afterCalls = false;
  for (const line of text.split('\n')) {
    const named = /^ob=\((\d+)\)(?: (.*))?$/.exec(line);
    if (named) {
      if (named[2]) names.set(named[1]!, named[2]);
      ob = names.get(named[1]!) ?? named[1]!;
      continue;
    }
    const cob = /^cob=\((\d+)\) (.+)$/.exec(line);
    if (cob) names.set(cob[1]!, cob[2]!);
    if (line.startsWith('calls=')) {
      afterCalls = true;
      continue;
    }
    if (/^[0-9+*-]/.test(line)) {
      if (afterCalls) afterCalls = false;
      else {
        const cost = Number(line.split(' ')[1]);
        if (Number.isFinite(cost)) out.set(ob, (out.get(ob) ?? 0) + cost);
      }
    }
  }
  return out;
}

const sides: Array<[string, string]> = [['this', process.cwd()], ...(values.base ? ([['base', resolve(values.base)]] as Array<[string, string]>) : [])];
const results: Array<[string, { total: number; byObject: Map<string, number> }]> = [];
for (const [name, root] of sides) results.push([name, await measure(name, root)]);
const objects = [...new Set(results.flatMap(([, r]) => [...r.byObject.keys()]))]
  .map((ob) => [ob, Math.max(...results.map(([, r]) => r.byObject.get(ob) ?? 0))] as const)
  .filter(([, most]) => most >= ROUNDS * 100)
  .sort((a, b) => b[1] - a[1])
  .map(([ob]) => ob);
const short = (ob: string): string => ob.replace(/^.*\//, '');
process.stdout.write(
  `callgrind, ${ROUNDS} rounds of: ${COMMANDS.join(' · ')}; instructions per round, in total and by shared object (self cost)\n\n` +
    `| server | total | ${objects.map(short).join(' | ')} |\n| --- | ---: |${objects.map(() => ' ---: |').join('')}\n`,
);
for (const [name, r] of results) {
  process.stdout.write(`| ${name} | ${Math.round(r.total / ROUNDS)} | ${objects.map((ob) => Math.round((r.byObject.get(ob) ?? 0) / ROUNDS)).join(' | ')} |\n`);
}
