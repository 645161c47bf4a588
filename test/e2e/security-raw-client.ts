/**
 * A line-oriented raw socket client for the security tests: any loopback source address, exact
 * bytes out, every received line kept (the transcript lets a test assert what never arrived).
 */
import net from 'node:net';
import tls from 'node:tls';

export class RawClient {
  private buf = '';
  private waiters: Array<() => void> = [];
  /** Every complete line received, in order, plaintext and TLS alike. */
  readonly transcript: string[] = [];
  closed = false;
  socket: net.Socket;

  constructor(port: number, options: { localAddress?: string; tls?: boolean } = {}) {
    const base = { port, host: '127.0.0.1', ...(options.localAddress ? { localAddress: options.localAddress } : {}) };
    this.socket = options.tls ? tls.connect({ ...base, rejectUnauthorized: false }) : net.connect(base);
    this.listen(this.socket);
  }

  private listen(socket: net.Socket): void {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buf += d;
      let i: number;
      let from = 0;
      while ((i = this.buf.indexOf('\r\n', from)) >= 0) {
        const line = this.buf.slice(from, i);
        this.transcript.push(line);
        this.pending.push(line);
        from = i + 2;
      }
      this.buf = this.buf.slice(from);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private readonly pending: string[] = [];

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits for a line matching `re`, skipping others; returns it. */
  async expect(re: RegExp, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.pending.length > 0) {
        const line = this.pending.shift()!;
        if (re.test(line)) return line;
      }
      if (this.closed) throw new Error(`closed before ${re}; transcript ${JSON.stringify(this.transcript.slice(-5))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${re}; transcript ${JSON.stringify(this.transcript.slice(-5))}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('connection was not closed');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  send(text: string | Buffer): void {
    this.socket.write(typeof text === 'string' ? Buffer.from(text, 'latin1') : text);
  }

  /** Starts TLS on the same socket (after STARTTLS / STLS was answered). */
  async upgrade(): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    const secure = tls.connect({ socket: plain, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.socket = secure;
    this.listen(secure);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
