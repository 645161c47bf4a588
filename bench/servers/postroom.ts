/**
 * Postroom under test: `postroom serve --store sqlite` as its own process (so its memory is its
 * own), on a data folder seeded through the store API with the same messages Dovecot gets.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { UserFile } from '../../src/auth/user-file.js';
import { hashPassword } from '../../src/auth/password.js';
import { DEFAULT_SETTINGS } from '../../src/config/settings.js';
import { nodeFlagsFor } from '../../src/cli/node-flags.js';
import type { AppendInput, MailStore } from '../../src/store/types.js';
import { benchMessage } from '../load/messages.js';
import { postroomEntry, type PostroomRuntime } from './compiled.js';
import { ARCHIVE_MESSAGES, PASSWORD, cachedSeed, messageSeed, seedKey, type SeedSpec, stopChild } from './common.js';

/**
 * scrypt at N=2^10, r=8 costs about what Dovecot's SHA512-CRYPT (5,000 rounds) does per LOGIN —
 * 1.55 ms against 1.27 ms (libc crypt) on the bench machine, 2026-12-03 — so the password check
 * weighs the same on both sides. Until then the bench used N=2^12, which measured 6.5 ms: five times
 * Dovecot's. `postroom user add` uses N=2^15 (71 ms).
 */
const BENCH_SCRYPT = { log2N: 10, r: 8, p: 1 };

async function build(dir: string, spec: SeedSpec): Promise<void> {
  const users = UserFile.inDataDir(dir, { scrypt: BENCH_SCRYPT });
  for (const name of Object.keys(spec.users)) await users.add(name, PASSWORD);
  const store = await SqliteStore.open({ directory: dir });
  await seedMail(store, spec);
  await store.close();
}

/** A users file with the bench users (cheap scrypt, see BENCH_SCRYPT) in `dir`. */
export async function benchUsers(dir: string, spec: SeedSpec): Promise<void> {
  const users = UserFile.inDataDir(dir, { scrypt: BENCH_SCRYPT });
  for (const name of Object.keys(spec.users)) await users.add(name, PASSWORD);
}

/**
 * The bench's messages into any store (SQLite here, PostgreSQL for bench:cluster): the same bytes
 * Dovecot gets, at the same UIDs — message i of a folder is UID i + 1, as Dovecot numbers the
 * seeded Maildir (files named in message order). Appends that ran side by side got their UIDs in
 * the order they finished, so the highest UIDs went to the largest bodies (the ones written to
 * files): user1's UID 1000 was a 328 KB message on Postroom and a 6 KB one on Dovecot, and the
 * load's FETCH BODY[], which mostly asks for the highest UID, compared the two.
 */
export async function seedMail(store: MailStore, spec: SeedSpec): Promise<void> {
  let u = 0;
  for (const [name, count] of Object.entries(spec.users)) {
    const box = await store.open(name);
    const archive = await box.create('Archive');
    const inbox = await box.get('INBOX');
    const fill = async (mailboxId: string, folder: 'INBOX' | 'Archive', n: number): Promise<void> => {
      const input = (i: number): AppendInput => {
        const seed = messageSeed(u, folder, i);
        return {
          content: benchMessage(seed, 'seeded'),
          flags: i % 3 === 0 ? [] : ['\\Seen'],
          internalDate: new Date(Date.UTC(2025, 0, 1) + seed % 1_000_000 * 61_000),
        };
      };
      // In order, a chunk per transaction (one sync for each): UIDs follow the message order.
      for (let at = 0; at < n; at += SEED_CHUNK) {
        const inputs = Array.from({ length: Math.min(SEED_CHUNK, n - at) }, (_, k) => input(at + k));
        if (box.appendMany) await box.appendMany(mailboxId, inputs);
        else for (const one of inputs) await box.append(mailboxId, one);
      }
    };
    await fill(inbox.id, 'INBOX', count);
    await fill(archive.id, 'Archive', ARCHIVE_MESSAGES);
    await box.close();
    u++;
  }
}

/** Messages per seeding transaction. */
const SEED_CHUNK = 50;

export interface RunningServer {
  name: string;
  pid: number;
  port: number;
  /** The implicit-TLS IMAP port, when the server has one. */
  tlsPort?: number;
  stop(): Promise<void>;
}

export interface PostroomOptions {
  runDir: string;
  spec: SeedSpec;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Extra serve flags, e.g. --workers 2. */
  serveArgs?: string[];
  maxConnections?: number;
  /** limits.idleHibernateSeconds (default: the server's own default; 0 turns hibernation off). */
  hibernateSeconds?: number;
  /** An implicit-TLS port beside the plain one (RunningServer.tlsPort), with this certificate and key (PEM files). */
  tls?: { cert: string; key: string };
  /**
   * More users (no mail) with their own passwords, hashed as `postroom user add` does — scrypt at
   * the default cost, N = 2^15 — not at the bench's cheap cost: what the login-rate scenario logs in as.
   */
  extraUsers?: { user: string; password: string }[];
  /**
   * Another checkout of Postroom (e.g. an older commit) to run instead of this one: its
   * bench/servers/postroom-main.ts, with that folder as working directory — for A/B runs of two
   * builds side by side on the same seeded data.
   */
  checkout?: string;
  /** Compiled JavaScript ('js') or the sources under tsx; default: POSTROOM_BENCH_RUNTIME, else 'js' (compiled.ts). */
  runtime?: PostroomRuntime;
  /** Environment for the server process on top of the bench's (e.g. POSTROOM_BENCH_WRITES). */
  env?: Record<string, string>;
  /**
   * A command that runs node as its last arguments (e.g. `perf record … --`): RunningServer.pid is
   * then the wrapper's, node a child of it, and stop() ends node by its own pid first.
   */
  wrap?: string[];
}

/** Cached seeds under this name; `u` marks those whose UIDs follow the message order (seedMail). */
const SEED_NAME = `postroom-n${BENCH_SCRYPT.log2N}u`;

/** This checkout's root (the bench's own Postroom). */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A fresh copy of the seeded SQLite data folder (users file and mail) under `runDir`; returns its path. */
export async function seededPostroomData(runDir: string, spec: SeedSpec): Promise<string> {
  const data = join(runDir, 'postroom');
  await cachedSeed(`${SEED_NAME}-${seedKey(spec)}`, (dir) => build(dir, spec), data);
  return data;
}

/** `users` lines for `extra`, at the default hash cost; built once per list and cached (hashing hundreds takes a while). */
async function addExtraUsers(data: string, runDir: string, extra: { user: string; password: string }[]): Promise<void> {
  const key = createHash('sha256').update(JSON.stringify(extra)).digest('hex').slice(0, 16);
  const copy = join(runDir, 'extra-users');
  await cachedSeed(
    `postroom-default-hash-users-${extra.length}-${key}`,
    async (dir) => {
      const lines = await Promise.all(extra.map(async (u) => `${u.user}:${await hashPassword(u.password)}`));
      writeFileSync(join(dir, 'users'), `${lines.join('\n')}\n`);
    },
    copy,
  );
  appendFileSync(join(data, 'users'), readFileSync(join(copy, 'users')));
}

export async function startPostroom(opts: PostroomOptions): Promise<RunningServer> {
  const data = join(opts.runDir, 'postroom');
  await cachedSeed(`${SEED_NAME}-${seedKey(opts.spec)}`, (dir) => build(dir, opts.spec), data);
  if (opts.extraUsers?.length) await addExtraUsers(data, opts.runDir, opts.extraUsers);
  // `--workers` is a serve flag: that mode runs the real CLI; otherwise the bench's own entry point
  // (postroom-main.ts), which can raise the connection limits serve has no flags for.
  // Compiled JavaScript unless opts.runtime or POSTROOM_BENCH_RUNTIME says tsx (compiled.ts).
  const root = opts.checkout ?? ROOT;
  // With opts.tls the serve gets an implicit-TLS port too, with the same certificate the bench's own
  // entry point is given (POSTROOM_BENCH_TLS_*), so a TLS cell compares like with like.
  const serveTls = opts.tls ? ['--imaps-port', 'auto', '--tls-cert', opts.tls.cert, '--tls-key', opts.tls.key] : ['--imaps-port', 'off'];
  const args = opts.serveArgs?.length
    ? [...(opts.nodeArgs ?? []), ...postroomEntry(root, 'src/cli/main.ts', opts.runtime), 'serve', '--data', data, '--store', 'sqlite', '--host', '127.0.0.1',
        '--imap-port', 'auto', ...serveTls, '--pop3-port', 'off', '--pop3s-port', 'off', '--allow-insecure-auth',
        '--log-level', 'error', ...opts.serveArgs]
    : // The V8 flags serve's defaults ask for (v8SemiSpaceMb, v8SingleThreadedGc; none today), as serve would relaunch with them.
      [...nodeFlagsFor(DEFAULT_SETTINGS), ...(opts.nodeArgs ?? []), ...postroomEntry(root, 'bench/servers/postroom-main.ts', opts.runtime), data, String(opts.maxConnections ?? 20_000), String(opts.hibernateSeconds ?? '')];
  const env = { ...process.env, ...(opts.tls ? { POSTROOM_BENCH_TLS_CERT: opts.tls.cert, POSTROOM_BENCH_TLS_KEY: opts.tls.key } : {}), ...opts.env };
  const [command, ...argv] = opts.wrap?.length ? [...opts.wrap, process.execPath, ...args] : [process.execPath, ...args];
  const child: ChildProcess = spawn(command!, argv, { stdio: ['ignore', 'pipe', 'inherit'], env, ...(opts.checkout ? { cwd: opts.checkout } : {}) });
  let tlsPort: number | undefined;
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    // POSTROOM_BENCH_STDOUT=FILE keeps the server's other output lines (node's --trace-opt, --trace-gc …).
    const keep = process.env.POSTROOM_BENCH_STDOUT;
    lines.on('line', (line) => {
      if (keep) appendFileSync(keep, `${line}\n`);
      try {
        // postroom-main.ts names its TLS port tlsPort; serve's listening line names it imapsPort.
        const msg = JSON.parse(line) as { msg?: string; imapPort?: number; tlsPort?: number; imapsPort?: number | null };
        tlsPort = msg.tlsPort ?? msg.imapsPort ?? tlsPort;
        if (msg.msg === 'listening' && msg.imapPort) resolve(msg.imapPort);
      } catch {
        /* a log line */
      }
    });
    child.once('exit', (code) => reject(new Error(`postroom serve exited with ${code} before listening`)));
    // A spawn that fails (no such program or folder) emits 'error', not 'exit'; unhandled, it would
    // end the bench at once and leave the servers it had started running.
    child.once('error', reject);
  });
  return {
    name: 'Postroom',
    pid: child.pid!,
    port,
    ...(tlsPort ? { tlsPort } : {}),
    stop: async () => {
      // A wrapper (perf) need not pass SIGTERM on: node's own pid, found among its children.
      if (opts.wrap?.length && child.pid && child.exitCode === null) {
        for (const pid of childPids(child.pid)) {
          try {
            process.kill(pid, 'SIGTERM');
          } catch {
            // gone
          }
        }
      }
      await stopChild(child);
    },
  };
}

/** The pids whose parent is `ppid` (a scan of /proc). */
function childPids(ppid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
