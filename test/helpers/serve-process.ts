/** `postroom serve` as a child process, for tests that need the real command (crash, LDA, Postfix). */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { CLI_MAIN } from './cli.js';

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
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_MAIN, 'serve', '--log-level', 'warn', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
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
