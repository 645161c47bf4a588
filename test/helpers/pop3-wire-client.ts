/**
 * A bare POP3 client for tests and benchmarks that pipeline thousands of commands (100,000 DELEs
 * in one write) and wait for the end of what they asked for: `send(text, done)` resolves with what
 * arrived once `done(buffer)` says it is complete. It looks only at what it holds, and holds at
 * most the last few KB of a long answer, so 100,000 replies cost neither memory nor quadratic time.
 * Used by test/e2e/pop3-large-maildrop-slices.test.ts and bench/stall.ts.
 */
import net from 'node:net';

/** A one-line answer is complete. */
export const oneLine = (b: string): boolean => b.endsWith('\r\n');
/** A multi-line answer (LIST, UIDL, RETR) is complete, or its -ERR line is. */
export const multiLine = (b: string): boolean => (b.startsWith('-ERR') ? b.endsWith('\r\n') : b.endsWith('\r\n.\r\n'));

export class Pop3WireClient {
  private buf = '';
  private waiting: { done: (buf: string) => boolean; resolve: (s: string) => void } | null = null;

  constructor(private readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buf += d;
      const w = this.waiting;
      if (w && w.done(this.buf)) {
        const got = this.buf;
        this.buf = '';
        this.waiting = null;
        w.resolve(got);
      } else if (this.buf.length > 1 << 20) this.buf = this.buf.slice(-4096);
    });
  }

  /** Connects to 127.0.0.1:`port` and reads the greeting. */
  static async connect(port: number): Promise<{ client: Pop3WireClient; greeting: string }> {
    const socket = net.connect(port, '127.0.0.1');
    const client = new Pop3WireClient(socket);
    const greeting = await client.send('', oneLine);
    return { client, greeting };
  }

  /** Writes `text` (nothing when empty) and resolves with what arrived once `done` accepts it. */
  send(text: string, done: (buf: string) => boolean): Promise<string> {
    return new Promise((resolve) => {
      this.waiting = { done, resolve };
      if (text) this.socket.write(text);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
