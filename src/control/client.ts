/** The `postroom` admin commands' side of the control socket (server.ts describes the protocol). */
import net from 'node:net';
import { FrameReader, encodeFrame, type Frame } from './framing.js';
import { ControlError } from './operations.js';

type EventHandler = (name: string, data: unknown) => void | Promise<void>;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  onEvent?: EventHandler;
  /** Events are handled one after another, and the reply only after them. */
  chain: Promise<void>;
}

export class ControlClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly reader = new FrameReader();
  private closedError: Error | null = null;
  private busyHandlers = 0;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.reader.push(chunk);
      } catch (err) {
        this.fail(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      for (const f of frames) this.receive(f);
    });
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new ControlError('disconnected', 'the server closed the control connection')));
  }

  /** Connects to a running server; rejects with the socket error (ENOENT, ECONNREFUSED: none runs). */
  static connect(path: string): Promise<ControlClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(path);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new ControlClient(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Sends one request; `onEvent` hears its events (progress, chunks) before the reply resolves. */
  request<T = unknown>(op: string, args: Record<string, unknown> = {}, onEvent?: EventHandler): Promise<T> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, ...(onEvent ? { onEvent } : {}), chain: Promise.resolve() });
      for (const part of encodeFrame({ id, op, args })) this.socket.write(part);
    });
  }

  close(): void {
    this.socket.end();
  }

  private receive(frame: Frame): void {
    const id = frame['id'];
    const p = typeof id === 'number' ? this.pending.get(id) : undefined;
    if (!p) {
      // An error about the connection itself (a malformed request) has no id.
      if (frame['ok'] === false) this.fail(toError(frame['error']));
      return;
    }
    if (typeof frame['event'] === 'string') {
      const name = frame['event'];
      // Stop reading while handlers work (one may be writing a chunk to disk): backpressure.
      if (this.busyHandlers++ === 0) this.socket.pause();
      p.chain = p.chain
        .then(() => p.onEvent?.(name, frame['data']))
        .catch((err: unknown) => p.reject(err))
        .finally(() => {
          if (--this.busyHandlers === 0) this.socket.resume();
        });
      return;
    }
    this.pending.delete(id as number);
    void p.chain.then(() => (frame['ok'] === true ? p.resolve(frame['result']) : p.reject(toError(frame['error']))));
  }

  private fail(err: Error): void {
    if (this.closedError) return;
    this.closedError = err;
    for (const p of this.pending.values()) void p.chain.then(() => p.reject(err));
    this.pending.clear();
    this.socket.destroy();
  }
}

function toError(error: unknown): ControlError {
  const e = (error ?? {}) as { code?: unknown; message?: unknown };
  return new ControlError(typeof e.code === 'string' ? e.code : 'failed', typeof e.message === 'string' ? e.message : 'the operation failed');
}
