/**
 * Live-server fuzz run: several connections, logged in as bob, pipeline batches of valid commands
 * with random corruptions against a real Postroom IMAP server in this process. It checks that
 * nothing crashes or rejects unhandled, that bob never receives alice's mailbox names or message
 * text, that memory stays bounded, and that a fresh client is still served at the end.
 *
 *   tsx test/fuzz/live.ts --commands 2000000 [--seed 42] [--connections 8]
 */
import fc from 'fast-check';
import net from 'node:net';
import { startImapServer } from '../helpers/imap-server.js';
import { VALID_COMMANDS, corrupt, corruptionArb, framed, type Corruption } from './corpus.js';

export interface LiveFuzzOptions {
  commands: number;
  seed?: number;
  connections?: number;
  batch?: number;
}

export interface LiveFuzzResult {
  commandsSent: number;
  reconnects: number;
  bytesReceived: number;
  /** Fuzzed commands answered OK / BAD / NO (the run is not vacuous: many still do something). */
  answered: { ok: number; bad: number; no: number };
  leaks: string[];
  unhandled: string[];
  rssGrowthBytes: number;
  stillServing: boolean;
  elapsedMs: number;
}

const SECRET_MAILBOX = 'AliceSecretBox';
const SECRET_TEXT = 'alice-secret-text-91c2';

/** A deterministic stream of (command, corruptions) pairs from fast-check's generators. */
function* generated(seed: number): Generator<[string, Corruption[]]> {
  const arb = fc.tuple(fc.constantFrom(...VALID_COMMANDS), fc.array(corruptionArb, { maxLength: 2 }));
  let s = seed;
  for (;;) for (const v of fc.sample(arb, { numRuns: 1000, seed: s++ })) yield v;
}

class Session {
  private buf = '';
  private waiter: { re: RegExp; resolve: (ok: boolean) => void } | null = null;
  closed = false;
  received = 0;
  readonly socket: net.Socket;

  constructor(port: number, private readonly onText: (text: string) => void) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.setEncoding('latin1');
    this.socket.on('data', (d: string) => {
      this.received += d.length;
      this.onText(d);
      this.buf = (this.buf + d).slice(-4096);
      if (this.waiter && this.waiter.re.test(this.buf)) {
        const w = this.waiter;
        this.waiter = null;
        this.buf = '';
        w.resolve(true);
      }
    });
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      this.closed = true;
      this.waiter?.resolve(false);
      this.waiter = null;
    });
  }

  /** Resolves true when `re` has been seen, false on close or timeout. */
  until(re: RegExp, ms: number): Promise<boolean> {
    if (re.test(this.buf)) {
      this.buf = '';
      return Promise.resolve(true);
    }
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiter = null;
        resolve(false);
      }, ms);
      this.waiter = {
        re,
        resolve: (ok) => {
          clearTimeout(t);
          resolve(ok);
        },
      };
    });
  }

  send(b: Buffer | string): void {
    if (!this.closed) this.socket.write(b);
  }
}

export async function runLiveFuzz(options: LiveFuzzOptions): Promise<LiveFuzzResult> {
  const started = Date.now();
  const seed = options.seed ?? 1;
  const connections = options.connections ?? 8;
  const batch = options.batch ?? 400;
  const unhandled: string[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(String(reason));
  process.on('unhandledRejection', onUnhandled);
  process.on('uncaughtException', onUnhandled);

  const server = await startImapServer({
    limits: {
      maxBadCommands: 1_000_000_000,
      maxLiteralSize: 512,
      maxMessageSize: 2048,
      maxLineLength: 4096,
      maxPipelinedBytes: 64 * 1024,
    },
  });
  const leaks: string[] = [];
  let bytesReceived = 0;
  let reconnects = 0;
  let sent = 0;
  const answered = { ok: 0, bad: 0, no: 0 };
  try {
    // Alice's private data, which no byte sent to bob may contain.
    const alice = new Session(server.port, () => undefined);
    const msg = `Subject: ${SECRET_TEXT}\r\n\r\n${SECRET_TEXT}\r\n`;
    alice.send(`a LOGIN alice secret\r\nb CREATE ${SECRET_MAILBOX}\r\nc APPEND ${SECRET_MAILBOX} {${msg.length}+}\r\n${msg}\r\nd APPEND INBOX {${msg.length}+}\r\n${msg}\r\n`);
    if (!(await alice.until(/^d OK/m, 5000))) throw new Error('could not prepare alice');

    const gen = generated(seed);
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const watch = (text: string): void => {
      bytesReceived += text.length;
      if (text.includes(SECRET_TEXT) || text.includes(SECRET_MAILBOX)) leaks.push(text.slice(0, 200));
      for (const m of text.matchAll(/^f\d+ (OK|BAD|NO) /gm)) answered[m[1]!.toLowerCase() as 'ok' | 'bad' | 'no']++;
    };

    async function login(): Promise<Session> {
      const s = new Session(server.port, watch);
      s.send('L LOGIN bob hunter2\r\nS SELECT INBOX\r\n');
      if (!(await s.until(/^S (OK|NO)/m, 5000))) throw new Error('bob could not log in');
      return s;
    }

    async function worker(id: number): Promise<void> {
      let s = await login();
      let round = 0;
      while (sent < options.commands) {
        const parts: Buffer[] = [];
        const n = Math.min(batch, options.commands - sent);
        for (let i = 0; i < n; i++) {
          const [command, corruptions] = gen.next().value as [string, Corruption[]];
          let body: Buffer = Buffer.from(command, 'latin1');
          for (const c of corruptions) body = corrupt(body, c);
          parts.push(framed(`f${i}`, body));
        }
        sent += n;
        const sentinel = `z${id}x${round++}`;
        // Keep bob's mailbox small whatever the batch appended or copied, then ask for the sentinel.
        parts.push(Buffer.from(`\r\nc1 SELECT INBOX\r\nc2 STORE 1:* +FLAGS.SILENT (\\Deleted)\r\nc3 EXPUNGE\r\n${sentinel} NOOP\r\n`));
        s.send(Buffer.concat(parts));
        let ok = await s.until(new RegExp(`^${sentinel} OK`, 'm'), 3000);
        // A corrupted literal may still be swallowing input: feed it filler and ask again.
        for (let tries = 0; !ok && !s.closed && tries < 3; tries++) {
          s.send(`${'\r\n'.repeat(600)}${sentinel} NOOP\r\n`);
          ok = await s.until(new RegExp(`^${sentinel} OK`, 'm'), 3000);
        }
        if (!ok) {
          // BYE (a fatal framing error is a legitimate answer) or a stuck stream: start afresh.
          s.socket.destroy();
          reconnects++;
          s = await login();
        }
        rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      }
      s.send('q LOGOUT\r\n');
      await s.until(/^q OK/m, 2000);
      s.socket.destroy();
    }

    await Promise.all(Array.from({ length: connections }, (_, i) => worker(i)));

    const fresh = new Session(server.port, () => undefined);
    fresh.send('a LOGIN alice secret\r\nb STATUS INBOX (MESSAGES)\r\nc NOOP\r\n');
    const stillServing = await fresh.until(/^c OK/m, 5000);
    fresh.socket.destroy();
    alice.socket.destroy();
    return {
      commandsSent: sent,
      reconnects,
      bytesReceived,
      answered,
      leaks,
      unhandled,
      rssGrowthBytes: rssPeak - rssBefore,
      stillServing,
      elapsedMs: Date.now() - started,
    };
  } finally {
    await server.close();
    process.off('unhandledRejection', onUnhandled);
    process.off('uncaughtException', onUnhandled);
  }
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const result = await runLiveFuzz({ commands: arg('commands', 100_000), seed: arg('seed', Date.now() % 100_000), connections: arg('connections', 8) });
  console.log(JSON.stringify(result, null, 2));
  const failed = result.leaks.length > 0 || result.unhandled.length > 0 || !result.stillServing;
  process.exit(failed ? 1 : 0);
}
