/** A minimal IMAP client for timing: sends one command, reads to its tagged reply, skipping literals. */
import net from 'node:net';

export class RawImap {
  private buffer: Buffer = Buffer.alloc(0);
  private waiter: (() => void) | null = null;
  private tagN = 0;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.buffer = this.buffer.length === 0 ? d : Buffer.concat([this.buffer, d]);
      this.waiter?.();
    });
  }

  static async connect(port: number): Promise<RawImap> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const client = new RawImap(socket);
    await client.readUntil((line) => line.startsWith('* OK'));
    return client;
  }

  private async more(): Promise<void> {
    await new Promise<void>((resolve) => (this.waiter = resolve));
    this.waiter = null;
  }

  /** Reads lines (a literal's bytes are skipped over) until `done(line)`; returns bytes consumed. */
  private async readUntil(done: (line: string) => boolean): Promise<{ bytes: number; lines: string[] }> {
    let bytes = 0;
    const tail: string[] = [];
    for (;;) {
      const nl = this.buffer.indexOf('\r\n');
      if (nl < 0) {
        await this.more();
        continue;
      }
      const line = this.buffer.toString('latin1', 0, nl);
      const literal = /\{(\d+)\+?\}$/.exec(line);
      const need = nl + 2 + (literal ? Number(literal[1]) : 0);
      if (this.buffer.length < need) {
        await this.more();
        continue;
      }
      if (literal) {
        // The line goes on after the literal: keep reading it as part of the same response.
        this.buffer = Buffer.concat([Buffer.from(line.replace(/\{\d+\+?\}$/, '""'), 'latin1'), this.buffer.subarray(need)]);
        bytes += need;
        continue;
      }
      this.buffer = this.buffer.subarray(need);
      bytes += need;
      tail.push(line);
      if (tail.length > 3) tail.shift();
      if (done(line)) return { bytes, lines: tail };
    }
  }

  /** Runs a command and returns its tagged line, the response size and the time it took. */
  async command(text: string): Promise<{ ms: number; bytes: number; tagged: string; untagged: string[] }> {
    const tag = `b${++this.tagN}`;
    const started = performance.now();
    this.socket.write(`${tag} ${text}\r\n`);
    const { bytes, lines } = await this.readUntil((line) => line.startsWith(`${tag} `));
    const ms = performance.now() - started;
    const tagged = lines[lines.length - 1]!;
    if (!tagged.startsWith(`${tag} OK`)) throw new Error(`${text} → ${tagged}`);
    return { ms, bytes, tagged, untagged: lines.slice(0, -1) };
  }

  close(): void {
    this.socket.destroy();
  }
}
