/**
 * A line-oriented raw IMAP client for tests that need exact bytes on the wire.
 */
import net from 'node:net';

export class RawClient {
  buf = '';
  private waiters: Array<() => void> = [];
  closed = false;
  readonly socket: net.Socket;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.setEncoding('latin1');
    this.socket.on('data', (d: string) => {
      this.buf += d;
      this.wake();
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    this.socket.on('error', () => undefined);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits for a line matching `re` (skipping others); returns it. */
  async expect(re: RegExp, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let i: number;
      while ((i = this.buf.indexOf('\r\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 2);
        if (re.test(line)) return line;
      }
      if (this.closed) throw new Error(`closed before ${re}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${re}; have ${JSON.stringify(this.buf.slice(0, 200))}`);
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

  async login(): Promise<void> {
    await this.expect(/^\* OK/);
    this.send('L LOGIN alice secret\r\n');
    await this.expect(/^L OK/);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Sends a command and returns every line up to and including its tagged reply. */
export async function run(c: RawClient, tag: string, command: string): Promise<string[]> {
  c.send(`${tag} ${command}\r\n`);
  const lines: string[] = [];
  for (;;) {
    const line = await c.expect(/.*/);
    lines.push(line);
    if (line.startsWith(`${tag} `)) return lines;
  }
}
