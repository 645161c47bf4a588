/**
 * What a `--workers` primary asks its workers over the cluster IPC channel, beside the store
 * traffic: their sessions (`who`), to end some (`kick`), to reload certificates, their metrics.
 */
import type { Worker } from 'node:cluster';

export type AdminOp = 'who' | 'kick' | 'reload' | 'metrics';
export type AdminRequest = { t: 'admin'; id: number; op: AdminOp; args: Record<string, unknown> };
export type AdminReply = { t: 'admin-reply'; id: number; ok: true; result: unknown } | { t: 'admin-reply'; id: number; ok: false; error: string };

export function isAdminRequest(m: unknown): m is AdminRequest {
  return (m as { t?: unknown } | null)?.t === 'admin';
}

function isAdminReply(m: unknown): m is AdminReply {
  return (m as { t?: unknown } | null)?.t === 'admin-reply';
}

let nextId = 1;
/** A worker that does not answer in this time is reported as an error, not waited for. */
const TIMEOUT_MS = 10_000;

export function askWorker<T>(w: Worker, op: AdminOp, args: Record<string, unknown> = {}): Promise<T> {
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      w.off('message', onMessage);
    };
    const onMessage = (m: unknown): void => {
      if (!isAdminReply(m) || m.id !== id) return;
      done();
      if (m.ok) resolve(m.result as T);
      else reject(new Error(`worker ${w.id}: ${m.error}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`worker ${w.id} did not answer "${op}" within ${TIMEOUT_MS / 1000} s`));
    }, TIMEOUT_MS);
    w.on('message', onMessage);
    w.send({ t: 'admin', id, op, args } satisfies AdminRequest);
  });
}
