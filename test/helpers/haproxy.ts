/**
 * A HAProxy of the test's own: Debian's haproxy (scripts/install-test-deps.sh) run in the
 * foreground (`-db`) from a configuration the test writes into a temporary folder, on loopback
 * ports the test picked, as the unprivileged user "nobody" when the tests run as root. The system
 * service and /etc/haproxy are never touched. stop() ends it (by its pid) and removes the folder.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export const HAPROXY = '/usr/sbin/haproxy';

export interface RunningHaproxy {
  pid: number;
  output(): string;
  stop(): Promise<void>;
}

export function haproxyUnavailable(): string | null {
  return existsSync(HAPROXY) ? null : 'haproxy is not installed (run scripts/install-test-deps.sh as root)';
}

/** A free loopback port (bound and released: the caller binds it soon after). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts haproxy with `config` and waits until every port in `frontends` accepts connections. */
export async function startHaproxy(config: string, frontends: number[]): Promise<RunningHaproxy> {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-haproxy-'));
  await chmod(dir, 0o755);
  const file = join(dir, 'haproxy.cfg');
  await writeFile(file, config, { mode: 0o644 });
  // Only root may switch users; then haproxy runs as nobody, as any other unprivileged user would.
  const ids = userInfo().uid === 0 ? { uid: 65534, gid: 65534 } : {};
  const child = spawn(HAPROXY, ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'], ...ids });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const stop = async (): Promise<void> => {
    if (!gone) child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (const port of frontends) {
    for (;;) {
      if (gone) {
        await stop();
        throw new Error(`haproxy exited at start: ${output}`);
      }
      const ok = await new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
        s.once('error', () => resolve(false));
      });
      if (ok) break;
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`haproxy did not listen on ${port} within 15 s: ${output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { pid: child.pid!, output: () => output, stop };
}
