/** Starts `postroom serve` processes (from source) for multi-node tests and reads their listening line. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { UserFile } from '../../src/auth/user-file.js';
import { CLI_MAIN } from './cli.js';
import { WARM_UP_OFF } from './warm-up-off.js';

export interface ServeNode {
  child: ChildProcess;
  pid: number;
  imapPort: number;
  pop3Port: number;
  /** Everything the listening line said (imapsPort, pop3sPort, controlSocket, …). */
  listening: Record<string, unknown>;
  data: string;
  /** Resolves with the exit code (null after a signal). */
  exited: Promise<number | null>;
  stderr(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** A data folder with users alice and bob (passwords pw-alice, pw-bob; cheap scrypt for tests). */
export async function nodeDataDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-node-'));
  const users = UserFile.inDataDir(dir, { scrypt: { log2N: 10, r: 8, p: 1 } });
  await users.add('alice', 'pw-alice');
  await users.add('bob', 'pw-bob');
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export async function startServeNode(args: string[], data: string, env: NodeJS.ProcessEnv = process.env): Promise<ServeNode> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CLI_MAIN, 'serve', '--data', data, '--imap-port', 'auto', '--imaps-port', 'off', '--pop3-port', 'auto',
      '--pop3s-port', 'off', '--allow-insecure-auth', '--log-level', 'warn', ...WARM_UP_OFF, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], env },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const listening = await new Promise<{ imapPort: number; pop3Port: number; pid: number } & Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line within 60 s; stderr: ${stderr}`)), 60_000);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code}) before listening: ${stderr}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const m = JSON.parse(line) as { msg?: string; imapPort: number; pop3Port: number; pid: number } & Record<string, unknown>;
      if (m.msg === 'listening') {
        clearTimeout(timer);
        resolve(m);
      }
    });
  });
  return {
    child,
    pid: listening.pid,
    imapPort: listening.imapPort,
    pop3Port: listening.pop3Port,
    listening,
    data,
    exited,
    stderr: () => stderr,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
