/**
 * Runs an imaptest binary that the caller built (Dovecot's IMAP stress tool; none of its code is in
 * this repository) against one server and reads what it measured: the per-second rows of its
 * `output=FILE` (for each command state: commands done, commands timed, milliseconds summed) and the
 * "Error: …" lines its state tracking prints when an answer breaks its model of the mailbox.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs';

export interface ImaptestRun {
  binary: string;
  host: string;
  port: number;
  /** imaptest's `ssl=any-cert`: implicit TLS, the bench's self-signed certificate accepted. */
  tls: boolean;
  /** `user=` template (e.g. user%d) and `users=` count: user1…userN. */
  userTemplate: string;
  users: number;
  password: string;
  clients: number;
  seconds: number;
  /** The mbox APPEND takes its messages from. */
  mbox: string;
  /** `msgs=`: the mailbox size imaptest's DELETE/APPEND keep it near. */
  messages: number;
  /** Keep the session for the whole run (`logout=0`): the persistent row. */
  persistent: boolean;
  /** Where imaptest writes its per-second rows (`output=`). */
  outputFile: string;
  /** More `key=value` arguments (e.g. checkpoint=5). */
  extra?: string[];
  seed?: number;
}

/** One command state's totals over the measured seconds. */
export interface StateTotals {
  count: number;
  timed: number;
  ms: number;
}

export interface ImaptestResult {
  /** Seconds of rows counted (the run's `secs`, or fewer if it ended early). */
  seconds: number;
  states: Record<string, StateTotals>;
  /** "Error: …" lines (state-tracking violations and failed commands), as printed. */
  errors: string[];
  stdout: string;
}

/** Refuses clearly when `path` is not an executable imaptest (the bench cannot build one). */
export function checkBinary(path: string | undefined): string {
  if (!path) throw new Error('--imaptest PATH is required: a built imaptest binary (Dovecot\'s IMAP stress tool); this repository does not contain or build it');
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`--imaptest ${path}: no executable file there`);
  }
  return path;
}

export function imaptestArgs(r: ImaptestRun): string[] {
  return [
    `host=${r.host}`,
    `port=${r.port}`,
    `user=${r.userTemplate}`,
    `users=${r.users}`,
    `pass=${r.password}`,
    `clients=${r.clients}`,
    // After `secs` imaptest logs its clients out and waits up to 10 s for them.
    `secs=${r.seconds},10`,
    `mbox=${r.mbox}`,
    `msgs=${r.messages}`,
    `output=${r.outputFile}`,
    // COPY needs copybox=; imaptest drops it then, but only after writing its output= header,
    // whose columns would no longer match the rows. Naming it 0 keeps it out of both.
    'copy=0',
    ...(r.persistent ? ['logout=0'] : []),
    ...(r.tls ? ['ssl=any-cert'] : []),
    ...(r.seed !== undefined ? [`seed=${r.seed}`] : []),
    ...(r.extra ?? []),
  ];
}

/**
 * `output=` rows: a header "NAME count\tNAME msecs\t…" (two names per state) and then, once a
 * second, three numbers per state — counter, timer count, timer milliseconds — reset each second.
 */
export function parseOutput(text: string, seconds: number): { seconds: number; states: Record<string, StateTotals> } {
  const lines = text.split('\n').filter((l) => l.length > 0);
  const header = lines[0]?.split('\t') ?? [];
  const names = header.filter((_, i) => i % 2 === 0).map((h) => h.replace(/ count$/, ''));
  const states: Record<string, StateTotals> = Object.fromEntries(names.map((n) => [n, { count: 0, timed: 0, ms: 0 }]));
  const rows = lines.slice(1, 1 + seconds);
  for (const row of rows) {
    const v = row.split('\t').map(Number);
    // A state imaptest turns on after writing the header (CHECKPOINT!, with checkpoint=) is the
    // last one: its values trail and are left out. Fewer values than names mean the columns shifted.
    if (v.length < names.length * 3) throw new Error(`imaptest output: ${v.length} values in a row for ${names.length} states (${names.join(' ')})`);
    names.forEach((n, i) => {
      const s = states[n]!;
      s.count += v[i * 3] ?? 0;
      s.timed += v[i * 3 + 1] ?? 0;
      s.ms += v[i * 3 + 2] ?? 0;
    });
  }
  return { seconds: rows.length, states };
}

export function runImaptest(r: ImaptestRun): Promise<ImaptestResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(r.binary, imaptestArgs(r), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('latin1')));
    child.stderr.on('data', (d: Buffer) => (stdout += d.toString('latin1')));
    // Bounded: the run, its 10 s of logout, and a margin; then it is killed.
    const kill = setTimeout(() => child.kill('SIGKILL'), (r.seconds + 40) * 1000);
    child.once('error', (err) => (clearTimeout(kill), reject(err)));
    child.once('exit', () => {
      clearTimeout(kill);
      // No file: it failed before its first second (stdout says why); no rows are counted then.
      const text = existsSync(r.outputFile) ? readFileSync(r.outputFile, 'latin1') : '';
      let parsed: ReturnType<typeof parseOutput>;
      try {
        parsed = parseOutput(text, r.seconds);
      } catch (err) {
        return reject(err);
      }
      const errors = stdout.split('\n').filter((l) => /\bError:|Panic:|Fatal:/.test(l));
      resolve({ ...parsed, errors, stdout });
    });
  });
}

interface ProcStat {
  pid: number;
  ppid: number;
  /** The command name (/proc/PID/stat's second field). */
  comm: string;
  /** Its own user + system CPU seconds. */
  own: number;
  /** That of the children it has reaped. */
  reaped: number;
}

/** Every process's /proc/PID/stat, as far as the CPU accounting here needs it. */
function procStats(): ProcStat[] {
  const tick = 100; // USER_HZ on Linux
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime stime cutime cstime are fields 14–17 (f[11]…f[14] after the name).
      out.push({
        pid: Number(name),
        ppid: Number(f[1]),
        comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
        own: (Number(f[11]) + Number(f[12])) / tick,
        reaped: (Number(f[13]) + Number(f[14])) / tick,
      });
    } catch {
      /* gone */
    }
  }
  return out;
}

/** CPU seconds (user + system) of a process tree, counting children it has reaped (Dovecot's imap processes). */
export function treeCpuSeconds(root: number): number {
  const stats = procStats();
  let total = 0;
  const todo = [root];
  while (todo.length > 0) {
    const pid = todo.pop()!;
    const s = stats.find((p) => p.pid === pid);
    total += s ? s.own + s.reaped : 0;
    for (const p of stats) if (p.ppid === pid) todo.push(p.pid);
  }
  return total;
}

/**
 * CPU seconds of `root` itself and of each of its living child processes but esbuild (their own
 * utime + stime, reaped grandchildren not counted): for `serve --workers`, the primary's share and each worker's.
 */
export function processCpuSeconds(root: number): Map<number, number> {
  // tsx's esbuild service is a child too, and no part of the server.
  const mine = procStats().filter((p) => p.pid === root || (p.ppid === root && p.comm !== 'esbuild'));
  return new Map(mine.map((p) => [p.pid, p.own]));
}

/**
 * Seconds a thread has run and has waited runnable for a core (/proc/PID/task/TID/schedstat), or
 * null when it is gone. For Postroom's main thread: on a machine busy with other work, a
 * one-process server waits for a core while a process-per-session one spreads over many queues.
 */
export function threadSchedSeconds(pid: number, tid = pid): { ran: number; waited: number } | null {
  try {
    const [ran, waited] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').trim().split(' ').map(Number);
    return { ran: (ran ?? 0) / 1e9, waited: (waited ?? 0) / 1e9 };
  } catch {
    return null;
  }
}
