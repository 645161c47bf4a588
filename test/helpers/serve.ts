/** A real `postroom serve` child process for end-to-end tests, started from source like the CLI tests do. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { CLI_MAIN } from './cli.js';

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
  pid: number;
  workers?: number;
}

export interface ServeProcess {
  child: ChildProcessWithoutNullStreams;
  listening: Listening;
  /** Every stdout line so far (JSON log lines and the listening line). */
  lines: string[];
  stderr(): string;
  /** Resolves with the exit code (null: killed by a signal) once the process is gone. */
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after 20 s; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export interface ServeOptions {
  /** Run as this user and group (the tests run as root; a server that must meet file permissions must not). */
  uid?: number;
  gid?: number;
}

/** `postroom serve ARGS`, resolved at its `{"msg":"listening"}` line (rejects if it exits first). */
export function startServe(args: string[], options: ServeOptions = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_MAIN, 'serve', ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(options.uid !== undefined ? { uid: options.uid } : {}),
    ...(options.gid !== undefined ? { gid: options.gid } : {}),
  });
  const lines: string[] = [];
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async (): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.kill('SIGTERM');
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no listening line within 90 s; stderr: ${err}`));
    }, 90_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      if (!line.startsWith('{"msg":"listening"')) return;
      clearTimeout(timer);
      resolve({ child, listening: JSON.parse(line) as Listening, lines, stderr: () => err, exited, stop });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before listening; stderr: ${err}; stdout: ${lines.join('\n')}`));
    });
  });
}

/** Parsed JSON log lines of a serve process (the listening line excluded). */
export function logLines(p: ServeProcess): Array<Record<string, unknown>> {
  return p.lines.filter((l) => l.startsWith('{"level"')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Waits until a log line satisfies `match`. */
export async function waitForLog(p: ServeProcess, match: (line: Record<string, unknown>) => boolean, timeoutMs = 15_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = logLines(p).find(match);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no such log line within ${timeoutMs} ms; lines:\n${p.lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
