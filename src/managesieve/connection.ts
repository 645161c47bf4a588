/**
 * One ManageSieve connection: socket → framer → tokens → command → reply, one command at a time.
 * Owns the timers (idle, command completion), the input bounds before login, STARTTLS and the
 * clean-up that releases the user's place and store handle however the connection ends.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Logger } from '../util/logger.js';
import { LineTimer } from '../net/line-timer.js';
import type { BudgetShare } from '../net/input-budget.js';
import { upgradeToTls } from '../net/tls.js';
import { SocketWriter } from '../pop3/session/writer.js';
import type { UserMailbox } from '../store/types.js';
import { capabilityLines } from './capabilities.js';
import { refusalOf } from './errors.js';
import type { ChallengeAnswer, ManageSieveCommand, ManageSieveContext, ManageSieveServices, Reply } from './types.js';
import { statusLine } from './wire/encode.js';
import { CommandFramer, type FramedItem } from './wire/framer.js';
import { Args, SyntaxError, tokenize } from './wire/tokens.js';

type After = 'close' | 'starttls' | undefined;

export class ManageSieveConnection {
  readonly id = `sieve-${randomBytes(6).toString('hex')}`;
  readonly closed: Promise<void>;
  readonly startedAt = new Date();
  readonly logger: Logger | undefined;
  private socket: Socket;
  private readonly framer: CommandFramer;
  private readonly writer: SocketWriter;
  private readonly ctx: ManageSieveContext;
  private readonly unauthInput: BudgetShare;
  private readonly commandTimer = new LineTimer(() => this.hangUp('Command not completed in time'));
  private idleTimer: NodeJS.Timeout | undefined;
  private waiter: (() => void) | undefined;
  private running = false;
  private greeted = false;
  private finished = false;
  private ending = false;
  private badCommands = 0;
  private resolveClosed!: () => void;

  constructor(
    socket: Socket,
    private readonly services: ManageSieveServices,
    private readonly commands: ReadonlyMap<string, ManageSieveCommand>,
  ) {
    this.socket = socket;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    const remoteAddress = socket.remoteAddress ?? 'unknown';
    this.logger = services.logger?.child({ conn: this.id, remote: remoteAddress });
    const limits = services.limits;
    this.framer = new CommandFramer(limits.maxLineLength, () => (this.ctx.user === undefined ? limits.maxUnauthLiteralBytes : limits.maxScriptBytes + 1024));
    this.unauthInput = services.unauthInput.share();
    this.writer = new SocketWriter(socket, () => this.touch());
    this.ctx = {
      services,
      id: this.id,
      remoteAddress,
      secure: false,
      user: undefined,
      mail: undefined,
      userSlot: undefined,
      authFailures: 0,
      logger: this.logger,
      challenge: (data) => this.challenge(data),
      loggedIn: (user, mail) => this.loggedIn(user, mail),
      loggedOut: () => this.loggedOut(),
    };
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.once('close', this.onClose);
  }

  get user(): string | undefined {
    return this.ctx.user;
  }

  get secure(): boolean {
    return this.ctx.secure;
  }

  get remoteAddress(): string {
    return this.ctx.remoteAddress;
  }

  async start(): Promise<void> {
    this.touch();
    await this.writer.write(this.capabilities() + statusLine('OK', `${this.services.hostname} Postroom ManageSieve ready`)).catch(() => undefined);
    this.greeted = true;
    this.pump();
  }

  /** server.close(): finish the command in progress, then BYE. */
  shutdown(): void {
    this.ending = true;
    if (!this.running) void this.hangUp('Server shutting down');
  }

  destroy(): void {
    this.socket.destroy();
  }

  private capabilities(): string {
    return capabilityLines(this.ctx).join('');
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.finished) return;
    this.touch();
    this.framer.push(chunk);
    if (this.ctx.user === undefined) {
      if (!this.unauthInput.set(this.framer.buffered)) {
        this.logger?.warn('managesieve input before login over the server-wide budget; connection closed');
        this.framer.discard();
        return void this.hangUp('Server busy, try again later', 'TRYLATER');
      }
    }
    if (this.framer.midCommand) this.commandTimer.start(this.services.limits.commandTimeoutSeconds * 1000);
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      waiter();
    } else this.pump();
  };

  private readonly onError = (err: Error): void => {
    this.logger?.debug({ err: err.message }, 'socket error');
  };

  private readonly onClose = (): void => {
    void this.cleanup();
  };

  private touch(): void {
    if (this.finished) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => void this.hangUp('Disconnected for inactivity'), this.services.limits.idleSeconds * 1000);
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
        if (this.finished) return;
        if (this.ending) return void (await this.hangUp('Server shutting down'));
        const item = this.framer.next();
        if (!item) {
          if (!this.framer.midCommand) this.commandTimer.stop();
          // Before login a literal over the limit is not waited for: its bytes would only be dropped.
          if (this.ctx.user === undefined && this.framer.droppingLiteral) {
            await this.hangUp(`Literal larger than ${this.services.limits.maxUnauthLiteralBytes} octets before login`);
          }
          return;
        }
        if (!this.framer.midCommand) this.commandTimer.stop();
        const after = await this.dispatch(item);
        if (this.ctx.user === undefined) this.unauthInput.set(this.framer.buffered);
        if (after === 'close') return void this.end();
        if (after === 'starttls') await this.startTls();
      }
    } catch (err) {
      if (!(err instanceof Error && err.name === 'ConnectionGoneError')) this.logger?.warn({ err }, 'connection aborted');
      this.socket.destroy();
    }
  }

  private async dispatch(item: FramedItem): Promise<After> {
    if (item.kind === 'overlong') return this.hangUp(`Line longer than ${this.services.limits.maxLineLength} octets`);
    if (item.kind === 'tooLarge') {
      if (this.ctx.user === undefined) return this.hangUp('Literal too large');
      await this.writer.write(statusLine('NO', `String of ${item.size} octets is larger than the server accepts`, 'QUOTA/MAXSIZE'));
      return undefined;
    }
    let name = '';
    let command: ManageSieveCommand | undefined;
    try {
      const tokens = tokenize(item.segments);
      const first = tokens[0];
      if (!first) throw new SyntaxError('Empty command');
      if (first.kind !== 'atom') throw new SyntaxError('A command starts with its name');
      name = first.value.toUpperCase();
      command = this.commands.get(name);
      this.logger?.debug({ command: name, args: command?.sensitive ? '[redacted]' : undefined }, 'command');
      if (!command) throw new SyntaxError(`Unknown command ${name.slice(0, 30)}`);
      if (command.state === 'nonauth' && this.ctx.user !== undefined) throw new SyntaxError(`${name} is not valid after login`);
      if (command.state === 'auth' && this.ctx.user === undefined) throw new SyntaxError(`${name} is not valid before login`);
      const reply = await command.run(this.ctx, new Args(tokens.slice(1)));
      await this.send(reply);
      return reply.after;
    } catch (err) {
      const refusal = refusalOf(err);
      if (refusal.unexpected) this.logger?.error({ err, command: name }, 'command failed');
      if (refusal.bad) this.badCommands++;
      if (refusal.status === 'BYE') return this.hangUp(refusal.text, refusal.code);
      if (this.badCommands >= this.services.limits.maxBadCommands) return this.hangUp('Too many bad commands');
      await this.writer.write(statusLine('NO', refusal.text, refusal.code));
      return undefined;
    }
  }

  private async send(reply: Reply): Promise<void> {
    const head = (reply.lines ?? []).join('');
    await this.writer.write(head + statusLine(reply.status ?? 'OK', reply.text, reply.code));
  }

  private async challenge(data: Buffer): Promise<ChallengeAnswer> {
    await this.writer.write(`"${data.toString('base64')}"\r\n`);
    for (;;) {
      const item = this.framer.next();
      if (item) {
        if (!this.framer.midCommand) this.commandTimer.stop();
        if (item.kind !== 'command') return { kind: 'bad', reason: 'Authentication response too long' };
        try {
          const tokens = tokenize(item.segments);
          if (tokens.length !== 1 || tokens[0]!.kind !== 'string') return { kind: 'bad', reason: 'Expected one string as the response' };
          return { kind: 'answer', value: tokens[0]!.value };
        } catch (err) {
          return { kind: 'bad', reason: (err as Error).message };
        }
      }
      if (this.finished || this.socket.destroyed) return { kind: 'gone' };
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  private loggedIn(user: string, mail: UserMailbox): void {
    this.ctx.user = user;
    this.ctx.mail = mail;
    this.unauthInput.release();
  }

  private async loggedOut(): Promise<void> {
    const mail = this.ctx.mail;
    this.ctx.user = undefined;
    this.ctx.mail = undefined;
    this.ctx.userSlot?.release();
    this.ctx.userSlot = undefined;
    await mail?.close().catch(() => undefined);
  }

  /** RFC 5804 §2.2: after OK, TLS; then the capabilities again and OK. Nothing pipelined before counts. */
  private async startTls(): Promise<void> {
    const plain = this.socket;
    plain.pause();
    plain.off('data', this.onData);
    plain.off('error', this.onError);
    plain.off('close', this.onClose);
    this.framer.discard();
    let secure;
    try {
      secure = await upgradeToTls(plain, this.services.tlsContext!, this.services.limits.tlsHandshakeSeconds * 1000);
    } catch (err) {
      this.logger?.debug({ err }, 'TLS handshake failed');
      plain.destroy();
      await this.cleanup();
      return;
    }
    this.socket = secure;
    this.writer.replaceSocket(secure);
    this.ctx.secure = true;
    secure.on('data', this.onData);
    secure.on('error', this.onError);
    secure.once('close', this.onClose);
    await this.writer.write(this.capabilities() + statusLine('OK', 'TLS negotiation successful'));
  }

  private async hangUp(text: string, code?: string): Promise<'close'> {
    if (!this.finished) {
      await this.writer.write(statusLine('BYE', text, code)).catch(() => undefined);
      this.end();
    }
    return 'close';
  }

  private end(): void {
    if (this.finished) return;
    this.socket.end();
    const socket = this.socket;
    setTimeout(() => socket.destroy(), 2000).unref();
    void this.cleanup();
  }

  private async cleanup(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.commandTimer.stop();
    this.unauthInput.release();
    this.framer.discard();
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
    await this.loggedOut();
    this.resolveClosed();
  }
}
