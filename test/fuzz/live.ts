/**
 * Live-server fuzz run against a real Postroom in a process of its own (server-process.ts), IMAP
 * and POP3 on one store:
 * - IMAP connections, logged in as bob, pipeline batches of valid commands with random corruptions;
 * - POP3 connections, each on its own maildrop, do the same with POP3 commands;
 * - hostile shapes (shapes.ts: thousands of tiny literals, 60 KB literals before login, deep and
 *   wide SEARCH criteria, section-like words, POP3 floods) run alongside and must get the answers
 *   the server owes them;
 * - a bystander (probe.mjs, a third process) sends NOOP every 20 ms throughout.
 * It checks that the server never has an unhandled rejection, that bob never receives alice's
 * mailbox names or message text, that the server's memory stays bounded, that the bystander's
 * NOOPs stay fast (p99), and that a fresh client is still served at the end.
 *
 *   tsx test/fuzz/live.ts --commands 1000000 [--seed 42] [--connections 8] [--pop3-share 0.2]
 */
import fc from 'fast-check';
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { VALID_COMMANDS, VALID_POP3_COMMANDS, corrupt, corruptionArb, framed, type Corruption } from './corpus.js';
import { FuzzSession } from './session.js';
import { SHAPES, type ShapeOutcome } from './shapes.js';
import type { FuzzServerOptions } from './server-process.js';

export interface LiveFuzzOptions {
  /** Fuzzed commands in all, IMAP and POP3 together. */
  commands: number;
  seed?: number;
  /** IMAP fuzzing connections. */
  connections?: number;
  /** Share of the commands sent over POP3 (0 … 1). */
  pop3Share?: number;
  pop3Connections?: number;
  batch?: number;
  /** Run the hostile shapes alongside (default true). */
  shapes?: boolean;
}

export interface LiveFuzzResult {
  commandsSent: number;
  pop3CommandsSent: number;
  reconnects: number;
  bytesReceived: number;
  /** Fuzzed IMAP commands answered OK / BAD / NO (the run is not vacuous: many still do something). */
  answered: { ok: number; bad: number; no: number };
  /** Fuzzed POP3 commands answered +OK / -ERR. */
  pop3Answered: { ok: number; err: number };
  shapes: Record<string, number>;
  shapeFailures: ShapeOutcome[];
  leaks: string[];
  unhandled: string[];
  /** Growth of the server process's resident memory, peak over start. */
  rssGrowthBytes: number;
  /**
   * The bystander's NOOP round trips, in ms: `p99`/`max` without the time the server waited for a
   * CPU other processes held (what the server made the client wait), `wallP99`/`wallMax` as seen.
   */
  noop: { count: number; p50: number; p99: number; max: number; wallP50: number; wallP99: number; wallMax: number };
  stillServing: boolean;
  elapsedMs: number;
}

const SECRET_MAILBOX = 'AliceSecretBox';
const SECRET_TEXT = 'alice-secret-text-91c2';
const POP3_MESSAGES = 20;

/** A deterministic stream of (command, corruptions) pairs from fast-check's generators. */
function* generated(seed: number, commands: readonly string[]): Generator<[string, Corruption[]]> {
  const arb = fc.tuple(fc.constantFrom(...commands), fc.array(corruptionArb, { maxLength: 2 }));
  let s = seed;
  // Small samples: generating a thousand at once held the generator's event loop for long.
  for (;;) for (const v of fc.sample(arb, { numRuns: 100, seed: s++ })) yield v;
}

function startServer(options: FuzzServerOptions): Promise<{ child: ChildProcess; imapPort: number; pop3Port: number; unhandled: string[] }> {
  const script = fileURLToPath(new URL('./server-process.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const unhandled: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the fuzz server did not start within 60 s')), 60_000);
    child.on('message', (m: { type: string; imapPort?: number; pop3Port?: number; text?: string }) => {
      if (m.type === 'unhandled') unhandled.push(m.text ?? '');
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve({ child, imapPort: m.imapPort!, pop3Port: m.pop3Port!, unhandled });
      }
    });
    child.once('exit', (code) => reject(new Error(`the fuzz server exited with ${code}`)));
  });
}

interface ProbeSamples {
  /** Round trips as the bystander saw them (ms). */
  wall: number[];
  /** The same without the time the server and the probe waited for a CPU held by others (probe.mjs). */
  server: number[];
}

function startProbe(port: number, serverPid: number): { stop: () => Promise<ProbeSamples> } {
  const script = fileURLToPath(new URL('./probe.mjs', import.meta.url));
  const child = fork(script, [String(port), 'alice', 'secret', '20', String(serverPid)], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const result = new Promise<ProbeSamples>((resolve, reject) => {
    child.once('message', (m: ProbeSamples & { error?: string }) => (m.error ? reject(new Error(`probe: ${m.error}`)) : resolve(m)));
    child.once('exit', () => reject(new Error('the probe exited without samples')));
  });
  result.catch(() => undefined);
  return {
    stop: () => {
      child.send({ type: 'stop' });
      return result;
    },
  };
}

async function rssOf(pid: number): Promise<number> {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

export async function runLiveFuzz(options: LiveFuzzOptions): Promise<LiveFuzzResult> {
  const started = Date.now();
  const seed = options.seed ?? 1;
  const connections = options.connections ?? 8;
  const pop3Connections = options.pop3Connections ?? 2;
  const batch = options.batch ?? 400;
  const pop3Total = Math.round(options.commands * (options.pop3Share ?? 0.2));
  const imapTotal = options.commands - pop3Total;
  const shapeUsers = [`pop${pop3Connections}`, `pop${pop3Connections + 1}`];

  const server = await startServer({
    imapLimits: { maxBadCommands: 1_000_000_000, maxLiteralSize: 512, maxMessageSize: 2048, maxLineLength: 4096, maxPipelinedBytes: 64 * 1024 },
    pop3Limits: { maxBadCommands: 1_000_000_000, maxAuthFailures: 1_000_000_000, authFailureDelaySeconds: 0 },
    pop3Users: pop3Connections + shapeUsers.length,
    pop3Messages: POP3_MESSAGES,
  });
  const serverPid = server.child.pid!;
  const { imapPort, pop3Port } = server;
  const leaks: string[] = [];
  let bytesReceived = 0;
  let reconnects = 0;
  let sent = 0;
  let pop3Sent = 0;
  const answered = { ok: 0, bad: 0, no: 0 };
  const pop3Answered = { ok: 0, err: 0 };
  const shapeCounts: Record<string, number> = {};
  const shapeFailures: ShapeOutcome[] = [];
  let probe: ReturnType<typeof startProbe> | undefined;
  try {
    // Alice's private data, which no byte sent to bob may contain.
    const alice = new FuzzSession(imapPort);
    const msg = `Subject: ${SECRET_TEXT}\r\n\r\n${SECRET_TEXT}\r\n`;
    alice.send(`a LOGIN alice secret\r\nb CREATE ${SECRET_MAILBOX}\r\nc APPEND ${SECRET_MAILBOX} {${msg.length}+}\r\n${msg}\r\nd APPEND INBOX {${msg.length}+}\r\n${msg}\r\n`);
    if (!(await alice.until(/^d OK/m, 10_000))) throw new Error('could not prepare alice');
    alice.destroy();

    const rssBefore = await rssOf(serverPid);
    let rssPeak = rssBefore;
    let running = true;
    const rssWatch = (async () => {
      while (running) {
        rssPeak = Math.max(rssPeak, await rssOf(serverPid).catch(() => 0));
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    probe = startProbe(imapPort, serverPid);

    const imapGen = generated(seed, VALID_COMMANDS);
    const watch = (text: string): void => {
      bytesReceived += text.length;
      if (text.includes(SECRET_TEXT) || text.includes(SECRET_MAILBOX)) leaks.push(text.slice(0, 200));
      for (const m of text.matchAll(/^f\d+ (OK|BAD|NO) /gm)) answered[m[1]!.toLowerCase() as 'ok' | 'bad' | 'no']++;
    };

    async function imapLogin(): Promise<FuzzSession> {
      const s = new FuzzSession(imapPort, watch);
      s.send('L LOGIN bob hunter2\r\nS SELECT INBOX\r\n');
      if (!(await s.until(/^S (OK|NO)/m, 10_000))) throw new Error('bob could not log in');
      return s;
    }

    async function imapWorker(id: number): Promise<void> {
      let s = await imapLogin();
      for (let round = 0; sent < imapTotal; round++) {
        const parts: Buffer[] = [];
        const n = Math.min(batch, imapTotal - sent);
        for (let i = 0; i < n; i++) {
          const [command, corruptions] = imapGen.next().value as [string, Corruption[]];
          let body: Buffer = Buffer.from(command, 'latin1');
          for (const c of corruptions) body = corrupt(body, c);
          parts.push(framed(`f${i}`, body));
        }
        sent += n;
        const sentinel = `z${id}x${round}`;
        // Keep bob's mailbox small whatever the batch appended or copied, then ask for the sentinel.
        parts.push(Buffer.from(`\r\nc1 SELECT INBOX\r\nc2 STORE 1:* +FLAGS.SILENT (\\Deleted)\r\nc3 EXPUNGE\r\n${sentinel} NOOP\r\n`));
        s.send(Buffer.concat(parts));
        let ok = await s.until(new RegExp(`^${sentinel} OK`, 'm'), 5000);
        // A corrupted literal may still be swallowing input: feed it filler and ask again.
        for (let tries = 0; !ok && !s.closed && tries < 3; tries++) {
          s.send(`${'\r\n'.repeat(600)}${sentinel} NOOP\r\n`);
          ok = await s.until(new RegExp(`^${sentinel} OK`, 'm'), 5000);
        }
        if (!ok) {
          // BYE (a fatal framing error is a legitimate answer) or a stuck stream: start afresh.
          s.destroy();
          reconnects++;
          s = await imapLogin();
        }
      }
      s.send('q LOGOUT\r\n');
      await s.until(/^q OK/m, 2000);
      s.destroy();
    }

    const popGen = generated(seed + 7919, VALID_POP3_COMMANDS);
    const popWatch = (text: string): void => {
      bytesReceived += text.length;
      for (const m of text.matchAll(/^(\+OK|-ERR)/gm)) pop3Answered[m[1] === '+OK' ? 'ok' : 'err']++;
    };
    async function pop3Login(user: string): Promise<FuzzSession> {
      for (let attempt = 0; ; attempt++) {
        const s = new FuzzSession(pop3Port, popWatch);
        if (await s.until(/^\+OK/m, 10_000)) {
          s.send(`USER ${user}\r\n`);
          if (await s.until(/^\+OK/m, 10_000)) {
            s.send('PASS pw\r\n');
            if (await s.until(/^(\+OK|-ERR)/m, 10_000) && !s.closed) {
              s.send('NOOP\r\n');
              // A maildrop is locked until a lost session of its user is cleaned up: then PASS fails.
              if (await s.until(/^\+OK/m, 10_000)) return s;
            }
          }
        }
        s.destroy();
        if (attempt > 50) throw new Error(`${user} could not log in over POP3`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    async function pop3Worker(id: number): Promise<void> {
      const user = `pop${id}`;
      let s = await pop3Login(user);
      for (let round = 0; pop3Sent < pop3Total; round++) {
        const parts: Buffer[] = [];
        const n = Math.min(batch / 4, pop3Total - pop3Sent);
        for (let i = 0; i < n; i++) {
          const [command, corruptions] = popGen.next().value as [string, Corruption[]];
          let body: Buffer = Buffer.from(command, 'latin1');
          for (const c of corruptions) body = corrupt(body, c);
          // One command per line: a corruption's CR or LF would start another (still a fuzzed command).
          parts.push(body, Buffer.from('\r\n'));
        }
        pop3Sent += n;
        // A sentinel the server echoes: an unknown keyword of letters only.
        const sentinel = `ZQ${String.fromCharCode(65 + (id % 26))}${[...String(round)].map((d) => String.fromCharCode(65 + Number(d))).join('')}`;
        parts.push(Buffer.from(`RSET\r\n${sentinel}\r\n`));
        s.send(Buffer.concat(parts));
        if (!(await s.until(new RegExp(`^-ERR Unknown command: ${sentinel}`, 'mi'), 10_000))) {
          s.destroy();
          reconnects++;
          s = await pop3Login(user);
        }
      }
      s.destroy();
    }

    let fuzzing = true;
    async function shapes(): Promise<void> {
      for (let round = 0; fuzzing && options.shapes !== false; round++) {
        const shape = SHAPES[round % SHAPES.length]!;
        const result = await shape({ imapPort, pop3Port, pop3Users: shapeUsers }, Math.floor(round / SHAPES.length));
        shapeCounts[result.shape] = (shapeCounts[result.shape] ?? 0) + 1;
        if (!result.ok) shapeFailures.push(result);
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    const shapesDone = shapes();
    await Promise.all([
      ...Array.from({ length: connections }, (_, i) => imapWorker(i)),
      ...Array.from({ length: pop3Total > 0 ? pop3Connections : 0 }, (_, i) => pop3Worker(i)),
    ]);
    fuzzing = false;
    await shapesDone;
    const probed = await probe.stop();
    const samples = probed.server.sort((a, b) => a - b);
    const wall = probed.wall.sort((a, b) => a - b);
    probe = undefined;
    running = false;
    await rssWatch;

    const fresh = new FuzzSession(imapPort);
    fresh.send('a LOGIN alice secret\r\nb STATUS INBOX (MESSAGES)\r\nc NOOP\r\n');
    const stillServing = await fresh.until(/^c OK/m, 10_000);
    fresh.destroy();
    return {
      commandsSent: sent,
      pop3CommandsSent: pop3Sent,
      reconnects,
      bytesReceived,
      answered,
      pop3Answered,
      shapes: shapeCounts,
      shapeFailures,
      leaks,
      unhandled: server.unhandled,
      rssGrowthBytes: rssPeak - rssBefore,
      noop: {
        count: samples.length,
        p50: quantile(samples, 0.5),
        p99: quantile(samples, 0.99),
        max: samples[samples.length - 1] ?? 0,
        wallP50: quantile(wall, 0.5),
        wallP99: quantile(wall, 0.99),
        wallMax: wall[wall.length - 1] ?? 0,
      },
      stillServing,
      elapsedMs: Date.now() - started,
    };
  } finally {
    await probe?.stop().catch(() => undefined);
    server.child.send({ type: 'close' });
    const exited = new Promise((r) => server.child.once('exit', r));
    await Promise.race([exited, new Promise((r) => setTimeout(r, 25_000))]);
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
  }
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** The bystander's bound, CI and long runs alike. */
export const NOOP_P99_MS = 100;

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const result = await runLiveFuzz({
    commands: arg('commands', 100_000),
    seed: arg('seed', Date.now() % 100_000),
    connections: arg('connections', 8),
    pop3Share: arg('pop3-share', 0.2),
  });
  console.log(JSON.stringify({ ...result, shapeFailures: result.shapeFailures.slice(0, 5) }, null, 2));
  const failed =
    result.leaks.length > 0 || result.unhandled.length > 0 || result.shapeFailures.length > 0 || !result.stillServing || result.noop.p99 >= NOOP_P99_MS;
  process.exit(failed ? 1 : 0);
}
