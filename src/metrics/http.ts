/**
 * The operations listener: GET /metrics (Prometheus text format), /healthz (the process answers)
 * and /readyz (every readiness check passes: the store is open and writable, the mail listeners
 * are bound, the server is not shutting down). Meant for loopback or a monitoring network only —
 * it needs no authentication because it tells nothing about anybody's mail.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A readiness check: resolves null when fine, or a short reason (shown in the /readyz body). */
export type ReadinessCheck = () => Promise<string | null> | string | null;

export interface OpsListenerOptions {
  host: string;
  /** 0: any free port. */
  port: number;
  /** The exposition text and its content type (may gather several processes). */
  metrics: () => Promise<{ contentType: string; text: string }>;
  readiness: Record<string, ReadinessCheck>;
  /** How long one readiness check may take before it counts as failed (default 5 s). */
  checkTimeoutMs?: number;
  onError?: (err: unknown) => void;
}

export interface OpsListener {
  port: number;
  close(): Promise<void>;
}

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs)));
  try {
    return await Promise.race([Promise.resolve().then(check), late]);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every check; `ready` only when all passed. */
export async function readiness(checks: Record<string, ReadinessCheck>, timeoutMs = 5_000): Promise<{ ready: boolean; checks: Record<string, string> }> {
  const names = Object.keys(checks);
  const results = await Promise.all(names.map((n) => runCheck(checks[n]!, timeoutMs)));
  const out: Record<string, string> = {};
  names.forEach((n, i) => (out[n] = results[i] ?? 'ok'));
  return { ready: results.every((r) => r === null), checks: out };
}

export function startOpsListener(options: OpsListenerOptions): Promise<OpsListener> {
  const server = http.createServer((req, res) => {
    const send = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed\n');
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return send(200, 'text/plain', 'ok\n');
    if (path === '/readyz') {
      void readiness(options.readiness, options.checkTimeoutMs).then((r) =>
        send(r.ready ? 200 : 503, 'application/json', `${JSON.stringify({ status: r.ready ? 'ready' : 'not ready', checks: r.checks })}\n`),
      );
      return;
    }
    if (path === '/metrics') {
      options.metrics().then(
        (m) => send(200, m.contentType, m.text),
        (err: unknown) => {
          options.onError?.(err);
          send(500, 'text/plain', 'metrics unavailable\n');
        },
      );
      return;
    }
    send(404, 'text/plain', 'not found: try /metrics, /healthz or /readyz\n');
  });
  // Scrapers keep connections open; they must not hold up shutdown.
  server.keepAliveTimeout = 5_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      server.on('error', (err) => options.onError?.(err));
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    });
  });
}
