/**
 * `postroom serve` in a child process, for tests that need a real server process: its memory
 * measured from outside (RSS), signals, exit codes (serveProcess); crash, LDA and Postfix tests
 * (startServe).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { CLI_MAIN } from './cli.js';
import { WARM_UP_OFF } from './warm-up-off.js';

/** The `{"msg":"listening"}` line: every port, null when that listener is off. */
export interface Listening {
  msg: 'listening';
  host: string;
  imapPort: number | null;
  imapsPort: number | null;
  pop3Port: number | null;
  pop3sPort: number | null;
}

export interface ServedProcess {
  child: ChildProcessWithoutNullStreams;
  listening: Listening;
  imapPort: number;
  pop3Port: number | null;
  /** Every JSON line seen on stdout so far. */
  lines: Record<string, unknown>[];
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts `postroom serve ARGS` (in `env`) and resolves at its `{"msg":"listening"}` line; killed after the test. */
export function serveProcess(t: { after: (fn: () => void) => void }, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<ServedProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_MAIN, 'serve', ...WARM_UP_OFF, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines: Record<string, unknown>[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line within 30 s; stderr: ${err}`)), 30_000);
    let buffered = '';
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        const json = JSON.parse(line) as Record<string, unknown>;
        lines.push(json);
        if (json['msg'] === 'listening') {
          clearTimeout(timer);
          resolve({ child, listening: json as unknown as Listening, imapPort: json['imapPort'] as number, pop3Port: (json['pop3Port'] as number | null) ?? null, lines, stderr: () => err, exited });
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before listening; stderr: ${err}`));
    });
  });
}

/** Resident memory of a process in bytes (Linux /proc). */
export async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

export interface Listening {
  host: string;
  imapPort: number | null;
  pop3Port: number | null;
  lmtpPort: number | null;
  lmtpSocket: string | null;
  deliverSocket: string | null;
  pid: number;
}

export interface ServeProcess {
  child: ChildProcessWithoutNullStreams;
  listening: Listening;
  stderr(): string;
  exited: Promise<number | null>;
  /** SIGTERM, and wait for the exit. */
  stop(): Promise<number | null>;
}

/** Starts `postroom serve ARGS`; resolves at its `listening` line. Killed at the latest when the test process exits. */
export function startServe(args: string[]): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_MAIN, 'serve', '--log-level', 'warn', ...WARM_UP_OFF, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  // Not node:test's after(): called from a before() hook, that would run as soon as the hook ends.
  process.once('exit', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line within 30 s; stderr: ${err}`)), 30_000);
    let buffered = '';
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.includes('"listening"')) continue;
        clearTimeout(timer);
        const listening = JSON.parse(line) as Listening;
        resolve({
          child,
          listening,
          stderr: () => err,
          exited,
          stop: () => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before listening; stderr: ${err}`));
    });
  });
}
