/** A minimal line-oriented POP3 client for tests: raw bytes in and out, nothing hidden. */
import net from 'node:net';
import tls from 'node:tls';

export class RawPop3 {
  private buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  closed = false;
  readonly greeting: Promise<string>;

  private constructor(private socket: net.Socket) {
    this.attach(socket);
    this.greeting = this.line();
  }

  private attach(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  static connect(port: number, options: { tls?: boolean } = {}): Promise<RawPop3> {
    return new Promise((resolve, reject) => {
      const socket = options.tls
        ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => resolve(new RawPop3(socket)))
        : net.connect(port, '127.0.0.1', () => resolve(new RawPop3(socket)));
      socket.once('error', reject);
    });
  }

  private async waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (this.closed) throw new Error(`connection closed; buffered: ${JSON.stringify(this.buffer.toString('latin1').slice(0, 200))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for the server');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** One line without its CRLF; fails if the server ended it with a bare LF. */
  async line(): Promise<string> {
    await this.waitFor(() => this.buffer.includes(0x0a));
    const lf = this.buffer.indexOf(0x0a);
    if (lf === 0 || this.buffer[lf - 1] !== 0x0d) throw new Error('line not terminated by CRLF');
    const text = this.buffer.toString('latin1', 0, lf - 1);
    this.buffer = this.buffer.subarray(lf + 1);
    return text;
  }

  /** The raw bytes of a multi-line body up to and including the terminating ".CRLF". */
  async rawMulti(): Promise<Buffer> {
    const isEnd = (): number => {
      if (this.buffer.subarray(0, 3).equals(Buffer.from('.\r\n'))) return 3;
      const i = this.buffer.indexOf('\r\n.\r\n');
      return i === -1 ? -1 : i + 5;
    };
    await this.waitFor(() => isEnd() !== -1, 30_000);
    const end = isEnd();
    const out = this.buffer.subarray(0, end);
    this.buffer = this.buffer.subarray(end);
    return out;
  }

  /** Body lines, un-stuffed, without the terminator. */
  async multi(): Promise<string[]> {
    const lines: string[] = [];
    for (;;) {
      const l = await this.line();
      if (l === '.') return lines;
      lines.push(l.startsWith('.') ? l.slice(1) : l);
    }
  }

  send(text: string | Buffer): void {
    this.socket.write(text);
  }

  async cmd(text: string): Promise<string> {
    this.send(`${text}\r\n`);
    return this.line();
  }

  /** Upgrades after a "+OK" to STLS. */
  async startTls(): Promise<void> {
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ socket: this.socket, rejectUnauthorized: false }, () => resolve(s));
      s.once('error', reject);
    });
    this.socket.removeAllListeners('data');
    this.socket = secure;
    this.attach(secure);
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('connection still open');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
