/**
 * `postroom serve` as a child process, for end-to-end tests that need the real command: its
 * startup checks, its log lines, its exit code. Resolves at the `{"msg":"listening"}` line.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { CLI_MAIN } from './cli.js';
import { WARM_UP_OFF } from './warm-up-off.js';

export interface Listening {
  msg: 'listening';
  host: string;
  imapPort: number | null;
  imapsPort: number | null;
  pop3Port: number | null;
  pop3sPort: number | null;
  metricsPort: number | null;
  autoconfigPort: number | null;
  controlSocket: string;
  lmtpPort: number | null;
  lmtpSocket: string | null;
  deliverSocket: string | null;
  managesievePort?: number | null;
  pid: number;
  workers?: number;
}

export interface ServeChild {
  child: ChildProcessWithoutNullStreams;
  listening: Listening;
  /** Everything written to stdout so far (log lines are JSON when stdout is not a TTY). */
  stdout(): string;
  /** Every complete stdout line so far (JSON log lines and the listening line). */
  readonly lines: string[];
  stderr(): string;
  /** stdout's JSON lines so far. */
  logLines(): Array<Record<string, unknown>>;
  exited: Promise<number | null>;
  /** SIGTERM, then waits for the exit; SIGKILL after 20 s. */
  stop(): Promise<number | null>;
}

export interface ServeOptions {
  env?: NodeJS.ProcessEnv;
  /** A command the node process runs under, e.g. ['unshare', '--mount', 'sh', '-c', '…"$@"', 'sh']. */
  wrap?: string[];
  timeoutMs?: number;
  /** Run as this user and group (the tests run as root; a server that must meet file permissions must not). */
  uid?: number;
  gid?: number;
}

export type ServeProcess = ServeChild;

const running = new Set<ChildProcessWithoutNullStreams>();
process.on('exit', () => {
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function parseJsonLines(text: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line cut in half at the end of the buffer
    }
  }
  return out;
}

/** Spawns `postroom ARGS` (any sub-command) with the same wrapping and output capture. */
export function spawnPostroom(args: string[], options: ServeOptions = {}): ChildProcessWithoutNullStreams {
  const node = [process.execPath, '--import', 'tsx', CLI_MAIN, ...args];
  const [cmd, ...rest] = options.wrap ? [...options.wrap, ...node] : node;
  const child = spawn(cmd!, rest, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: options.env ?? process.env,
    ...(options.uid !== undefined ? { uid: options.uid } : {}),
    ...(options.gid !== undefined ? { gid: options.gid } : {}),
  });
  running.add(child);
  child.on('exit', () => running.delete(child));
  return child;
}

/** Starts `postroom serve ARGS` and resolves once it listens; rejects with its stderr if it exits first. */
export function startServe(args: string[], options: ServeOptions = {}): Promise<ServeChild> {
  const child = spawnPostroom(['serve', ...WARM_UP_OFF, ...args], options);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not listen within ${options.timeoutMs ?? 90_000} ms; stderr: ${err}`));
    }, options.timeoutMs ?? 90_000);
    const onData = (): void => {
      const listening = parseJsonLines(out).find((l) => l['msg'] === 'listening');
      if (!listening) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      resolve({
        child,
        listening: listening as unknown as Listening,
        stdout: () => out,
        get lines() {
          return out.split('\n').slice(0, -1);
        },
        stderr: () => err,
        logLines: () => parseJsonLines(out),
        exited,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
          const code = await exited;
          clearTimeout(t);
          return code;
        },
      });
    };
    child.stdout.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new ServeExit(code, out, err));
    });
  });
}

/** serve ended before it listened: its exit code and output. */
export class ServeExit extends Error {
  constructor(
    readonly code: number | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`serve exited with ${code} before listening; stderr: ${stderr}`);
  }
}

/** Runs `postroom ARGS` to completion (no TTY). */
export async function runPostroom(args: string[], options: ServeOptions & { input?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnPostroom(args, options);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  child.stdin.end(options.input ?? '');
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  // 'exit' can come before the pipes drained
  await new Promise<void>((resolve) => (child.stdout.readableEnded ? resolve() : child.stdout.once('end', () => resolve())));
  clearTimeout(timer);
  return { code, stdout: out, stderr: err };
}

/** Parsed JSON log lines of a serve process (the listening line excluded). */
export function logLines(p: ServeChild): Array<Record<string, unknown>> {
  return p.logLines().filter((l) => l['msg'] !== 'listening');
}

/** Waits until a log line satisfies `match`. */
export async function waitForLog(p: ServeChild, match: (line: Record<string, unknown>) => boolean, timeoutMs = 15_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = logLines(p).find(match);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no such log line within ${timeoutMs} ms; lines:\n${p.stdout()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
