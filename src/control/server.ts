/**
 * The control socket: a UNIX socket (mode 0600, in the 0700 data folder by default) on which the
 * `postroom` admin commands talk to a running `serve`. Each request frame
 * `{"id": n, "op": name, "args": {...}}` gets exactly one reply `{"id": n, "ok": true, "result"}` or
 * `{"id": n, "ok": false, "error": {"code", "message"}}`, possibly after event frames
 * `{"id": n, "event": name, "data"}`. Requests on one connection run concurrently.
 */
import net from 'node:net';
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import type { Logger } from '../util/logger.js';
import { isStoreError } from '../store/errors.js';
import { FrameError, FrameReader, encodeFrame, type Frame } from './framing.js';
import { ControlError, type ControlCall, type ControlOperations, type ControlSession } from './operations.js';

/** sun_path holds 108 bytes with its NUL on Linux. */
export const MAX_SOCKET_PATH_BYTES = 107;

function errorReply(err: unknown): { code: string; message: string } {
  if (err instanceof ControlError) return { code: err.code, message: err.message };
  if (isStoreError(err)) return { code: err.kind, message: err.message };
  return { code: 'failed', message: err instanceof Error ? err.message : String(err) };
}

/** True when something answers on `path` (another server): its socket must not be taken over. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Removes a socket file left by a server that died; refuses to touch anything else. */
async function clearStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new Error(`control socket ${path}: a file that is not a socket is in the way; remove it or set controlSocket elsewhere`);
  if (await answers(path)) {
    throw new Error(`control socket ${path} is in use: another postroom serve runs on this data folder`);
  }
  unlinkSync(path);
}

export class ControlServer {
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly path: string,
  ) {}

  static async listen(path: string, operations: ControlOperations, logger?: Logger): Promise<ControlServer> {
    if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
      throw new Error(`control socket path ${path} is ${Buffer.byteLength(path)} bytes; UNIX sockets allow ${MAX_SOCKET_PATH_BYTES}: set controlSocket to a shorter path`);
    }
    await clearStaleSocket(path);
    let control: ControlServer | undefined;
    const server = net.createServer((socket) => control!.serve(socket, operations, logger));
    control = new ControlServer(server, path);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // The socket file is created by bind() inside listen(): a umask of 077 makes it 0600 from
      // the start, with no moment in which another user could connect.
      const umask = process.umask(0o077);
      try {
        server.listen(path, () => {
          server.off('error', reject);
          resolve();
        });
      } finally {
        process.umask(umask);
      }
    });
    chmodSync(path, 0o600);
    server.on('error', (err) => logger?.error({ err }, 'control socket error'));
    return control;
  }

  private serve(socket: net.Socket, operations: ControlOperations, logger?: Logger): void {
    this.sockets.add(socket);
    const releases: Array<() => void> = [];
    const session: ControlSession = { values: new Map(), onClose: (release) => releases.push(release) };
    const reader = new FrameReader();
    const send = (frame: Frame): Promise<void> => {
      if (socket.destroyed) return Promise.resolve();
      const parts = encodeFrame(frame);
      let ok = true;
      for (const p of parts) ok = socket.write(p) && ok;
      if (ok) return Promise.resolve();
      return new Promise((resolve) => {
        const done = (): void => {
          socket.off('drain', done);
          socket.off('close', done);
          resolve();
        };
        socket.on('drain', done);
        socket.on('close', done);
      });
    };
    const handle = async (frame: Frame): Promise<void> => {
      const id = frame['id'];
      const opName = frame['op'];
      try {
        if (typeof id !== 'number' && typeof id !== 'string') throw new ControlError('bad-request', 'a request needs an "id"');
        const op = typeof opName === 'string' ? operations.get(opName) : undefined;
        if (!op) throw new ControlError('unknown-op', `unknown operation ${JSON.stringify(opName)} (known: ${[...operations.keys()].join(', ')})`);
        const args = frame['args'] ?? {};
        if (typeof args !== 'object' || args === null || Array.isArray(args)) throw new ControlError('bad-args', '"args" must be an object');
        const call: ControlCall = { session, event: (name, data) => send({ id, event: name, data }) };
        const result = await op.run(args as Record<string, unknown>, call);
        await send({ id, ok: true, result: result ?? null });
      } catch (err) {
        const error = errorReply(err);
        if (error.code === 'failed') logger?.warn({ err, op: opName }, 'control operation failed');
        await send({ id: id ?? null, ok: false, error });
      }
    };
    socket.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = reader.push(chunk);
      } catch (err) {
        const message = err instanceof FrameError ? err.message : 'unreadable input';
        socket.end(encodeFrame({ id: null, ok: false, error: { code: 'bad-request', message } })[0]);
        return;
      }
      for (const f of frames) void handle(f);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.sockets.delete(socket);
      for (const release of releases.splice(0)) {
        try {
          release();
        } catch (err) {
          logger?.warn({ err }, 'releasing a control session failed');
        }
      }
    });
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  }
}
