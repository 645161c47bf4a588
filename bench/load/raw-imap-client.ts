/**
 * A bare IMAP client over one socket for the in-process benches (bench/command-alloc.ts,
 * bench/list-status-cpu.ts): one command at a time, no parsing beyond finding the tagged line, so
 * the client adds as little as it can to the process it shares with the server under test.
 */
import net from 'node:net';

/** One command at a time; waits for the tagged line (or a `+` continuation) by scanning bytes only. */
export class RawImapClient {
  private chunks: Buffer[] = [];
  private wake: (() => void) | null = null;
  private tagN = 0;
  constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.wake?.();
    });
  }
  private async until(test: (tail: string) => boolean): Promise<string> {
    for (;;) {
      const last = this.chunks[this.chunks.length - 1];
      if (last && last[last.length - 1] === 0x0a) {
        // The last line, whole: back to the CRLF before it (or the start of what was read).
        const end = last.length - 2;
        const at = last.lastIndexOf('\r\n', end - 1, 'latin1');
        const line = at >= 0 ? last.toString('latin1', at + 2) : Buffer.concat(this.chunks).toString('latin1').split('\r\n').at(-2)! + '\r\n';
        if (!test(line)) {
          await new Promise<void>((r) => (this.wake = r));
          continue;
        }
        const all = Buffer.concat(this.chunks).toString('latin1');
        this.chunks = [];
        return all;
      }
      await new Promise<void>((r) => (this.wake = r));
    }
  }
  async command(text: string, literal?: Buffer): Promise<string> {
    const tag = `T${++this.tagN}`;
    if (!literal) {
      this.socket.write(`${tag} ${text}\r\n`);
    } else {
      this.socket.write(`${tag} ${text} {${literal.length}}\r\n`);
      await this.until((t) => t.startsWith('+ '));
      this.socket.write(literal);
      this.socket.write('\r\n');
    }
    const out = await this.until((t) => t.startsWith(`${tag} `));
    if (!new RegExp(`(^|\\r\\n)${tag} OK`).test(out)) throw new Error(`${text}: ${out.slice(-300)}`);
    return out;
  }
  static async open(port: number): Promise<RawImapClient> {
    const socket = net.connect({ host: '127.0.0.1', port });
    const c = new RawImapClient(socket);
    await c.until((t) => t.startsWith('* OK'));
    return c;
  }
}
