/**
 * Start-up warm-up of `postroom serve`: before the real listeners open, a few hundred IMAP
 * commands — mostly APPENDs, with the FETCH, STORE, EXPUNGE, STATUS, LIST and NOOP a client sends
 * beside them — run through the same code a client reaches (TCP, the TLS record layer, the parser,
 * the session, the SQLite store with its group commit and WAL syncs), against a throwaway store in
 * a temporary folder that is deleted afterwards. The real store and the users file are not touched.
 *
 * Why: V8 compiles a function to optimized code only once it has run for a while. A fresh server's
 * first few hundred APPENDs ran while V8 was still compiling the APPEND path — about 70 TurboFan
 * compiles inside the first 303 APPENDs, with the path's functions run unoptimized meanwhile, ~1.6×
 * the main thread's CPU per APPEND of a server that had been up for a while (bench/RESULTS.md,
 * "Sequential APPEND on a fresh server"). Optimized code belongs to the function, not to the store
 * or connection it ran for, so what the warm-up's store and connection made hot serves the first
 * real client too.
 *
 * On by default (`warmUp`; `--no-warm-up` turns it off) and bounded (`warmUpLimits`,
 * docs/configuration.md): at most `appends` APPENDs (default 300) and `ms` milliseconds of wall
 * time (default 5,000: on a quiet two-core machine the 300 take under a second; a loaded one
 * stretches them, and the bound keeps the start from stretching without end), whichever comes
 * first. Only for the SQLite store (the store the warm-up makes is a SQLite one; PostgreSQL's and
 * the memory store's paths are other code). A failure is logged and the server starts anyway: the warm-up only ever costs start time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../util/logger.js';
import { SILENT_LOGGER } from '../util/logger.js';
import type { TlsOptions } from '../net/tls.js';

export interface WarmUpLimits {
  /** APPENDs at most (the other commands come between them); 0: no warm-up. */
  appends: number;
  /** Wall-clock bound of the whole warm-up, ms (a slow or loaded machine stops early). */
  ms: number;
}

export const DEFAULT_WARM_UP: Readonly<WarmUpLimits> = Object.freeze({ appends: 300, ms: 5_000 });

/** `warmUpLimits` from the config file: the defaults with its overrides, checked. */
export function resolveWarmUp(overrides: Record<string, number> | undefined): WarmUpLimits {
  const out: WarmUpLimits = { ...DEFAULT_WARM_UP };
  for (const [key, value] of Object.entries(overrides ?? {})) {
    if (key !== 'appends' && key !== 'ms') throw new RangeError(`warmUpLimits: unknown setting ${key} (appends, ms)`);
    if (!Number.isInteger(value) || value < 0 || value > (key === 'appends' ? 10_000 : 60_000)) {
      throw new RangeError(`warmUpLimits.${key} must be a whole number from 0 to ${key === 'appends' ? '10000' : '60000'}`);
    }
    out[key] = value;
  }
  return out;
}

export interface WarmUpTarget {
  /** The TLS options of the real listeners; implicit TLS is warmed when they serve it. */
  tls?: TlsOptions;
  /** Whether the real IMAP listeners include implicit TLS (else the plaintext path is warmed). */
  implicitTls: boolean;
  literalMinus: boolean;
  imapLimits?: Record<string, number>;
}

export interface WarmUpReport {
  appends: number;
  commands: number;
  ms: number;
  /** The SQL its store prepared: for the real store to prepare ahead (SqliteStore.prepareAhead). */
  statements: string[];
}

const USER = 'warm-up';
/** A whole command's answer may take this long before the warm-up gives up (a bug, never a wait). */
const COMMAND_TIMEOUT_MS = 5_000;

/**
 * Runs the warm-up (see the file comment). Resolves with what it did; never rejects — a failure
 * is logged at warn and reported as what was done until then.
 */
export async function warmUp(limits: WarmUpLimits, target: WarmUpTarget, logger: Logger): Promise<WarmUpReport | null> {
  if (limits.appends === 0 || limits.ms === 0) return null;
  const started = performance.now();
  const deadline = started + limits.ms;
  const folder = await mkdtemp(join(tmpdir(), 'postroom-warm-up-'));
  const password = randomBytes(18).toString('base64url');
  let store: { close(): Promise<void>; preparedSql(): string[] } | undefined;
  let server: { close(): Promise<void> } | undefined;
  let client: ScriptClient | undefined;
  const done = { appends: 0, commands: 0 };
  let statements: string[] = [];
  try {
    const { SqliteStore } = await import('../store/sqlite/index.js');
    const { createImapServer } = await import('../imap/server.js');
    const { StaticAuthenticator } = await import('../auth/static-users.js');
    // Checkpoints, WAL syncs and group commits as the real store runs them; no WAL prefill (start time).
    const opened = await SqliteStore.open({ directory: join(folder, 'data'), logger: SILENT_LOGGER });
    store = opened;
    const tlsOn = target.implicitTls && target.tls !== undefined;
    const imap = createImapServer({
      store: opened,
      auth: new StaticAuthenticator({ [USER]: password }),
      host: '127.0.0.1',
      port: tlsOn ? null : 0,
      tlsPort: tlsOn ? 0 : null,
      ...(tlsOn ? { tls: target.tls } : {}),
      allowInsecureAuth: !tlsOn,
      literalMinus: target.literalMinus,
      ...(target.imapLimits ? { limits: target.imapLimits } : {}),
      logger: SILENT_LOGGER,
    });
    server = imap;
    const bound = await imap.listen();
    client = await ScriptClient.connect(tlsOn ? bound.tlsPort! : bound.port!, tlsOn);
    await runScript(client, password, limits.appends, deadline, done);
  } catch (err) {
    logger.warn({ err, ...done }, 'start-up warm-up stopped early (the server starts anyway)');
  } finally {
    client?.close();
    await server?.close().catch(() => undefined);
    statements = store?.preparedSql() ?? [];
    await store?.close().catch(() => undefined);
    await rm(folder, { recursive: true, force: true }).catch(() => undefined);
  }
  const report = { ...done, ms: Math.round(performance.now() - started), statements };
  logger.debug({ ...done, ms: report.ms, statements: report.statements.length }, 'start-up warm-up done');
  return report;
}

/**
 * What a mail client does around saving mail: LOGIN, a folder to save into, INBOX selected; then
 * APPENDs (both into the selected INBOX and into the other folder, synchronizing literals, with and
 * without flags, mostly a few KB, some with an attachment, a few above the store's 256 KiB inline
 * bound), and between them the reads and flag changes of a client looking at what it saved.
 */
async function runScript(c: ScriptClient, password: string, appends: number, deadline: number, done: { appends: number; commands: number }): Promise<void> {
  const run = async (line: string, literal?: Buffer): Promise<void> => {
    await c.command(line, literal);
    done.commands++;
  };
  await run(`LOGIN ${USER} "${password}"`);
  await run('CREATE Saved');
  await run('SELECT INBOX');
  let inInbox = 0;
  for (let i = 0; i < appends && performance.now() < deadline; i++) {
    const toInbox = i % 4 === 3;
    const flags = i % 3 === 0 ? '' : i % 3 === 1 ? '(\\Seen) ' : '(\\Seen $Forwarded) ';
    const message = warmUpMessage(i);
    await run(`APPEND ${toInbox ? 'INBOX' : 'Saved'} ${flags}{${message.length}}`, message);
    done.appends++;
    if (toInbox) inInbox++;
    if (i % 4 === 3) {
      await run(`FETCH ${inInbox} (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)`);
      await run(`STORE ${inInbox} +FLAGS.SILENT (\\Flagged)`);
      await run('NOOP');
    }
    if (i % 8 === 7) {
      await run(`FETCH 1:${inInbox} (UID FLAGS)`);
      await run(`FETCH ${inInbox} (BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])`);
      await run('STATUS Saved (MESSAGES UNSEEN UIDNEXT)');
      await run('LIST "" "*"');
    }
    if (i % 16 === 15 && inInbox > 1) {
      await run(`STORE ${inInbox - 1} +FLAGS (\\Deleted)`);
      await run('EXPUNGE');
      inInbox--;
    }
  }
  await run('LOGOUT');
}

const WORDS = 'the of and to a in is it you that he was for on are with as his they be at one have this from or had by word but what some we can out other were all there when up use your how said an each she which do their time if will way about many then them write would like so these her long make thing see him two has look more day could go come did number sound no most people my over know water than call first who may down side been now find'.split(' ');

/** The i-th warm-up message: text of 1–8 KB; every 8th with a 10–40 KB attachment, every 100th one of ~300 KB. */
export function warmUpMessage(i: number): Buffer {
  const words = (n: number, seed: number): string => {
    const out: string[] = [];
    for (let k = 0; k < n; k++) out.push(WORDS[(seed * 7 + k * 13 + ((k * k) % 11)) % WORDS.length]!);
    return out.join(' ');
  };
  const lines: string[] = [];
  const textBytes = 1000 + ((i * 733) % 7000);
  for (let n = 0; n * 70 < textBytes; n++) lines.push(words(12, i + n));
  const head = [
    `From: Sender ${i % 7} <sender${i % 7}@example.org>`,
    `To: warm-up@example.com`,
    ...(i % 5 === 0 ? [`Cc: Other <other${i % 3}@example.net>`] : []),
    `Subject: ${i % 2 === 0 ? 'Re: ' : ''}${words(5, i)}`,
    `Date: ${new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <warm-up-${i}@example.org>`,
    ...(i % 2 === 1 ? [`In-Reply-To: <warm-up-${i - 1}@example.org>`] : []),
    'MIME-Version: 1.0',
  ];
  const attachment = i % 100 === 50 ? 300_000 : i % 8 === 4 ? 10_000 + ((i * 977) % 30_000) : 0;
  if (attachment === 0) {
    return Buffer.from([...head, 'Content-Type: text/plain; charset=utf-8', '', ...lines, ''].join('\r\n'));
  }
  const data = Buffer.alloc(Math.ceil((attachment * 3) / 4), i & 0xff).toString('base64');
  const b64 = data.match(/.{1,76}/g) ?? [];
  return Buffer.from(
    [
      ...head,
      'Content-Type: multipart/mixed; boundary="b-warm-up"',
      '',
      '--b-warm-up',
      'Content-Type: text/plain; charset=utf-8',
      '',
      ...lines,
      '--b-warm-up',
      `Content-Type: application/octet-stream; name="file-${i}.bin"`,
      'Content-Transfer-Encoding: base64',
      `Content-Disposition: attachment; filename="file-${i}.bin"`,
      '',
      ...b64,
      '--b-warm-up--',
      '',
    ].join('\r\n'),
  );
}

/**
 * Just enough of an IMAP client for the script: one command at a time, a synchronizing literal
 * sent after the server's `+`, literals in responses skipped, anything but a tagged OK an error.
 */
class ScriptClient {
  private buffer: Buffer = Buffer.alloc(0);
  /** Bytes of a response literal still to skip. */
  private skip = 0;
  private waiter: ((line: string | Error) => void) | null = null;
  private lines: string[] = [];
  private failed: Error | null = null;
  private tag = 0;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => this.onData(d));
    const fail = (err?: Error): void => {
      this.failed ??= err ?? new Error('warm-up connection closed');
      this.waiter?.(this.failed);
    };
    socket.on('error', fail);
    socket.on('close', () => fail());
  }

  static async connect(port: number, secure: boolean): Promise<ScriptClient> {
    // Our own listener on loopback, just bound to a port only this process knows: no name to verify.
    const socket = secure ? tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }) : net.connect({ host: '127.0.0.1', port });
    socket.setNoDelay(true);
    const client = new ScriptClient(socket);
    const greeting = await client.nextLine();
    if (!greeting.startsWith('* OK')) throw new Error(`warm-up: unexpected greeting ${greeting.slice(0, 80)}`);
    return client;
  }

  private onData(d: Buffer): void {
    this.buffer = this.buffer.length === 0 ? d : Buffer.concat([this.buffer, d]);
    for (;;) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, this.buffer.length);
        this.skip -= n;
        this.buffer = this.buffer.subarray(n);
        if (this.skip > 0) return;
      }
      const end = this.buffer.indexOf('\r\n');
      if (end < 0) return;
      const line = this.buffer.toString('latin1', 0, end);
      this.buffer = this.buffer.subarray(end + 2);
      const literal = /\{(\d+)\}$/.exec(line);
      if (literal) this.skip = Number(literal[1]);
      this.lines.push(line);
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = null;
        w(this.lines.shift()!);
      }
    }
  }

  private nextLine(): Promise<string> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new Error('warm-up: no answer in time'));
      }, COMMAND_TIMEOUT_MS);
      this.waiter = (l) => {
        clearTimeout(timer);
        if (l instanceof Error) reject(l);
        else resolve(l);
      };
    });
  }

  async command(line: string, literal?: Buffer): Promise<void> {
    const tag = `W${++this.tag}`;
    this.socket.write(`${tag} ${line}\r\n`);
    if (literal) {
      for (;;) {
        const l = await this.nextLine();
        if (l.startsWith('+')) break;
        if (l.startsWith(`${tag} `)) throw new Error(`warm-up: ${l.slice(0, 120)}`);
      }
      this.socket.write(literal);
      this.socket.write('\r\n');
    }
    for (;;) {
      const l = await this.nextLine();
      if (!l.startsWith(`${tag} `)) continue;
      if (!l.startsWith(`${tag} OK`)) throw new Error(`warm-up: ${line.split(' ')[0]} answered ${l.slice(0, 120)}`);
      return;
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
