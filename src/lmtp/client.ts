/**
 * A small LMTP client (RFC 2033): what `postroom deliver` uses to hand a message to a running
 * server, and what tests and the benchmark drive the server with. One transaction is sent
 * pipelined (RFC 2920): MAIL, every RCPT and DATA in one write, then the message dot-stuffed
 * (RFC 5321 §4.5.2), then one reply per accepted recipient.
 *
 * Not a general SMTP client (nodemailer is): it cannot send RCPT parameters of its own choosing,
 * which Postroom's LDA needs (X-POSTROOM-USER).
 */
import net from 'node:net';
import type { MessageContent } from '../store/types.js';

export type LmtpTarget = { path: string } | { host: string; port: number };

export interface LmtpClientReply {
  code: number;
  /** The RFC 3463 code at the start of the text, when there is one. */
  enhanced?: string;
  /** The text of the last line, after the enhanced code. */
  text: string;
  /** Every line as received. */
  lines: string[];
}

export interface LmtpRecipient {
  address: string;
  /** ESMTP parameters, values already xtext-encoded where needed (see xtext()). */
  params?: Record<string, string>;
}

export interface LmtpTransactionResult {
  mail: LmtpClientReply;
  /** One per recipient, in order. */
  rcpt: LmtpClientReply[];
  /** The DATA command's reply (354 when the message was sent). */
  data: LmtpClientReply;
  /** One per recipient, in order: the reply after the message, or null when its RCPT was refused. */
  delivery: Array<LmtpClientReply | null>;
}

const ENHANCED = /^([245]\.\d{1,3}\.\d{1,3}) /;

export class LmtpClientError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'LmtpClientError';
  }
}

/** RFC 3461 §4 xtext: "+", "=" and anything outside "!".."~" as +XX (bytes of the UTF-8). */
export function xtext(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    out += byte > 0x20 && byte < 0x7f && byte !== 0x2b && byte !== 0x3d ? String.fromCharCode(byte) : `+${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export class LmtpClient {
  private buffered = '';
  private readonly lines: string[] = [];
  private waiter: (() => void) | null = null;
  private failure: Error | null = null;
  /** The LHLO reply: the server's extensions. */
  extensions: string[] = [];

  private constructor(
    private readonly socket: net.Socket,
    private readonly timeoutMs: number,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = this.buffered.indexOf('\n')) !== -1) {
        this.lines.push(this.buffered.slice(0, nl).replace(/\r$/, ''));
        this.buffered = this.buffered.slice(nl + 1);
      }
      this.wake();
    });
    const fail = (err: Error): void => {
      this.failure ??= err;
      this.wake();
    };
    socket.on('error', (err: NodeJS.ErrnoException) => fail(new LmtpClientError(`connection failed: ${err.message}`, err.code)));
    socket.on('close', () => fail(new LmtpClientError('the server closed the connection')));
  }

  /** Connects, reads the greeting and says LHLO. */
  static async connect(target: LmtpTarget, options: { timeoutMs?: number; name?: string } = {}): Promise<LmtpClient> {
    const socket = 'path' in target ? net.connect(target.path) : net.connect(target.port, target.host);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', (err: NodeJS.ErrnoException) => reject(new LmtpClientError(`cannot connect: ${err.message}`, err.code)));
    });
    socket.setNoDelay(true);
    const client = new LmtpClient(socket, options.timeoutMs ?? 300_000);
    const greeting = await client.reply();
    if (greeting.code !== 220) throw new LmtpClientError(`greeting: ${greeting.lines.join(' / ')}`);
    socket.write(`LHLO ${options.name ?? 'localhost'}\r\n`);
    const lhlo = await client.reply();
    if (lhlo.code !== 250) throw new LmtpClientError(`LHLO: ${lhlo.lines.join(' / ')}`);
    client.extensions = lhlo.lines.slice(1).map((l) => l.slice(4));
    return client;
  }

  /** One transaction. Throws LmtpClientError when the connection fails or times out. */
  async send(from: string, recipients: readonly LmtpRecipient[], message: MessageContent): Promise<LmtpTransactionResult> {
    const params = (p?: Record<string, string>): string =>
      Object.entries(p ?? {})
        .map(([k, v]) => ` ${k}=${v}`)
        .join('');
    this.socket.write(`MAIL FROM:<${from}>\r\n${recipients.map((r) => `RCPT TO:<${r.address}>${params(r.params)}\r\n`).join('')}DATA\r\n`);
    const mail = await this.reply();
    const rcpt: LmtpClientReply[] = [];
    for (let i = 0; i < recipients.length; i++) rcpt.push(await this.reply());
    const data = await this.reply();
    const delivery: Array<LmtpClientReply | null> = rcpt.map(() => null);
    if (data.code !== 354) return { mail, rcpt, data, delivery };
    await this.writeMessage(message);
    for (let i = 0; i < recipients.length; i++) if (rcpt[i]!.code < 300) delivery[i] = await this.reply();
    return { mail, rcpt, data, delivery };
  }

  async quit(): Promise<void> {
    if (this.socket.destroyed) return;
    this.socket.write('QUIT\r\n');
    await this.reply().catch(() => undefined);
    this.socket.destroy();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private async writeMessage(message: MessageContent): Promise<void> {
    const stuffer = new DotStuffer();
    const source: Iterable<Buffer> | AsyncIterable<Buffer> = Buffer.isBuffer(message) ? [message] : message;
    for await (const chunk of source) await this.write(stuffer.push(chunk));
    await this.write(stuffer.end());
  }

  private write(data: Buffer): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.socket.write(data)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        if (this.failure) reject(this.failure);
        else resolve();
      };
      this.socket.once('drain', done);
      this.socket.once('close', done);
    });
  }

  /** The next complete reply (multi-line replies joined). */
  async reply(): Promise<LmtpClientReply> {
    const collected: string[] = [];
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const line = this.lines.shift();
      if (line === undefined) {
        if (this.failure) throw this.failure;
        await this.wait(deadline);
        continue;
      }
      collected.push(line);
      if (line.length >= 4 && line[3] === '-') continue;
      const code = Number(line.slice(0, 3));
      if (!Number.isInteger(code) || code < 200) throw new LmtpClientError(`not an LMTP reply: ${line.slice(0, 200)}`);
      const rest = line.slice(4);
      const m = ENHANCED.exec(rest);
      return m ? { code, enhanced: m[1]!, text: rest.slice(m[0].length), lines: collected } : { code, text: rest, lines: collected };
    }
  }

  private wait(deadline: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const left = deadline - Date.now();
      const timer = setTimeout(() => {
        this.waiter = null;
        this.socket.destroy();
        reject(new LmtpClientError('the server did not answer in time', 'ETIMEDOUT'));
      }, Math.max(left, 0));
      this.waiter = () => {
        clearTimeout(timer);
        this.waiter = null;
        resolve();
      };
    });
  }

  private wake(): void {
    this.waiter?.();
  }
}

/**
 * RFC 5321 §4.5.2: a line that starts with "." gets another one. Lines end in CRLF on the wire;
 * a bare LF is sent as CRLF, and the message is ended with CRLF "." CRLF.
 */
export class DotStuffer {
  /** The previous byte (LF at the start: the first line starts a line). */
  private last = 0x0a;

  push(chunk: Buffer): Buffer {
    if (chunk.length === 0) return chunk;
    const parts: Buffer[] = [];
    let plain = 0;
    // Only line starts matter: the chunk's first byte, and the byte after each LF.
    if (this.last === 0x0a && chunk[0] === 0x2e) parts.push(DOT);
    for (let lf = chunk.indexOf(0x0a); lf !== -1; lf = chunk.indexOf(0x0a, lf + 1)) {
      const before = lf === 0 ? this.last : chunk[lf - 1];
      if (before !== 0x0d) {
        parts.push(chunk.subarray(plain, lf), CR);
        plain = lf;
      }
      if (chunk[lf + 1] === 0x2e) {
        parts.push(chunk.subarray(plain, lf + 1), DOT);
        plain = lf + 1;
      }
    }
    this.last = chunk[chunk.length - 1]!;
    if (parts.length === 0) return chunk;
    parts.push(chunk.subarray(plain));
    return Buffer.concat(parts);
  }

  end(): Buffer {
    return Buffer.from(this.last === 0x0a ? '.\r\n' : '\r\n.\r\n');
  }
}

const DOT = Buffer.from('.');
const CR = Buffer.from('\r');
