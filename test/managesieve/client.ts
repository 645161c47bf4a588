/** A raw ManageSieve client for transcript tests: sends bytes, reads one whole response (literals included). */
import net from 'node:net';
import tls from 'node:tls';

export class RawSieveClient {
  private buffer = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  closed = false;

  private constructor(private socket: net.Socket) {
    this.attach(socket);
  }

  static async connect(port: number): Promise<RawSieveClient> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new RawSieveClient(socket);
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
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Reads up to and including the next OK/NO/BYE line outside literals; returns the text. */
  async response(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = completeResponse(this.buffer);
      if (end !== -1) {
        const text = this.buffer.subarray(0, end).toString('utf8');
        this.buffer = this.buffer.subarray(end);
        return text;
      }
      if (this.closed) throw new Error(`connection closed; got ${JSON.stringify(this.buffer.toString())}`);
      if (Date.now() > deadline) throw new Error(`no complete response; got ${JSON.stringify(this.buffer.toString())}`);
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 100);
      });
    }
  }

  async command(line: string | Buffer): Promise<string> {
    this.send(typeof line === 'string' ? `${line}\r\n` : line);
    return this.response();
  }

  /** One line (a SASL challenge). */
  async line(): Promise<string> {
    for (;;) {
      const lf = this.buffer.indexOf('\n');
      if (lf !== -1) {
        const text = this.buffer.subarray(0, lf + 1).toString('utf8');
        this.buffer = this.buffer.subarray(lf + 1);
        return text;
      }
      if (this.closed) throw new Error('connection closed');
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 100);
      });
    }
  }

  async waitClosed(timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return this.closed;
  }

  async startTls(): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    const secure = tls.connect({ socket: plain, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
    this.socket = secure;
    this.buffer = Buffer.alloc(0);
    this.attach(secure);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Index just past the status line that ends the response, or -1. */
function completeResponse(buffer: Buffer): number {
  let i = 0;
  while (i < buffer.length) {
    const lf = buffer.indexOf('\n', i);
    if (lf === -1) return -1;
    const line = buffer.subarray(i, lf + 1).toString('latin1');
    const literal = /\{(\d+)\}\r?\n$/.exec(line);
    if (/^(OK|NO|BYE)\b/i.test(line)) {
      // A multi-line reason comes as a literal, then the line's end.
      const end = lf + 1 + (literal ? Number(literal[1]) + 2 : 0);
      return end <= buffer.length ? end : -1;
    }
    i = lf + 1 + (literal ? Number(literal[1]) : 0);
  }
  return -1;
}

export const plain = (user: string, password: string): string => Buffer.from(`\0${user}\0${password}`).toString('base64');
