/**
 * The server's control socket, DATA/control.sock: how `postroom check` reaches a running server.
 *
 * The SQLite store keeps its database under an exclusive lock for its whole life (docs/sqlite.md,
 * "One process per data folder"), and in WAL mode with that lock no other connection can read it —
 * not even read-only — so an online check must run inside the process that holds the store. The
 * socket is a Unix-domain socket in the data folder (mode 0600, created after privileges are
 * dropped, so the server's user and root can use it and nobody else), speaking one JSON object per
 * line: a request `{"op":"check","quarantine":false}` is answered by `{"progress":…}` lines and a
 * final `{"report":…}`, or `{"error":"…"}`; `{"op":"status"}` by `{"status":…}`.
 */
import { chmodSync, rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { CheckOptions, CheckProgress, CheckReport, HealthStatus, IntegrityResult } from '../store/sqlite/index.js';

export const CONTROL_SOCKET = 'control.sock';
/** sun_path holds 108 bytes on Linux, the terminating NUL included. */
const MAX_SOCKET_PATH = 107;
const PROGRESS_EVERY_MS = 250;

/** What the socket serves: the SQLite store's maintenance side. */
export interface Maintainable {
  check(options: CheckOptions): Promise<CheckReport>;
  health(): HealthStatus;
  integrity(): IntegrityResult;
}

export function isMaintainable(store: object): store is Maintainable {
  const s = store as Partial<Maintainable>;
  return typeof s.check === 'function' && typeof s.health === 'function' && typeof s.integrity === 'function';
}

export interface ControlSocket {
  readonly path: string | null;
  close(): Promise<void>;
}

export function controlSocketPath(dataDir: string): string {
  return join(dataDir, CONTROL_SOCKET);
}

interface Request {
  op?: unknown;
  quarantine?: unknown;
}

/** Starts the socket. The caller holds the store's lock, so a socket file left by a killed server is ours to replace. */
export async function startControlSocket(dataDir: string, store: Maintainable, logger: Logger): Promise<ControlSocket> {
  const path = controlSocketPath(dataDir);
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    logger.warn({ path }, `the data folder's path is too long for a control socket (over ${MAX_SOCKET_PATH} bytes): "postroom check" cannot reach this server while it runs`);
    return { path: null, close: async () => undefined };
  }
  rmSync(path, { force: true });
  let checking = false;
  const server = net.createServer((conn) => {
    conn.setEncoding('utf8');
    let buffered = '';
    const send = (value: unknown): void => {
      if (!conn.destroyed) conn.write(`${JSON.stringify(value)}\n`);
    };
    const handle = async (request: Request): Promise<void> => {
      if (request.op === 'status') return send({ status: { health: store.health(), integrity: store.integrity() } });
      if (request.op !== 'check') return send({ error: `unknown request ${JSON.stringify(request.op)}` });
      if (checking) return send({ error: 'a check is already running on this server' });
      checking = true;
      let last = 0;
      const onProgress = (progress: CheckProgress): void => {
        const now = Date.now();
        if (now - last < PROGRESS_EVERY_MS && progress.done < progress.total) return;
        last = now;
        send({ progress });
      };
      try {
        logger.info({ quarantine: request.quarantine === true }, 'check started through the control socket');
        const report = await store.check({ online: true, quarantine: request.quarantine === true, onProgress });
        logger.info({ damaged: report.damaged, bodies: report.bodies.checked, ms: report.durationMs }, 'check finished');
        send({ report });
      } catch (err) {
        logger.error({ err }, 'check failed');
        send({ error: err instanceof Error ? err.message : String(err) });
      } finally {
        checking = false;
      }
    };
    conn.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.length > 64 * 1024) return conn.destroy();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let request: Request;
        try {
          request = JSON.parse(line) as Request;
        } catch {
          send({ error: 'not a JSON line' });
          continue;
        }
        void handle(request);
      }
    });
    conn.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(path, 0o600);
  server.unref(); // never what keeps a stopping server alive
  logger.debug({ path }, 'control socket listening');
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        rmSync(path, { force: true });
      }),
  };
}

/**
 * Asks a running server for a check. Resolves null when no server listens on the data folder's
 * socket (no socket file, or one left by a server that died).
 */
export function requestCheck(dataDir: string, options: { quarantine: boolean; onProgress?: (p: CheckProgress) => void }): Promise<CheckReport | null> {
  return new Promise((resolve, reject) => {
    const conn = net.connect(controlSocketPath(dataDir));
    let buffered = '';
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      conn.destroy();
      fn();
    };
    conn.setEncoding('utf8');
    conn.on('connect', () => conn.write(`${JSON.stringify({ op: 'check', quarantine: options.quarantine })}\n`));
    conn.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') finish(() => resolve(null));
      else finish(() => reject(err));
    });
    conn.on('close', () => finish(() => reject(new Error('the server closed the control socket before the check finished'))));
    conn.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const message = JSON.parse(buffered.slice(0, nl)) as { progress?: CheckProgress; report?: CheckReport; error?: string };
        buffered = buffered.slice(nl + 1);
        if (message.progress) options.onProgress?.(message.progress);
        else if (message.report) return finish(() => resolve(message.report!));
        else if (message.error !== undefined) return finish(() => reject(new Error(message.error)));
      }
    });
  });
}
