/**
 * A line-oriented raw socket client for tests that need exact bytes on the wire: any loopback
 * source address, plaintext or TLS (and STARTTLS upgrades), every received line kept in a
 * transcript (so a test can assert what never arrived).
 */
import net from 'node:net';
import tls from 'node:tls';
import zlib from 'node:zlib';

/**
 * How long a test waits by default for something that must come (a reply, a close, a condition)
 * before calling it a hang. Not a bound on speed — tests that assert one measure it themselves
 * (latency.ts servedTime) — so it is generous: on a loaded 2-core CI machine a command that takes
 * a second alone took over 5 s (the old default), and a hung test fails all the same, later.
 */
export const WAIT_MS = 30_000;

export class RawClient {
  /** The received tail that is not a complete line yet. */
  private tail = '';
  /** Complete lines not yet consumed by expect(). */
  private readonly pending: string[] = [];
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

  /** Everything received and not consumed by expect() yet, as on the wire. */
  get buf(): string {
    return this.pending.map((line) => `${line}\r\n`).join('') + this.tail;
  }

  /** RFC 4978 compression once startCompression() ran: deflater for sending, inflater for receiving. */
  private compression: { deflater: zlib.DeflateRaw; inflater: zlib.InflateRaw } | null = null;
  /** Bytes received on the wire (compressed, when compression is on). */
  wireBytesIn = 0;
  /** Set when the server's compressed stream could not be inflated. */
  inflateError: Error | null = null;

  private listen(socket: net.Socket): void {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.wireBytesIn += d.length;
      if (this.compression) this.compression.inflater.write(Buffer.from(d, 'latin1'));
      else this.receive(d);
    });
    socket.on('close', () => {
      // Compressed: what is still being inflated arrives before the close is reported.
      if (this.compression) {
        this.compression.inflater.end();
        return;
      }
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  /**
   * Turns compression on (after COMPRESS DEFLATE's tagged OK): what is sent from now on is
   * deflated with a sync flush per send(), what arrives is inflated (RFC 4978 §3).
   */
  startCompression(level = 6): void {
    const inflater = zlib.createInflateRaw();
    const deflater = zlib.createDeflateRaw({ level });
    inflater.on('data', (b: Buffer) => this.receive(b.toString('latin1')));
    inflater.on('error', (err) => {
      this.inflateError = err;
      this.closed = true;
      this.wake();
    });
    inflater.on('end', () => {
      this.closed = true;
      this.wake();
    });
    deflater.on('data', (b: Buffer) => {
      if (!this.socket.destroyed) this.socket.write(b);
    });
    this.compression = { deflater, inflater };
  }

  private receive(d: string): void {
    {
      this.tail += d;
      let i: number;
      let from = 0;
      while ((i = this.tail.indexOf('\r\n', from)) >= 0) {
        const line = this.tail.slice(from, i);
        this.transcript.push(line);
        this.pending.push(line);
        from = i + 2;
      }
      this.tail = this.tail.slice(from);
      this.wake();
    }
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits for a line matching `re`, skipping others; returns it. Fails after `timeoutMs` (a hang, not a speed bound: WAIT_MS). */
  async expect(re: RegExp, timeoutMs = WAIT_MS): Promise<string> {
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

  async waitClosed(timeoutMs = WAIT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('connection was not closed');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  send(text: string | Buffer): void {
    const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
    if (!this.compression) {
      this.socket.write(bytes);
      return;
    }
    this.compression.deflater.write(bytes);
    this.compression.deflater.flush(zlib.constants.Z_SYNC_FLUSH);
  }

  /** Sends bytes as they are, bypassing compression (hand-made deflate data). */
  sendRaw(bytes: Buffer): boolean {
    return this.socket.write(bytes);
  }

  /** Reads the greeting and logs in, as alice (the test servers' user) unless told otherwise. */
  async login(user = 'alice', password = 'secret'): Promise<void> {
    await this.expect(/^\* OK/);
    this.send(`L LOGIN ${user} ${password}\r\n`);
    await this.expect(/^L OK/);
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

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `test` every 10 ms until it holds; fails naming `what` after `timeoutMs`. */
export async function until(what: string, test: () => boolean, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

/** A new client on `port`, logged in as `user`. */
export async function loggedIn(port: number, user: string, password: string): Promise<RawClient> {
  const c = new RawClient(port);
  await c.login(user, password);
  return c;
}
