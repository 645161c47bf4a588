/** A raw client for the live fuzz run: sends bytes, waits for a pattern in what comes back. */
import net from 'node:net';

export class FuzzSession {
  private buf = '';
  private waiter: { re: RegExp; resolve: (ok: boolean) => void } | null = null;
  closed = false;
  received = 0;
  readonly socket: net.Socket;

  constructor(port: number, private readonly onText: (text: string) => void = () => undefined) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.setEncoding('latin1');
    this.socket.on('data', (d: string) => {
      this.received += d.length;
      this.onText(d);
      this.buf = (this.buf + d).slice(-4096);
      if (this.waiter && this.waiter.re.test(this.buf)) {
        const w = this.waiter;
        this.waiter = null;
        this.buf = '';
        w.resolve(true);
      }
    });
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      this.closed = true;
      this.waiter?.resolve(false);
      this.waiter = null;
    });
  }

  /** The last few KB received and not yet matched by until(). */
  get tail(): string {
    return this.buf;
  }

  /** Resolves true when `re` has been seen, false on close or timeout. */
  until(re: RegExp, ms: number): Promise<boolean> {
    if (re.test(this.buf)) {
      this.buf = '';
      return Promise.resolve(true);
    }
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiter = null;
        resolve(false);
      }, ms);
      this.waiter = {
        re,
        resolve: (ok) => {
          clearTimeout(t);
          resolve(ok);
        },
      };
    });
  }

  send(b: Buffer | string): void {
    if (!this.closed) this.socket.write(b);
  }

  /** Writes with backpressure; stops early (false) when the server closed. */
  async write(b: Buffer): Promise<boolean> {
    if (this.closed) return false;
    if (this.socket.write(b)) return true;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
    return !this.closed;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
