/**
 * Listening on a UNIX-domain socket path: a socket file left by a process that died (kill -9
 * leaves it) is removed, but one that still answers, or a path that is not a socket, is refused.
 */
import { chmod, lstat, unlink } from 'node:fs/promises';
import net from 'node:net';

/** The longest socket path Linux takes (sun_path is 108 bytes with the terminating NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;

/** Whether something accepts connections on the socket `path`. */
export async function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(path);
    probe.once('connect', () => (probe.destroy(), resolve(true)));
    probe.once('error', () => resolve(false));
  });
}

/** Makes `path` free to listen on, or throws saying why it is not. */
export async function clearStaleSocket(path: string): Promise<void> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    throw new Error(`socket path ${path} is longer than ${MAX_SOCKET_PATH_BYTES} bytes`);
  }
  const stat = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (!stat) return;
  if (!stat.isSocket()) throw new Error(`${path} exists and is not a socket`);
  if (await socketAnswers(path)) throw new Error(`${path} is in use by another process`);
  await unlink(path);
}

/** Binds `server` to the socket `path` with permissions `mode`. */
export async function listenOnSocket(server: net.Server, path: string, mode: number): Promise<void> {
  await clearStaleSocket(path);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(path, mode);
}
