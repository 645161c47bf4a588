/**
 * `npx tsx bench/fixed-path.ts [--base DIR] [--slices N] [--commands N] [--script NAME] [--cpu-prof] [--run-name NAME]`
 *
 * Server CPU per command of the cheap commands — the fixed path every command takes (read, frame,
 * parse, dispatch, handler, encoder, write) — measured on one connection, A/B against another
 * checkout. Two Postroom processes (bench/servers/postroom-main.ts of this checkout and of `--base`,
 * e.g. a `git archive` of an older commit with node_modules linked in) run on copies of the same
 * seeded mail; the client logs in, selects INBOX and sends `--commands` commands of `--script` to
 * each in turn, `--slices` times (A B A B…), reading the server's CPU time (utime + stime of its
 * process's threads from their schedstat in /proc) around each slice. On a loaded machine the wall clock says little; CPU time per
 * command of alternating slices is what to compare (medians printed).
 *
 * Scripts (one entry = one round trip; commands within an entry are pipelined):
 *   noop     NOOP
 *   status   STATUS INBOX (MESSAGES UNSEEN RECENT)
 *   list     LIST "" *
 *   mix      LIST "" * + STATUS INBOX (…) pipelined; NOOP; CHECK; SELECT INBOX — imaptest's
 *            per-round read commands
 *   fetch    imaptest's FETCH shapes over 100 messages each: ENVELOPE; FLAGS INTERNALDATE
 *            RFC822.SIZE; BODYSTRUCTURE + HEADER.FIELDS; UID BODY
 *   statusw  STATUS INBOX after a flag change of 10 messages each time (the STORE counts too:
 *            compare two builds, not this figure with `status`)
 *   fetch2   imaptest's FETCH2: one message's BODY.PEEK[], [HEADER], RFC822.HEADER, [1], [TEXT]
 */
import { connect, type Socket } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_TMP, PASSWORD, mixedUsers } from './servers/common.js';
import { startPostroom, type RunningServer } from './servers/postroom.js';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    slices: { type: 'string', default: '6' },
    commands: { type: 'string', default: '4000' },
    script: { type: 'string', default: 'mix' },
    users: { type: 'string', default: '100' },
    messages: { type: 'string', default: '400' },
    'run-name': { type: 'string', default: 'fixed-path' },
    // A --cpu-prof profile of this checkout's server (not the base's), written under .bench-tmp/profiles.
    'cpu-prof': { type: 'boolean', default: false },
  },
});

const SCRIPTS: Record<string, string[][]> = {
  noop: [['NOOP']],
  status: [['STATUS INBOX (MESSAGES UNSEEN RECENT)']],
  list: [['LIST "" *']],
  mix: [['LIST "" *', 'STATUS INBOX (MESSAGES UNSEEN RECENT)'], ['NOOP'], ['CHECK'], ['SELECT INBOX']],
  statusw: [
    ['STORE 1:10 +FLAGS (\\Flagged)'],
    ['STATUS INBOX (MESSAGES UNSEEN RECENT)'],
    ['STORE 1:10 -FLAGS (\\Flagged)'],
    ['STATUS INBOX (MESSAGES UNSEEN RECENT)'],
  ],
  fetch: [
    ['FETCH 1:100 (ENVELOPE)'],
    ['FETCH 101:200 (FLAGS INTERNALDATE RFC822.SIZE)'],
    ['FETCH 201:300 (BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (From To Subject)])'],
    ['FETCH 301:400 (UID BODY)'],
  ],
  fetch2: [['FETCH 17 (UID BODY.PEEK[])'], ['FETCH 42 (UID BODY.PEEK[HEADER])'], ['FETCH 99 (UID RFC822.HEADER)'], ['FETCH 150 (UID BODY.PEEK[1])'], ['FETCH 300 (UID BODY.PEEK[TEXT])']],
};
const script = SCRIPTS[values.script];
if (!script) throw new Error(`--script: one of ${Object.keys(SCRIPTS).join(', ')}`);

/** CPU time a process has run, in seconds: its threads' schedstat (ns; /proc/PID/stat counts 10 ms ticks). */
function cpuSeconds(pid: number): number {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      /* a thread that ended */
    }
  }
  return ns / 1e9;
}

/** User and system CPU seconds of a process, all threads (/proc/PID/stat, 10 ms ticks): the split only. */
function userSys(pid: number): [number, number] {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return [Number(f[11]) / 100, Number(f[12]) / 100];
}

/** A minimal IMAP client: sends lines, resolves when the tagged reply of the last one arrives. */
class Client {
  private buffered = '';
  private waiting: { tag: string; resolve: (line: string) => void } | null = null;
  private n = 0;
  constructor(private readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.buffered += chunk;
      for (;;) {
        const at = this.buffered.indexOf('\r\n');
        if (at < 0) break;
        const line = this.buffered.slice(0, at);
        this.buffered = this.buffered.slice(at + 2);
        if (this.waiting && line.startsWith(`${this.waiting.tag} `)) {
          const w = this.waiting;
          this.waiting = null;
          w.resolve(line);
        }
      }
    });
  }

  static async open(port: number): Promise<Client> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.setNoDelay(true);
    const c = new Client(socket);
    await new Promise((r) => setTimeout(r, 50)); // the greeting
    return c;
  }

  /** Sends the commands in one write; resolves with the last one's tagged line. */
  send(commands: string[]): Promise<string> {
    let last = '';
    const text = commands
      .map((c) => {
        last = `t${++this.n}`;
        return `${last} ${c}\r\n`;
      })
      .join('');
    return new Promise((resolve) => {
      this.waiting = { tag: last, resolve };
      this.socket.write(text);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

const spec = mixedUsers(Number(values.users), Number(values.messages));
const RUN = join(BENCH_TMP, 'run', values['run-name']);
const servers: { label: string; running: RunningServer }[] = [];
const profile = values['cpu-prof'] ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', join(BENCH_TMP, 'profiles', values['run-name'])] } : {};
servers.push({ label: 'this', running: await startPostroom({ runDir: join(RUN, 'p'), spec, maxConnections: 100, ...profile }) });
if (values.base) servers.push({ label: 'base', running: await startPostroom({ runDir: join(RUN, 'pb'), spec, maxConnections: 100, checkout: values.base }) });

try {
  const clients = new Map<string, Client>();
  for (const s of servers) {
    const c = await Client.open(s.running.port);
    const ok = await c.send([`LOGIN user1 ${PASSWORD}`]);
    if (!/ OK/.test(ok)) throw new Error(`${s.label}: LOGIN failed: ${ok}`);
    await c.send(['SELECT INBOX']);
    // Warm-up: the JIT and the store's caches.
    for (let i = 0; i < 2000; i++) await c.send(script[i % script.length]!);
    clients.set(s.label, c);
  }
  const perSlice = new Map<string, number[]>(servers.map((s) => [s.label, []]));
  const split = new Map<string, [number, number]>(servers.map((s) => [s.label, [0, 0]]));
  const commands = Number(values.commands);
  for (let slice = 0; slice < Number(values.slices); slice++) {
    for (const s of servers) {
      const c = clients.get(s.label)!;
      const cpu0 = cpuSeconds(s.running.pid);
      const [user0, sys0] = userSys(s.running.pid);
      let sent = 0;
      for (let i = 0; sent < commands; i++) {
        const entry = script[i % script.length]!;
        const reply = await c.send(entry);
        if (!/ OK/.test(reply)) throw new Error(`${s.label}: ${entry.join(' + ')}: ${reply}`);
        sent += entry.length;
      }
      perSlice.get(s.label)!.push(((cpuSeconds(s.running.pid) - cpu0) * 1e6) / sent);
      const [user1, sys1] = userSys(s.running.pid);
      const acc = split.get(s.label)!;
      acc[0] += user1 - user0;
      acc[1] += sys1 - sys0;
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  process.stdout.write(`fixed-path, script ${values.script}, ${commands} commands per slice (load ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')})\n`);
  for (const [label, xs] of perSlice) {
    const [user, sys] = split.get(label)!;
    process.stdout.write(`  ${label}: server CPU µs/command median ${median(xs).toFixed(1)}; slices ${xs.map((x) => x.toFixed(1)).join(', ')}; system time ${((100 * sys) / (user + sys)).toFixed(0)} %\n`);
  }
  for (const c of clients.values()) c.close();
} finally {
  for (const s of servers) await s.running.stop();
}
