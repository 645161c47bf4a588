/**
 * `serve --v8-semi-space-mb N --v8-single-threaded-gc` (src/cli/node-flags.ts): node is started
 * again with the flags; the first process stays as a launcher that passes signals on and exits with
 * the server's code, and the server does not outlive a launcher killed outright.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import net from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveProcess } from '../helpers/serve-process.js';
import { RawClient, sleep, until } from '../helpers/raw-client.js';

interface Started {
  launcher: ChildProcessWithoutNullStreams;
  /** The pid in the listening line: the process that serves. */
  pid: number;
  imapPort: number;
  exited: Promise<number | null>;
  /** Every JSON line on stdout so far. */
  lines: Record<string, unknown>[];
}

/** `serve` on the memory store in a fresh data folder; the launcher and the server are killed after the test. */
async function start(t: { after: (fn: () => unknown) => void }, extra: string[], env: NodeJS.ProcessEnv = process.env, data?: string): Promise<Started> {
  const folder = data ?? (await mkdtemp(join(tmpdir(), 'postroom-node-flags-')));
  t.after(() => rm(folder, { recursive: true, force: true }));
  const s = await serveProcess(t, ['--data', folder, '--store', 'memory', '--ephemeral-ports', '--log-level', 'silent', '--allow-insecure-auth', ...extra], env);
  const pid = s.lines.find((l) => l['msg'] === 'listening')!['pid'] as number;
  t.after(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone already */
    }
  });
  return { launcher: s.child, pid, imapPort: s.imapPort, exited: s.exited, lines: s.lines };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const cmdline = async (pid: number): Promise<string[]> => (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');

it('the V8 settings: the server runs in a node started with the flags; SIGTERM to both processes at once is one clean stop (exit 0)', async (t) => {
  const s = await start(t, ['--v8-semi-space-mb', '32', '--v8-single-threaded-gc']);
  assert.notEqual(s.pid, s.launcher.pid, 'a second process serves');
  const args = await cmdline(s.pid);
  for (const flag of ['--min-semi-space-size=32', '--max-semi-space-size=32', '--single-threaded-gc']) assert.ok(args.includes(flag), `${flag} in ${args.join(' ')}`);
  // It serves.
  const c = new RawClient(s.imapPort);
  await c.expect(/^\* OK/);
  c.send('A NOOP\r\n');
  await c.expect(/^A OK/);
  // As systemd stops a unit (its control group) or Ctrl-C (the process group): both get it.
  process.kill(s.launcher.pid!, 'SIGTERM');
  process.kill(s.pid, 'SIGTERM');
  assert.equal(await s.exited, 0, 'the launcher exits with the server\'s clean-stop code');
  await until('the server is gone', () => !alive(s.pid), 10_000);
});

it('the V8 settings: SIGTERM to the launcher alone stops the server cleanly (exit 0)', async (t) => {
  const s = await start(t, ['--v8-semi-space-mb', '8']);
  process.kill(s.launcher.pid!, 'SIGTERM');
  assert.equal(await s.exited, 0);
  await until('the server is gone', () => !alive(s.pid), 10_000);
});

it('the V8 settings: a launcher killed outright (SIGKILL) takes the server with it', async (t) => {
  const s = await start(t, ['--v8-single-threaded-gc']);
  assert.notEqual(s.pid, s.launcher.pid);
  process.kill(s.launcher.pid!, 'SIGKILL');
  await until('the server is gone', () => !alive(s.pid), 15_000);
});

it('no V8 setting, or the flag already given to node (NODE_OPTIONS): no second process', async (t) => {
  const plain = await start(t, []);
  assert.equal(plain.pid, plain.launcher.pid);
  const own = await start(t, ['--v8-semi-space-mb', '32'], { ...process.env, NODE_OPTIONS: '--max-semi-space-size=4' });
  assert.equal(own.pid, own.launcher.pid, 'the operator\'s own flags win');
});

it('the V8 settings: a stopping server takes the same signal from the system after the launcher passed it on as one request, not a second signal', async (t) => {
  const data = await mkdtemp(join(tmpdir(), 'postroom-node-flags-'));
  // A small output buffer, so a FETCH that is not read keeps the server stopping as long as we like.
  const config = join(data, 'config.json');
  await writeFile(config, JSON.stringify({ imapLimits: { maxOutputBuffer: 64 * 1024 } }));
  // At log level info: the test waits for the server's own lines saying which signal it took.
  const s = await start(t, ['--config', config, '--v8-single-threaded-gc', '--demo', '--log-level', 'info'], process.env, data);
  await until('the demo user line', () => s.lines.some((l) => l['msg'] === 'demo user created'));
  const demo = s.lines.find((l) => l['msg'] === 'demo user created')!;
  const login = `L LOGIN ${String(demo['user'])} ${String(demo['password'])}\r\n`;
  const setup = new RawClient(s.imapPort);
  await setup.expect(/^\* OK/);
  setup.send(login);
  await setup.expect(/^L OK/);
  const body = `Subject: big\r\n\r\n${'x'.repeat(76)}\r\n`.repeat(50_000);
  setup.send(`A APPEND INBOX {${body.length}+}\r\n${body}\r\n`);
  await setup.expect(/^A OK/, 30_000);
  // A FETCH of ~4 MB whose reader has paused: the session's command cannot end until it reads.
  const fetcher = net.connect(s.imapPort, '127.0.0.1');
  let tail = '';
  fetcher.setEncoding('latin1');
  fetcher.on('data', (d: string) => (tail = (tail + d).slice(-4096)));
  fetcher.on('error', () => undefined);
  await until('the greeting', () => tail.includes('* OK'));
  fetcher.write(`${login}S SELECT INBOX\r\n`);
  await until('SELECT done', () => /\r\nS OK/.test(tail), 10_000);
  fetcher.pause();
  fetcher.write('F FETCH 1 BODY[]\r\n');
  await sleep(300);

  process.kill(s.launcher.pid!, 'SIGTERM'); // passed on over IPC: the server starts stopping
  // Waited for by the server's own log lines, not by sleeps: under load a sleep can end before the
  // server has taken a signal, and the test would pass without reaching its case.
  const said = (msg: string): boolean => s.lines.some((l) => l['msg'] === msg);
  await until('the server started stopping', () => said('shutting down'), 10_000);
  assert.ok(alive(s.pid), 'stopping, waiting for the FETCH');
  process.kill(s.pid, 'SIGTERM'); // the system's copy of the same signal
  await until('the server took the same signal as one request', () => said('already shutting down: the launcher passed this signal on'), 10_000);
  await sleep(200);
  assert.ok(alive(s.pid), 'the same request again, not a second signal that exits at once');
  assert.ok(!said('second signal: exiting without waiting'));
  fetcher.resume();
  assert.equal(await s.exited, 0, 'a clean stop once the FETCH was read');
  assert.match(tail, /F OK [^\r\n]*\r\n\* BYE [^\r\n]*\r\n$/);
});
