/**
 * A small IMAP client for load: one command at a time, every response line collected with its
 * literals, so the caller can check what came back. Not a general client — just enough to tell
 * a right answer from a wrong one, fast.
 */
import net from 'node:net';
import tls from 'node:tls';
import { loopActive } from './trace.js';

export interface Response {
  /** The line with each literal replaced by `{#k}`, k indexing `literals`. */
  text: string;
  literals: Buffer[];
}

export interface Completion {
  /** Untagged responses (and continuation requests) before the tagged line. */
  untagged: Response[];
  tagged: string;
  status: 'OK' | 'NO' | 'BAD' | 'BYE';
}

export class WireError extends Error {}

export class WireClient {
  private buf: Buffer = Buffer.alloc(0);
  private pending: Response = { text: '', literals: [] };
  private queue: Response[] = [];
  private wake: (() => void) | null = null;
  private closed: Error | null = null;
  private tagN = 0;
  /** When the last tagged line was read off the socket (performance.now()), before any check of it. */
  taggedAt = 0;
  /** The loop's active ms then (bench/load/trace.ts; 0 unless tracing). */
  taggedActive = 0;
  /** Untagged responses that arrived outside any command (e.g. during IDLE). */
  onUntagged: ((r: Response) => void) | null = null;

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      this.parse();
    });
    const end = (err?: Error): void => {
      this.closed ??= err ?? new WireError('connection closed');
      this.wake?.();
    };
    socket.on('error', end);
    socket.on('close', () => end());
  }

  /** `localAddress`: the source address to connect from; `tls`: implicit TLS (any certificate accepted). */
  static async connect(host: string, port: number, timeoutMs = 30_000, options: { localAddress?: string; tls?: boolean } = {}): Promise<{ client: WireClient; greeting: Response }> {
    const local = options.localAddress ? { localAddress: options.localAddress } : {};
    const socket = options.tls ? tls.connect({ host, port, rejectUnauthorized: false, ...local }) : net.connect({ host, port, ...local });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new WireError('connect timeout')), timeoutMs);
      socket.once(options.tls ? 'secureConnect' : 'connect', () => (clearTimeout(t), resolve()));
      socket.once('error', (e) => (clearTimeout(t), reject(e)));
    });
    const client = new WireClient(socket);
    const greeting = await client.next(timeoutMs);
    return { client, greeting };
  }

  private parse(): void {
    for (;;) {
      const nl = this.buf.indexOf('\r\n');
      if (nl < 0) return;
      const line = this.buf.toString('latin1', 0, nl);
      const lit = /\{(\d+)\}$/.exec(line);
      if (lit) {
        const n = Number(lit[1]);
        if (this.buf.length < nl + 2 + n) return;
        this.pending.text += `${line.slice(0, lit.index)}{#${this.pending.literals.length}}`;
        this.pending.literals.push(Buffer.from(this.buf.subarray(nl + 2, nl + 2 + n)));
        this.buf = this.buf.subarray(nl + 2 + n);
        continue;
      }
      this.pending.text += line;
      this.buf = this.buf.subarray(nl + 2);
      const done = this.pending;
      this.pending = { text: '', literals: [] };
      if (this.onUntagged && done.text.startsWith('* ')) this.onUntagged(done);
      else this.queue.push(done);
      if (!done.text.startsWith('* ') && !done.text.startsWith('+')) {
        this.taggedAt = performance.now();
        this.taggedActive = loopActive();
      }
      this.wake?.();
    }
  }

  /** The next complete response line (with its literals). */
  async next(timeoutMs = 60_000): Promise<Response> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      if (this.closed) throw this.closed;
      const left = deadline - Date.now();
      if (left <= 0) throw new WireError('response timeout');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => (clearTimeout(t), resolve());
      });
      this.wake = null;
    }
    return this.queue.shift()!;
  }

  nextTag(): string {
    return `a${++this.tagN}`;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Reads responses up to the one tagged `tag`. */
  async complete(tag: string, timeoutMs = 60_000): Promise<Completion> {
    const untagged: Response[] = [];
    for (;;) {
      const r = await this.next(timeoutMs);
      if (r.text.startsWith(`${tag} `)) {
        const status = r.text.slice(tag.length + 1).split(' ', 1)[0] as Completion['status'];
        return { untagged, tagged: r.text, status };
      }
      untagged.push(r);
    }
  }

  /** Sends a command (no literals) and waits for its completion. */
  async command(text: string, timeoutMs?: number): Promise<Completion> {
    const tag = this.nextTag();
    this.write(`${tag} ${text}\r\n`);
    return this.complete(tag, timeoutMs);
  }

  /** APPEND with a synchronizing literal: waits for the server's `+` before sending the bytes. */
  async append(mailbox: string, flags: string, message: Buffer): Promise<Completion> {
    const tag = this.nextTag();
    this.write(`${tag} APPEND ${mailbox} (${flags}) {${message.length}}\r\n`);
    const untagged: Response[] = [];
    for (;;) {
      const r = await this.next();
      if (r.text.startsWith('+')) break;
      if (r.text.startsWith(`${tag} `)) return { untagged, tagged: r.text, status: r.text.split(' ')[1] as Completion['status'] };
      untagged.push(r);
    }
    this.write(Buffer.concat([message, Buffer.from('\r\n')]));
    const done = await this.complete(tag);
    return { ...done, untagged: [...untagged, ...done.untagged] };
  }

  close(): void {
    this.socket.destroy();
  }
}
