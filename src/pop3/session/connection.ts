/**
 * One POP3 connection. It only moves bytes: socket → framer → dispatcher → writer → socket, one
 * command at a time (RFC 2449 §6.6 PIPELINING: "process each command in turn"), and owns the
 * timers and the clean-up that make a dropped connection harmless (no UPDATE state, no deletions).
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Logger } from '../../util/logger.js';
import { upgradeToTls } from '../../net/tls.js';
import { LineTimer } from '../../net/line-timer.js';
import type { BudgetShare } from '../../net/input-budget.js';
import { TimeSlice } from '../../util/time-slice.js';
import type { Pop3Command, Pop3Context } from '../commands/types.js';
import type { Pop3ConnectionInfo } from '../options.js';
import { LineFramer, type FramedItem } from '../wire/framer.js';
import { Pop3Error } from '../errors.js';
import { dispatch, statusLine, type DispatchTarget } from './dispatcher.js';
import { userSlots } from './login.js';
import type { Pop3Services } from './services.js';
import type { Pop3State } from './state.js';
import { SocketWriter } from './writer.js';

/** RFC 1939 §7: the APOP timestamp, unique per connection so a digest cannot be replayed. */
export function apopTimestamp(hostname: string): string {
  return `<${process.pid}.${randomBytes(8).toString('hex')}.${Date.now()}@${hostname}>`;
}

export class Pop3Connection {
  readonly info: Pop3ConnectionInfo;
  readonly closed: Promise<void>;
  readonly startedAt = new Date();
  /** The server's logger with `conn` and `remote` bound, as IMAP's connections have. */
  readonly logger: Logger | undefined;
  /** When the client last sent something (epoch ms), for `postroom who`. */
  private activeAt = Date.now();
  private socket: Socket;
  private readonly framer: LineFramer;
  private readonly writer: SocketWriter;
  private readonly target: DispatchTarget;
  private state: Pop3State = { name: 'authorization' };
  private running = false;
  /** Commands wait for the greeting: a client that talks first is not answered before it. */
  private greeted = false;
  private ending = false;
  /** Input over the server-wide budget: nothing more is read or run. */
  private refused = false;
  private finished = false;
  private lineWaiter: (() => void) | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Runs while a line has started but not ended: a trickling sender is cut off (limits.lineTimeoutSeconds). */
  private readonly lineTimer = new LineTimer(() => {
    this.logger?.info('input not completed in time');
    this.socket.destroy();
  });
  private resolveClosed!: () => void;
  /** This connection's part of the server-wide budget for input before login. */
  private readonly unauthInput: BudgetShare;
  /** Pipelined commands run without waiting; the loop yields once it has run a slice. */
  private readonly slice = new TimeSlice();

  constructor(
    socket: Socket,
    private readonly services: Pop3Services,
    commands: ReadonlyMap<string, Pop3Command>,
    secure: boolean,
    /** The client's address when a trusted proxy gave it (PROXY protocol); else the socket's. */
    peer?: { address: string; port: number },
  ) {
    this.socket = socket;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.info = {
      id: `pop3-${randomBytes(6).toString('hex')}`,
      remoteAddress: peer?.address ?? socket.remoteAddress ?? 'unknown',
      remotePort: peer?.port ?? socket.remotePort,
      secure,
    };
    this.logger = services.logger?.child({ conn: this.info.id, remote: this.info.remoteAddress });
    this.framer = new LineFramer(services.limits.maxLineLength);
    this.unauthInput = services.unauthInput.share();
    this.writer = new SocketWriter(socket, () => this.touch(), (n) => services.metrics.bytesOut(n));
    const timestamp = services.auth.apop ? apopTimestamp(services.hostname) : undefined;
    const self = this;
    const ctx: Pop3Context = {
      connection: this.info,
      services,
      get state() {
        return self.state;
      },
      setState: (next) => {
        this.state = next;
        if (next.name !== 'authorization') this.unauthInput.release();
      },
      timestamp,
      authFailures: 0,
      authenticated: false,
      continuation: (challenge) => this.continuation(challenge),
      ...(this.logger ? { logger: this.logger } : {}),
    };
    this.target = { ctx, commands, writer: this.writer, badCommands: 0, commandIndex: 0 };
    this.attach(socket);
  }

  /** Greets the client (after the connect hook agrees). */
  async start(): Promise<void> {
    this.touch();
    try {
      const hook = this.services.callbacks?.connect;
      if (hook && (await hook(this.info)) === false) throw new Pop3Error('Connection refused');
      const onConnect = this.services.hooks.onConnect;
      if (onConnect && (await onConnect({ ...this.info })) === false) throw new Pop3Error('Connection refused');
    } catch (err) {
      const reason = err instanceof Pop3Error ? err.message : 'Connection refused';
      await this.writer.write(statusLine(false, reason)).catch(() => undefined);
      this.end();
      return;
    }
    const greeting = [this.services.welcome, this.target.ctx.timestamp].filter(Boolean).join(' ');
    await this.writer.write(statusLine(true, greeting)).catch(() => undefined);
    this.greeted = true;
    this.pump();
  }

  /** Graceful stop for server.close(): finish the command in progress, then hang up. */
  shutdown(): void {
    this.ending = true;
    if (!this.running) this.end();
  }

  /** Hard stop. */
  destroy(): void {
    this.socket.destroy();
  }

  private attach(socket: Socket): void {
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.once('close', this.onClose);
  }

  get lastActivity(): Date {
    return new Date(this.activeAt);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.finished || this.refused) return;
    this.activeAt = Date.now();
    this.services.metrics.bytesIn(chunk.length);
    this.touch();
    this.slice.restart();
    this.framer.push(chunk);
    if (this.state.name === 'authorization' && !this.unauthInput.set(this.framer.buffered)) {
      this.services.logger?.warn({ session: this.info.id }, 'pop3 input before login over the server-wide budget; connection closed');
      // Further input is read and dropped (not left unread, which would make the close a reset).
      this.refused = true;
      this.framer.discard();
      this.unauthInput.release();
      void this.writer.write(statusLine(false, 'Server busy, try again later', 'SYS/TEMP')).catch(() => undefined);
      this.end();
      return;
    }
    this.timeLine(chunk);
    if (this.framer.buffered > this.services.limits.maxPipelinedBytes) this.socket.pause();
    const waiter = this.lineWaiter;
    if (waiter) {
      this.lineWaiter = undefined;
      waiter();
    } else {
      this.pump();
    }
  };

  /** The clock runs from the first byte of a line to its LF; a chunk that starts a new line restarts it. */
  private timeLine(chunk: Buffer): void {
    const ms = this.services.limits.lineTimeoutSeconds * 1000;
    const lf = chunk.lastIndexOf(0x0a);
    if (lf === chunk.length - 1) this.lineTimer.stop();
    else if (lf >= 0) this.lineTimer.restart(ms);
    else this.lineTimer.start(ms);
  }

  private readonly onError = (err: Error): void => {
    this.logger?.debug({ err: err.message }, 'socket error');
  };

  private readonly onClose = (): void => {
    void this.cleanup();
  };

  /** Restarts the inactivity timer (RFC 1939 §3: at least ten minutes). */
  private touch(): void {
    if (this.finished) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      // §3: the server "should close the TCP connection without removing any messages or sending any response".
      this.logger?.info('autologout: idle for too long');
      this.socket.destroy();
    }, this.services.limits.idleSeconds * 1000);
    this.idleTimer.unref();
  }

  private pump(): void {
    if (this.running || this.finished || !this.greeted) return;
    this.running = true;
    void this.run().finally(() => {
      this.running = false;
    });
  }

  private async run(): Promise<void> {
    try {
      for (;;) {
        if (this.finished || this.refused) return;
        if (this.ending) return this.end();
        const item = this.framer.next();
        if (!item) return;
        this.resumeIfDrained();
        if (this.state.name === 'authorization') this.unauthInput.set(this.framer.buffered);
        const after = await dispatch(this.target, item);
        if (this.slice.due) await this.slice.yieldNow();
        if (after === 'close') return this.end();
        if (after === 'starttls') await this.startTls();
      }
    } catch (err) {
      if (!(err instanceof Error && err.name === 'ConnectionGoneError')) {
        this.logger?.warn({ err }, 'connection aborted');
      }
      if (err instanceof Pop3Error && err.close) {
        await this.writer.write(statusLine(false, err.message, err.code)).catch(() => undefined);
        return this.end();
      }
      this.socket.destroy();
    }
  }

  private resumeIfDrained(): void {
    if (this.socket.isPaused() && this.framer.buffered <= this.services.limits.maxPipelinedBytes / 2) this.socket.resume();
  }

  private async continuation(challenge: Buffer): Promise<string | null> {
    await this.writer.write(`+ ${challenge.toString('base64')}\r\n`);
    for (;;) {
      const item: FramedItem | undefined = this.framer.next();
      if (item) {
        this.resumeIfDrained();
        if (item.kind === 'overlong') throw new Pop3Error('Authentication response too long');
        return item.text;
      }
      if (this.finished || this.socket.destroyed) return null;
      await new Promise<void>((resolve) => (this.lineWaiter = resolve));
    }
  }

  /**
   * RFC 2595 §4: the +OK is out; now forget anything the client pipelined after STLS, stop reading
   * in clear text, and run the handshake on the same socket.
   */
  private async startTls(): Promise<void> {
    const context = this.services.tlsContext;
    if (!context) throw new Error('STLS without a TLS context');
    const plain = this.socket;
    plain.off('data', this.onData);
    plain.pause();
    this.framer.discard();
    this.lineTimer.stop();
    let secure: Socket;
    try {
      secure = await upgradeToTls(plain, context, this.services.limits.tlsHandshakeSeconds * 1000);
    } catch (err) {
      this.services.metrics.tlsHandshake('starttls', false);
      this.logger?.info({ err: (err as Error).message }, 'STARTTLS handshake failed');
      plain.destroy();
      void this.cleanup();
      throw Object.assign(new Error('TLS handshake failed'), { name: 'ConnectionGoneError' });
    }
    plain.off('error', this.onError);
    this.socket = secure;
    this.writer.replaceSocket(secure);
    this.info.secure = true;
    this.services.metrics.tlsHandshake('starttls', true);
    this.attach(secure);
    this.touch();
  }

  private end(): void {
    if (this.finished) return;
    this.socket.end();
    // A client that never closes its side must not keep the connection forever.
    setTimeout(() => this.socket.destroy(), 5000).unref();
  }

  private async cleanup(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.lineTimer.stop();
    this.unauthInput.release();
    userSlots.get(this.info)?.release();
    this.lineWaiter?.();
    const state = this.state;
    if (state.name === 'transaction') {
      // No QUIT, so no UPDATE state: the DELE marks are simply forgotten (RFC 1939 §6).
      this.state = { name: 'authorization' };
      await state.maildrop.release().catch((err: unknown) => this.logger?.warn({ err }, 'maildrop release failed'));
      this.services.locks.release(state.user, this.services.logger);
    }
    try {
      await this.services.callbacks?.disconnect?.(this.info);
    } catch (err) {
      this.logger?.warn({ err }, 'disconnect callback failed');
    }
    try {
      this.services.hooks.onClose?.({ ...this.info });
    } catch (err) {
      this.logger?.error({ err }, 'onClose hook failed');
    }
    this.resolveClosed();
  }
}
