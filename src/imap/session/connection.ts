/**
 * One IMAP connection: moves bytes between the socket, the framer, the dispatcher and the output
 * queue, and owns the session state. Commands run one at a time, in order; input the client
 * pipelines meanwhile waits in the framer (bounded: the socket is paused above maxPipelinedBytes).
 */
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../util/logger.js';
import { CommandFramer, FrameTooLongError, type FrameBounds, type LiteralRequest, type LiteralVerdict } from '../wire/framer.js';
import { encodeResponse } from '../wire/encoder.js';
import { atom, type FramedCommand, type ImapValue, type Response, type ResponseCode } from '../wire/types.js';
import type { ConnectionInfo, NewMessageFetch, SessionState } from '../commands/types.js';
import { OutputQueue } from './output.js';
import { SelectedMailboxView, watchedView } from './selected-view.js';
import { openWithSharing } from '../../store/sharing/shared-view.js';
import { sessionHandle } from '../message-events.js';
import { DEFAULT_SHARED_PREFIX, isSharedId } from '../../store/sharing/names.js';
import { dispatch } from './dispatcher.js';
import { frameBounds, judgeLiteral, readAheadLimit, streamsLiteral } from './input-rules.js';
import type { ImapSessionInfo } from '../hooks.js';
import type { ServerCore } from './server-core.js';
import { upgradeToTls } from '../../net/tls.js';
import { TlsRecordSocket } from '../../net/tls13/record-socket.js';
import { LineTimer } from '../../net/line-timer.js';
import { DeflateTransport } from '../../net/deflate-transport.js';
import type { ConnectionLimiter, ConnectionSlot } from '../../net/connection-limits.js';
import { ImapError } from '../errors.js';
import { utf8Names } from '../commands/mailbox-name.js';
import type { FrozenSession, Hibernation, ParkRequest } from './hibernation.js';
import type { BudgetShare } from '../../net/input-budget.js';
import { TimeSlice } from '../../util/time-slice.js';
import { CommandProgress } from './progress.js';
import { NotifyWatcher } from '../notify/watcher.js';
import type { NotifySpec } from '../notify/spec.js';
import { uidFetchCommand } from '../commands/fetch.js';
import type { FetchItem } from '../fetch/items.js';
import { mergeItems } from '../search/contexts.js';
import { createCommandContext } from './context.js';

/** What the session reads and writes: the socket, or the COMPRESS transport over it. */
type Transport = Socket | TLSSocket | TlsRecordSocket | DeflateTransport;
/** The connection under COMPRESS: TCP, a TLSSocket, or TLS 1.3 with Postroom's record layer. */
type RawSocket = Socket | TLSSocket | TlsRecordSocket;

export interface ConnectionOptions {
  limiter?: ConnectionLimiter;
  /** This connection's place under the total and per-address limits, released when the socket closes. */
  slot?: ConnectionSlot;
  /** A hibernated session woken on this socket (hibernation.ts): resume() instead of start(). */
  resumed?: FrozenSession;
  /** The client's address when a trusted proxy gave it (PROXY protocol); else the socket's. */
  peer?: { address: string; port: number };
}

export class ImapConnection implements ConnectionInfo {
  readonly id: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly startedAt: Date;
  readonly logger: Logger;
  secure: boolean;
  state: SessionState = { kind: 'notAuthenticated' };
  readonly enabled = new Set<string>();
  readonly framer: CommandFramer;
  out: OutputQueue;

  badCommands = 0;
  /** Response code for the BYE of a refused non-synchronising literal (TOOBIG, RFC 7888 §4). */
  private byeCode: ResponseCode | undefined;
  commandsBeforeAuth = 0;
  loginFailures = 0;
  /** True while a command is running (close() waits for it). */
  busy = false;
  private closing = false;
  private closed = false;
  private idleTimer: NodeJS.Timeout | null = null;
  /** The delay idleTimer was set with (refresh() keeps it). */
  private idleTimerMs = -1;
  private pollTimer: NodeJS.Timeout | null = null;
  private unwatch: (() => void) | null = null;
  private idling: { flush: () => void } | null = null;
  /** INPROGRESS (RFC 9585): the running command's progress lines, while it runs. */
  progress: CommandProgress | null = null;
  /** NOTIFY (RFC 5465): the session's notification set, while one is in force. */
  private notifier: NotifyWatcher | null = null;
  /** Notifications pushed while no command runs, one report at a time. */
  private pushing: Promise<void> = Promise.resolve();
  /** Flushes of IDLE updates not yet written. */
  private idleFlushes = 0;
  private hibernateTimer: NodeJS.Timeout | null = null;
  /** The IDLE being resumed after hibernation: its continuation was sent before. */
  private resumingIdle = false;
  /** When the autologout timer fires (epoch ms). */
  private logoutAt = 0;
  /** When the autologout timer last started: the client's last command (epoch ms). */
  private activeAt = Date.now();
  private connectionSlot: ConnectionSlot | null;
  private pendingTls = false;
  /** COMPRESS answered OK: compression starts once that reply is out (RFC 4978 §3). */
  private pendingCompress = false;
  private paused = false;
  /** A BYE went out (RFC 3501 §7.1.5: the last thing a server says before it closes). */
  private byeSent = false;
  /** Server shutdown asked for this BYE once the command in flight has completed. */
  private byeWhenDone: string | null = null;
  /** True while the session waits for client input (a command, an AUTHENTICATE response, DONE). */
  private reading = false;
  private readonly lineTimer = new LineTimer(() => this.inputTooSlow());
  private userSlot: ConnectionSlot | null = null;
  /** This connection's part of the server-wide budget for input before authentication. */
  private readonly unauthInput: BudgetShare;
  /** Bytes of the command being run (its literals are held until it completes). */
  private runningCommandBytes = 0;
  /**
   * Input already buffered is framed and run without waiting for anything, as one chain of
   * promise callbacks: without yields, a thousand pipelined commands or literals would hold the
   * event loop (and every other client) until done.
   */
  private readonly slice = new TimeSlice();
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;
  /** Output bytes already reported to the metrics (OutputQueue.written counts them all). */
  private reportedOut = 0;
  /** Gives the connection's place back when its socket closes (a named function: hibernation takes it off a TLS socket). */
  private readonly releaseConnectionSlot = (): void => this.connectionSlot?.release();

  /** The socket, or the compression transport over it once COMPRESS is active. */
  private socket: Transport;

  constructor(
    socket: RawSocket,
    readonly server: ServerCore,
    secure: boolean,
    private readonly options: ConnectionOptions = {},
  ) {
    this.socket = socket;
    this.secure = secure;
    const resumed = options.resumed;
    // 72 random bits in 12 characters: unique enough for logs and change origins, and short, as
    // hibernated sessions keep it (tens of thousands of them).
    this.id = resumed?.id ?? randomBytes(9).toString('base64url');
    // A woken socket was built from a bare handle: its address is asked of the kernel again, but
    // the frozen session kept what the first socket said.
    this.remoteAddress = resumed?.remoteAddress ?? options.peer?.address ?? socket.remoteAddress ?? 'unknown';
    this.remotePort = resumed?.remotePort ?? options.peer?.port ?? socket.remotePort ?? 0;
    this.startedAt = new Date(resumed?.startedAt ?? Date.now());
    this.connectionSlot = options.slot ?? null;
    if (this.connectionSlot) socket.once('close', this.releaseConnectionSlot);
    this.logger = server.logger.child({ conn: this.id.slice(0, 8), remote: this.remoteAddress });
    this.framer = new CommandFramer(server.limits);
    this.unauthInput = server.unauthInput.share();
    this.out = new OutputQueue(
      socket,
      server.limits.maxOutputBuffer,
      (err) => this.logger.warn({ err }, 'output failed; connection dropped'),
      (size) => server.literalPace?.(this.sessionInfo(), size) ?? null,
    );
    this.closedPromise = new Promise((r) => (this.resolveClosed = r));
  }

  /** The TCP or TLS socket under the compression transport, if there is one. */
  private get rawSocket(): RawSocket {
    return this.socket instanceof DeflateTransport ? (this.socket.raw as RawSocket) : this.socket;
  }

  /** True once COMPRESS=DEFLATE is active (RFC 4978). */
  get compressed(): boolean {
    return this.socket instanceof DeflateTransport || this.pendingCompress;
  }

  get canStartTls(): boolean {
    return !this.secure && this.server.secureContext !== undefined;
  }

  get user(): string | undefined {
    return this.state.kind === 'notAuthenticated' ? undefined : this.state.user;
  }

  get selectedMailbox(): string | undefined {
    return this.state.kind === 'selected' ? this.state.view.mailbox.name : undefined;
  }

  /**
   * True once the session is ending (LOGOUT, BYE): from then on the client has no mailbox view to
   * apply updates to, so none are sent (RFC 3501 §6.1.3: BYE, then the tagged OK).
   */
  get ending(): boolean {
    return this.closing;
  }

  /** Resolves once the connection is fully closed. */
  whenClosed(): Promise<void> {
    return this.closedPromise;
  }

  start(): void {
    this.attachSocket(this.socket);
    this.rawSocket.setNoDelay(true);
    const caps = this.server.capabilities(this, 'notAuthenticated').join(' ');
    // The greeting goes out now rather than at the end of this loop turn: nothing can join it, and
    // on a busy server the rest of the turn is milliseconds the client would wait for it.
    this.out.push(encodeResponse({ type: 'status', tag: '*', status: 'OK', code: { name: 'CAPABILITY', args: caps.split(' ').map(atom) }, text: this.server.greeting }), true);
    this.resetIdleTimer();
    void this.loop();
  }

  // --- output ----------------------------------------------------------------------------

  write(response: Response): void {
    if (this.closed) return;
    // A continuation goes out at once: nothing else of this command can join it, and the client
    // sends nothing more (an APPEND's literal) until it arrives.
    // UTF-8 in quoted strings only for a client that accepts it (RFC 6855 §3; RFC 9051 Appendix A).
    this.out.push(encodeResponse(response, { utf8: utf8Names(this.enabled) }), response.type === 'continuation');
  }

  /** Responses already encoded: as text (encoder.ts viewFetchLine), or as bytes (FetchLineWriter). */
  writeEncoded(text: string | Buffer[]): void {
    if (this.closed || text.length === 0) return;
    this.out.push(typeof text === 'string' ? [Buffer.from(text, 'utf8')] : text);
  }

  untagged(...values: ImapValue[]): void {
    this.write({ type: 'data', values });
  }

  status(tag: string, status: 'OK' | 'NO' | 'BAD' | 'BYE' | 'PREAUTH', text: string, code?: ResponseCode): void {
    if (status === 'BYE' && !this.closed) this.byeSent = true;
    this.write({ type: 'status', tag, status, code, text });
  }

  /**
   * Starts the progress lines of a long command (RFC 9585), or null when they are off. Stopped by
   * the dispatcher when the command ends, before its tagged reply.
   */
  startProgress(tag: string): CommandProgress | null {
    const seconds = this.server.limits.inProgressSeconds;
    if (!(seconds > 0)) return null;
    this.progress = new CommandProgress(tag, seconds * 1000, {
      send: (code, text) => {
        if (this.closing || this.closed) return;
        this.status('*', 'OK', text, code);
        this.out.flush();
      },
    });
    return this.progress;
  }

  // --- the command loop ----------------------------------------------------------------------

  private async loop(resumed?: FramedCommand): Promise<void> {
    try {
      if (resumed) await this.runCommand(resumed);
      while (!this.closing) {
        const result = await this.read(() => this.framer.nextCommand((req) => this.literalGate(req), this.frameBounds()));
        this.maybeResume();
        // Told to close while this command was being read (BYE is out): it does not run.
        if (result === null || this.closing) break;
        if (result.type === 'fatal') {
          this.status('*', 'BYE', result.reason, this.byeCode);
          this.refuseInput();
          break;
        }
        if (result.type === 'rejected') continue;
        this.resetIdleTimer();
        const streamed = result.command.streamed;
        if (streamed) {
          // The literal's deadline (set by the gate) goes on while the command reads it.
          const deadline = this.streamDeadline;
          if (deadline) this.lineTimer.restart(deadline.ms, deadline.gapMs);
          this.reading = true;
        }
        try {
          await this.runCommand(result.command);
          // dispatch() has drained it; this only guards the framer against a second reader.
          if (streamed) await streamed.drain();
        } finally {
          if (streamed) {
            this.reading = false;
            this.lineTimer.stop();
          }
        }
        if (this.slice.due) await this.slice.yieldNow();
      }
    } catch (err) {
      this.logger.error({ err }, 'connection loop failed');
      this.status('*', 'BYE', 'Internal server error');
    }
    await this.shutdown();
  }

  private async runCommand(command: FramedCommand): Promise<void> {
    this.busy = true;
    this.runningCommandBytes = command.size;
    try {
      // A NOTIFY report pushed between commands finishes first: the command sees the view it left.
      await this.pushing;
      await dispatch(this, command);
    } finally {
      this.busy = false;
      this.runningCommandBytes = 0;
      this.chargeUnauthInput();
    }
    if (this.pendingTls) await this.upgrade();
    if (this.pendingCompress) await this.startCompression();
    this.resetIdleTimer();
    this.reportOutput();
  }

  /** Hands the bytes written since the last report to the metrics: once per command, not per write. */
  private reportOutput(): void {
    const written = this.out.written;
    if (written === this.reportedOut) return;
    this.server.metrics.bytesOut(written - this.reportedOut);
    this.reportedOut = written;
  }

  private frameBounds(): FrameBounds {
    return frameBounds(this.server.limits, this.state.kind);
  }

  private readAheadLimit(): number {
    return readAheadLimit(this.server.limits, this.state.kind);
  }

  /**
   * Reports the input this connection holds to the server-wide budget for unauthenticated input;
   * false when the budget is exhausted. After authentication the share is given back.
   */
  private chargeUnauthInput(): boolean {
    if (this.state.kind !== 'notAuthenticated' || this.closed) {
      this.unauthInput.release();
      return true;
    }
    return this.unauthInput.set(this.framer.buffered + this.framer.commandBytes + this.runningCommandBytes);
  }

  /** Decides, before the `+` continuation, whether a literal may be sent (RFC 3501 §7.5, RFC 7888). */
  private async literalGate(req: LiteralRequest): Promise<LiteralVerdict> {
    if (this.slice.due) await this.slice.yieldNow();
    const verdict = judgeLiteral(req, {
      limits: this.server.limits,
      registry: this.server.registry,
      state: this.state.kind,
      enabled: this.enabled,
      literalMinus: this.server.literalMinus,
    });
    if (!verdict.accept) {
      // A synchronising literal is refused with a tagged reply instead of the continuation, and the
      // client abandons the command; a non-synchronising one is already on its way, so the
      // connection ends with BYE without reading it (RFC 7888 §4). After a streamed message the
      // command is running: the refusal is its tagged reply, which the dispatcher writes.
      if (req.afterStreamed && !req.nonSync) {
        return { reject: true, reason: verdict.text, refusal: { status: verdict.status, text: verdict.text, ...(verdict.code ? { code: verdict.code } : {}) } };
      }
      if (!req.nonSync) this.status(verdict.tag, verdict.status, verdict.text, verdict.code);
      else this.byeCode = verdict.byeCode;
      return { reject: true, reason: verdict.text };
    }
    const limits = this.server.limits;
    // The literal gets its own deadline, long enough for its size at the slowest accepted rate, and
    // no silence between its bytes longer than the line deadline: a client that stops sending is cut
    // off after lineTimeoutSeconds, however large the literal it announced.
    const { lineTimeoutSeconds, minLiteralBytesPerSecond } = limits;
    const deadline = { ms: (lineTimeoutSeconds + req.size / minLiteralBytesPerSecond) * 1000, gapMs: lineTimeoutSeconds * 1000 };
    this.lineTimer.restart(deadline.ms, deadline.gapMs);
    if (!req.nonSync) this.write({ type: 'continuation', text: 'Ready for literal data' });
    if (streamsLiteral(req)) {
      this.streamDeadline = deadline;
      return { stream: true };
    }
    return null;
  }

  /** The deadline of the literal being streamed (the gate's), kept while the command reads it. */
  private streamDeadline: { ms: number; gapMs: number } | null = null;

  /** True once this connection has used up its time slice: pause() would yield. */
  get sliceDue(): boolean {
    return this.slice.due;
  }

  /** Yields to the event loop if this connection has used up its time slice (src/util/time-slice.ts). */
  async pause(): Promise<void> {
    if (this.slice.due) await this.slice.yieldNow();
  }

  /** Sends `+ text` and reads one line (AUTHENTICATE). */
  async continuation(text: string): Promise<string | null> {
    this.write({ type: 'continuation', text });
    try {
      const line = await this.read(() => this.framer.nextLine(this.frameBounds().maxLineLength));
      this.maybeResume();
      this.resetIdleTimer();
      return line;
    } catch (err) {
      if (err instanceof FrameTooLongError) return null;
      throw err;
    }
  }

  /** RFC 2177 IDLE: push changes at once until the client's next line. */
  async idle(text: string, tag: string): Promise<string | null> {
    if (this.resumingIdle) this.resumingIdle = false;
    else this.write({ type: 'continuation', text });
    let flushing = Promise.resolve();
    const flush = (): void => {
      this.idleFlushes++;
      this.scheduleHibernation(tag);
      flushing = flushing
        .then(() => this.flushUpdates(true, true))
        .catch((err) => this.logger.error({ err }, 'idle flush failed'))
        .finally(() => this.idleFlushes--);
    };
    this.idling = { flush };
    if ((this.state.kind === 'selected' && this.state.view instanceof SelectedMailboxView && this.state.view.hasPending()) || this.notifier?.hasPending()) flush();
    this.scheduleHibernation(tag);
    try {
      const line = await this.read(() => this.framer.nextLine(this.server.limits.maxLineLength));
      this.maybeResume();
      return line;
    } catch (err) {
      if (err instanceof FrameTooLongError) return null;
      throw err;
    } finally {
      this.idling = null;
      this.cancelHibernation();
      await flushing;
    }
  }

  // --- hibernation (hibernation.ts) ----------------------------------------------------------

  /** (Re)starts the countdown to hibernation of this IDLE; every update pushed restarts it. */
  private scheduleHibernation(tag: string): void {
    const hibernation = this.server.hibernation;
    if (!hibernation) return;
    this.cancelHibernation();
    this.hibernateTimer = setTimeout(() => this.hibernate(tag), hibernation.afterSeconds * 1000);
    this.hibernateTimer.unref();
  }

  private cancelHibernation(): void {
    if (this.hibernateTimer) clearTimeout(this.hibernateTimer);
    this.hibernateTimer = null;
  }

  /**
   * Hands the session to the server's hibernation and lets this object go. Anything unfinished —
   * updates being written, input arriving, changes not yet reported — puts it off to later.
   */
  private hibernate(tag: string): void {
    this.hibernateTimer = null;
    const hibernation = this.server.hibernation;
    if (!hibernation || !this.idling || this.closing) return;
    // A hibernated session hears its selected mailbox only: one with NOTIFY stays awake.
    if (this.notifier) return;
    const st = this.state;
    if (st.kind === 'notAuthenticated') return;
    const view = st.kind === 'selected' && st.view instanceof SelectedMailboxView ? st.view.freeze() : null;
    // Changes wait to be reported (their flush restarts the countdown), or a SEARCHRES result
    // would be lost, or the view is not ours to freeze.
    if (st.kind === 'selected' && !view) return;
    // Hibernated sessions hear their user's feed only; another user's mailbox keeps its session awake.
    if (st.kind === 'selected' && isSharedId(st.view.mailbox.id)) return;
    const parked =
      this.idleFlushes === 0 &&
      !this.paused &&
      this.framer.buffered === 0 &&
      this.out.empty &&
      this.parkWith(hibernation, {
      id: this.id,
      user: st.user,
      remoteAddress: this.remoteAddress,
      remotePort: this.remotePort,
      startedAt: this.startedAt.getTime(),
      tag,
      enabled: this.enabled.size ? [...this.enabled] : null,
      badCommands: this.badCommands,
      view,
      logoutAt: this.logoutAt,
      connectionSlot: this.connectionSlot,
      userSlot: this.userSlot,
    });
    // Something unfinished (updates being written, input arriving), or the socket cannot be parked now.
    if (!parked) {
      this.scheduleHibernation(tag);
      return;
    }
    // The slots now belong to the frozen session; everything else of this connection is dropped.
    this.connectionSlot = null;
    this.userSlot = null;
    this.endSession();
    this.reportOutput();
    this.closed = true;
    this.out.close();
    this.server.connectionClosed(this, 'hibernated');
    this.resolveClosed();
  }

  /**
   * Parks this connection's socket. A TLS socket stays the same object while parked, so this
   * connection's own listeners come off it first (they would keep the whole connection alive) and
   * go back on if it cannot be parked; a plain one is reduced to its handle, listeners and all.
   */
  private parkWith(hibernation: Hibernation, request: ParkRequest): boolean {
    if (this.socket instanceof DeflateTransport) return this.parkCompressed(hibernation, request, this.socket);
    if (!(this.socket instanceof TLSSocket)) return hibernation.park(this.socket, request);
    const socket = this.socket;
    this.detachSocket(socket);
    socket.off('error', this.onError);
    socket.off('close', this.releaseConnectionSlot);
    if (hibernation.park(socket, request)) return true;
    this.attachSocket(socket);
    if (this.connectionSlot) socket.once('close', this.releaseConnectionSlot);
    return false;
  }

  /**
   * A compressed session is parked with its inflater (the client's compressor may refer back to
   * what it sent before) but without its deflater, which a new one replaces on waking
   * (src/net/deflate-transport.ts). The socket under the transport is parked as any other.
   */
  private parkCompressed(hibernation: Hibernation, request: ParkRequest, transport: DeflateTransport): boolean {
    if (transport.parkRefusal() !== null) return false;
    this.detachSocket(transport);
    transport.off('error', this.onError);
    const raw = transport.raw as RawSocket;
    const inflater = transport.detachForParking();
    if (raw instanceof TLSSocket) raw.off('close', this.releaseConnectionSlot);
    if (hibernation.park(raw, { ...request, inflater })) return true;
    // Not parked after all: the session goes on over a new transport with the same inflater.
    if (raw instanceof TLSSocket && this.connectionSlot) raw.once('close', this.releaseConnectionSlot);
    this.socket = new DeflateTransport(raw, { level: this.server.limits.compressionLevel, inflater });
    this.out.setSocket(this.socket);
    this.attachSocket(this.socket);
    return false;
  }

  /** Starts a woken session: back in its mailbox, inside its IDLE, reporting what changed. */
  resume(): void {
    const frozen = this.options.resumed;
    if (!frozen) throw new Error('resume() is for woken sessions');
    this.rawSocket.setNoDelay(true);
    if (frozen.inflater) {
      // The transport goes on the socket before this returns: the bytes that woke it come next.
      this.socket = new DeflateTransport(this.rawSocket, { level: this.server.limits.compressionLevel, inflater: frozen.inflater });
      this.out.setSocket(this.socket);
    }
    this.attachSocket(this.socket);
    this.badCommands = frozen.badCommands;
    for (const name of frozen.enabled ?? []) this.enabled.add(name);
    this.userSlot = frozen.userSlot;
    this.startIdleTimer(frozen.logoutAt - Date.now());
    this.logger.debug('woken from hibernation');
    void this.restore(frozen).then(
      () => {
        // Told to close while being restored (server shutdown): its BYE is out; no IDLE to finish.
        if (this.closing) return this.shutdown();
        this.resumingIdle = true;
        return this.loop({ text: [`${frozen.tag} IDLE`], literals: [], size: 0 });
      },
      (err: unknown) => {
        this.logger.warn({ err }, 'could not restore a hibernated session');
        const changed = err instanceof Error && err.message === 'Mailbox UIDVALIDITY changed';
        this.status('*', 'BYE', changed ? err.message : 'Session could not be restored');
        return this.shutdown();
      },
    );
  }

  private async restore(frozen: FrozenSession): Promise<void> {
    const { user } = frozen;
    const mail = sessionHandle(this.server, user, await openWithSharing(this.server.store, user, this.id, DEFAULT_SHARED_PREFIX), this.logger);
    // Straight to the authenticated state: the user's connection slot came with the session, so
    // setState() must not admit the user again.
    this.state = { kind: 'authenticated', user, mail };
    const fv = frozen.view;
    if (!fv) return;
    const { view, unwatch } = await watchedView(this.server.store, user, mail, fv.mailboxId, async () => {
      const snapshot = await mail.snapshot(fv.mailboxId);
      if (snapshot.uidValidity !== fv.uidValidity) throw new Error('Mailbox UIDVALIDITY changed');
      return SelectedMailboxView.thaw(fv, snapshot, this, this.id, {
        reportModseq: () => this.enabled.has('CONDSTORE'),
        vanished: () => this.enabled.has('QRESYNC') || this.enabled.has('UIDONLY'),
        noRecent: () => this.enabled.has('IMAP4REV2'),
        uidOnly: () => this.enabled.has('UIDONLY'),
      });
    });
    this.enterSelected({ kind: 'selected', user, mail, view }, view, unwatch);
  }

  /**
   * True when flushUpdates() has something to do: the dispatcher asks first, so a command with
   * nothing to report (most of them) does not pay for an async call at its end.
   */
  get hasUpdates(): boolean {
    return this.notifier?.hasPending() === true || this.viewWithUpdates() !== null;
  }

  /**
   * The selected mailbox's view when it has changes to report — or live UPDATE contexts (RFC 5267),
   * which may have work queued by this session's own STORE or EXPUNGE.
   */
  private viewWithUpdates(): SelectedMailboxView | null {
    if (this.state.kind !== 'selected') return null;
    const view = this.state.view;
    return view instanceof SelectedMailboxView && (view.hasPending() || view.observers.size > 0) ? view : null;
  }

  /**
   * Reports what changed (elsewhere, to the selected mailbox) where the protocol allows. `pushed`:
   * not at the end of a command but while idling or between commands, where NOTIFY's MessageNew
   * FETCH attributes go with new messages (RFC 5465 §5.2; at a command's end the new messages are
   * most likely the client's own APPEND or COPY).
   */
  async flushUpdates(allowExpunge: boolean, pushed = false): Promise<void> {
    if (this.notifier?.hasPending()) await this.notifier.flush();
    const view = this.viewWithUpdates();
    if (!view || this.state.kind !== 'selected') return; // (the second test only narrows the type)
    // RFC 5465 §3.1: a NOTIFY SET without SELECTED (or with SELECTED NONE) means the client "doesn't
    // want to receive any <message-event>s for the currently selected mailbox" — none pushed, none
    // at a command's end either (Dovecot sends none too). The view keeps them pending, so the
    // sequence numbers the client knows stay true (Dovecot renumbers silently); they go out when a
    // NOTIFY SET asks for them or NOTIFY NONE ends the set (§3.1: NOTIFY is an implicit NOOP), or
    // the mailbox is selected again. What this session did itself (STORE, EXPUNGE) is answered
    // by its command as always, and its own UPDATE contexts (RFC 5267) still hear of it. Held
    // beyond maxNotifyQueuedEvents: NOTIFICATIONOVERFLOW (§5.8), NOTIFY off, and all is reported.
    if (this.notifier && !this.notifier.spec.selected?.events.size) {
      if (view.pendingCount() <= this.server.limits.maxNotifyQueuedEvents) {
        await view.settleObservers();
        return;
      }
      this.notifyOverflowed(this.notifier);
    }
    const fetch = pushed ? this.notifier?.spec.selected?.fetch ?? [] : [];
    const lastUid = view.exists > 0 ? view.uidAt(view.exists) : 0;
    // New messages get one FETCH each (RFC 5465 §5.2: NOTIFY's attributes and those of the UPDATE
    // contexts they joined, §7, combined), written by the contexts between EXISTS and their ADDTO
    // (§7) — or here after the flush when no context asked for the message.
    const fetched = new Set<number>();
    const fetchNew: NewMessageFetch = async (arrived, wanted) => {
      const groups = new Map<string, { items: FetchItem[]; uids: number[] }>();
      for (const uid of arrived) {
        if (fetched.has(uid)) continue;
        const items = mergeItems(fetch, wanted.get(uid) ?? []);
        if (items.length === 0) continue;
        fetched.add(uid);
        const key = JSON.stringify(items);
        const group = groups.get(key) ?? { items, uids: [] };
        group.uids.push(uid);
        groups.set(key, group);
      }
      for (const { items, uids } of groups.values()) await this.fetchForUpdates(uids, items);
    };
    await view.flush(this.state.mail, allowExpunge, fetchNew);
    if (fetch.length === 0 || view.exists === 0 || this.state.kind !== 'selected' || this.state.view !== view) return;
    // The new messages are the tail of the view: walk it back, not the whole mailbox.
    const rest: number[] = [];
    for (let seq = view.exists; seq > 0 && view.uidAt(seq) > lastUid; seq--) if (!fetched.has(view.uidAt(seq))) rest.push(view.uidAt(seq));
    rest.reverse();
    if (rest.length > 0) await this.fetchForUpdates(rest, fetch);
  }

  /** Unsolicited FETCH responses for `uids` (ascending), as UID FETCH writes them. */
  private async fetchForUpdates(uids: readonly number[], items: FetchItem[]): Promise<void> {
    if (this.state.kind !== 'selected') return;
    const ranges: Array<{ start: number; end: number }> = [];
    for (const uid of uids) {
      const last = ranges[ranges.length - 1];
      if (last && last.end === uid - 1) last.end = uid;
      else ranges.push({ start: uid, end: uid });
    }
    const ctx = createCommandContext(this, '*', 'UID FETCH');
    await uidFetchCommand.run(ctx, { set: { saved: false, ranges }, items, unsolicited: true });
  }

  // --- NOTIFY (RFC 5465) -----------------------------------------------------------------------

  /** NOTIFY SET / NONE: the old set ends, the new one starts watching the user's change feed. */
  async setNotify(spec: NotifySpec | null): Promise<void> {
    this.notifier?.stop();
    this.notifier = null;
    const st = this.state;
    if (!spec || st.kind === 'notAuthenticated') return;
    const watcher = new NotifyWatcher(
      {
        sessionId: this.id,
        enabled: this.enabled,
        selectedId: () => (this.state.kind === 'selected' ? this.state.view.mailbox.id : undefined),
        untagged: (...values) => this.untagged(...values),
        overflowed: () => this.notifyOverflowed(watcher),
        kick: () => this.kickNotify(),
        drain: async () => {
          await this.out.drain();
          await this.pause();
        },
      },
      spec,
      this.server.store,
      st.user,
      st.mail,
      this.server.limits.maxNotifyQueuedEvents,
    );
    this.notifier = watcher;
    await watcher.start();
    watcher.noAccessLists();
    if (spec.status) await watcher.initialStatus();
  }

  /** RFC 5465 §5.8: too much held back for `watcher`; NOTIFY is off until the next NOTIFY SET. */
  private notifyOverflowed(watcher: NotifyWatcher): void {
    if (this.notifier !== watcher) return;
    watcher.stop();
    this.notifier = null;
    this.logger.info({ limit: this.server.limits.maxNotifyQueuedEvents }, 'NOTIFY overflow: notifications off until the next NOTIFY SET');
    this.status('*', 'OK', 'Too many notifications queued; NOTIFY is off', { name: 'NOTIFICATIONOVERFLOW' });
    if (!this.busy && !this.idling) this.out.flush();
  }

  /** Whether the selected mailbox's changes go out as they happen (SELECTED, not SELECTED-DELAYED, §6.1). */
  private selectedImmediate(): boolean {
    const selected = this.notifier?.spec.selected;
    return !!selected && !selected.delayed && selected.events.size > 0;
  }

  /**
   * Something to report: during IDLE through IDLE's flush; between commands at once (RFC 5465 §3.1:
   * the client listens all the time); during a command at its end (the dispatcher's flush).
   */
  private kickNotify(): void {
    if (this.closing) return;
    if (this.idling) {
      this.idling.flush();
      return;
    }
    if (this.busy) return;
    this.pushing = this.pushing
      .then(async () => {
        if (this.busy || this.closing || this.idling) return;
        await this.notifier?.flush();
        if (this.selectedImmediate() && !this.busy) await this.flushUpdates(true, true);
        if (!this.busy) this.out.flush();
      })
      .catch((err) => this.logger.error({ err }, 'NOTIFY push failed'));
  }

  /**
   * Runs one framer read with the line deadline: the clock starts at the first byte of the awaited
   * input (now, if some is already buffered) and stops when the read completes.
   */
  private async read<T>(fn: () => Promise<T>): Promise<T> {
    this.reading = true;
    // Nothing more to run until the client sends more: whatever it waits for goes out now.
    if (this.framer.buffered === 0) this.out.flush();
    if (this.framer.buffered > 0) this.lineTimer.start(this.server.limits.lineTimeoutSeconds * 1000);
    try {
      return await fn();
    } finally {
      this.reading = false;
      this.lineTimer.stop();
    }
  }

  private inputTooSlow(): void {
    if (this.closing) return;
    this.logger.info('input not completed in time');
    this.status('*', 'BYE', 'Command not completed in time');
    this.close();
  }

  // --- state ----------------------------------------------------------------------------------

  setState(next: SessionState): void {
    const prev = this.state;
    if (prev.kind === 'notAuthenticated' && next.kind !== 'notAuthenticated') this.admitUser(next.user, next.mail);
    if (prev.kind !== 'notAuthenticated' && next.kind === 'notAuthenticated') {
      this.releaseUser();
      this.notifier?.stop();
      this.notifier = null;
    }
    if (prev.kind === 'selected' && (next.kind !== 'selected' || next.view !== prev.view)) this.stopWatching();
    if (prev.kind !== 'notAuthenticated' && next.kind === 'notAuthenticated') void prev.mail.close().catch(() => undefined);
    this.state = next;
    // Authenticated input is bounded by the per-connection limits alone.
    if (next.kind !== 'notAuthenticated') this.unauthInput.release();
  }

  /**
   * RFC 8437: all session state but TLS is reset. setState() gives back the view's subscription,
   * the store handle and the user's connection slot; what is left is kept here, on the connection:
   * the ENABLEd extensions (§4.1: they cease to be enabled) and the count of commands before
   * authentication, which starts again for the new not-authenticated phase. The idle deadline
   * becomes the shorter unauthenticated one at the end of the command (resetIdleTimer).
   */
  unauthenticate(): void {
    if (this.state.kind === 'notAuthenticated') return;
    const user = this.state.user;
    this.setState({ kind: 'notAuthenticated' });
    this.enabled.clear();
    this.commandsBeforeAuth = 0;
    this.logger.info({ user }, 'unauthenticated');
  }

  /**
   * Every login passes through here on its way to the authenticated state, so this is where the
   * per-user connection limit holds (RFC 5530 LIMIT); the refusal becomes the command's tagged NO.
   */
  private admitUser(user: string, mail: { close(): Promise<void> }): void {
    if (!this.options.limiter) return;
    const slot = this.options.limiter.admitUser(user);
    if (slot === 'user') {
      void mail.close().catch(() => undefined);
      this.logger.warn({ user, result: 'limit' }, 'login refused: too many connections for user');
      throw ImapError.no('Too many connections for this user', 'LIMIT');
    }
    this.userSlot = slot;
  }

  private releaseUser(): void {
    this.userSlot?.release();
    this.userSlot = null;
  }

  /** Enters the selected state with a view whose change-feed subscription is already running. */
  enterSelected(next: SessionState & { kind: 'selected' }, view: SelectedMailboxView, unwatch: () => void): void {
    this.setState(next);
    this.unwatch = unwatch;
    view.onPending = () => {
      if (this.idling) this.idling.flush();
      else if (this.selectedImmediate()) this.kickNotify();
    };
    view.onInvalidated = () => {
      if (this.closing || this.state.kind !== 'selected' || this.state.view !== view) return;
      this.logger.info({ mailbox: view.mailbox.name }, 'UIDVALIDITY of the selected mailbox changed: ending the session');
      void this.shutdownGracefully('Mailbox UIDVALIDITY changed');
    };
    this.startPolling(view);
  }

  private startPolling(view: SelectedMailboxView): void {
    const seconds = this.server.pollIntervalSeconds;
    if (!seconds || this.server.store.crossProcessChanges) return;
    this.pollTimer = setInterval(() => {
      if (this.state.kind !== 'selected' || this.state.view !== view) return;
      const mail = this.state.mail;
      mail
        .snapshot(view.mailbox.id)
        .then((snap) => view.resync(snap))
        .catch((err) => this.logger.warn({ err }, 'poll failed'));
    }, seconds * 1000);
    this.pollTimer.unref();
  }

  private stopWatching(): void {
    this.unwatch?.();
    this.unwatch = null;
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  /** STARTTLS: stop reading now, drop pipelined plaintext, upgrade after the tagged OK is out. */
  requestTls(): void {
    this.socket.pause();
    this.detachSocket(this.socket);
    this.framer.discardBuffered();
    this.pendingTls = true;
  }

  /**
   * COMPRESS: stop reading now; once the tagged OK is out, put the compression transport on the
   * socket. Bytes already read past COMPRESS's line were sent compressed (a client that did not
   * wait for the OK, or bytes that arrived meanwhile), so they go through the inflater first.
   */
  requestCompression(): void {
    this.socket.pause();
    this.detachSocket(this.socket);
    this.pendingCompress = true;
  }

  private async startCompression(): Promise<void> {
    await this.out.idle();
    const raw = this.rawSocket;
    this.pendingCompress = false;
    // Gone while the OK was written (its 'close' listener was off): end as any closed connection.
    if (raw.destroyed) return this.onClose();
    // The transport handles the socket's errors now; the session hears them from the transport.
    raw.off('error', this.onError);
    const transport = new DeflateTransport(raw, { level: this.server.limits.compressionLevel });
    this.socket = transport;
    this.out.setSocket(transport);
    this.attachSocket(transport);
    transport.feed(this.framer.takeBuffered());
    this.paused = false;
    raw.resume();
  }

  private async upgrade(): Promise<void> {
    this.pendingTls = false;
    await this.out.idle();
    const context = this.server.secureContext;
    if (!context) return;
    try {
      const secure = await upgradeToTls(this.rawSocket as Socket, context, this.server.limits.tlsHandshakeSeconds * 1000, this.server.tlsRecords);
      this.framer.discardBuffered();
      this.socket = secure;
      this.secure = true;
      this.out.setSocket(secure);
      this.attachSocket(secure);
      this.server.metrics.tlsHandshake('starttls', true);
    } catch (err) {
      this.server.metrics.tlsHandshake('starttls', false);
      this.logger.info({ err: (err as Error).message }, 'STARTTLS handshake failed');
      this.closing = true;
      this.socket.destroy();
    }
  }

  // --- socket plumbing -------------------------------------------------------------------------

  private readonly onData = (chunk: Buffer): void => {
    if (this.closing) return;
    this.server.metrics.bytesIn(chunk.length);
    this.slice.restart();
    this.framer.push(chunk);
    this.lineTimer.activity();
    if (this.reading) this.lineTimer.start(this.server.limits.lineTimeoutSeconds * 1000);
    if (!this.chargeUnauthInput()) {
      this.logger.warn({ total: this.server.unauthInput.total }, 'input before authentication over the server-wide budget; connection closed');
      this.abort('Server busy, try again later', { name: 'UNAVAILABLE' });
      return;
    }
    if (!this.paused && this.framer.buffered > this.readAheadLimit()) {
      this.paused = true;
      this.socket.pause();
      this.watchResume();
    }
  };

  /** While paused, check now and then whether the framer has consumed enough to read again. */
  private watchResume(): void {
    const check = (): void => {
      if (!this.paused || this.closed) return;
      if (this.framer.buffered <= this.readAheadLimit() / 2) this.maybeResume();
      else setTimeout(check, 5).unref();
    };
    setTimeout(check, 5).unref();
  }

  private maybeResume(): void {
    if (this.paused && this.framer.buffered <= this.readAheadLimit() / 2 && !this.pendingTls && !this.closing) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private readonly onEnd = (): void => {
    this.framer.end();
  };

  private readonly onError = (err: Error): void => {
    this.logger.debug({ err: err.message }, 'socket error');
    this.framer.end();
  };

  private readonly onClose = (): void => {
    this.framer.end();
    this.out.close();
    this.closing = true;
  };

  private attachSocket(socket: Transport): void {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  private detachSocket(socket: Transport): void {
    socket.off('data', this.onData);
    socket.off('end', this.onEnd);
    socket.off('close', this.onClose);
    // keep the error listener: an error while upgrading must not crash the process
  }

  private resetIdleTimer(): void {
    const seconds = this.state.kind === 'notAuthenticated' ? this.server.limits.unauthIdleSeconds : this.server.limits.authIdleSeconds;
    this.startIdleTimer(seconds * 1000);
  }

  /** The client's last activity (a command, a line of one), for `postroom who`. */
  get lastActivity(): Date {
    return new Date(this.activeAt);
  }

  private startIdleTimer(ms: number): void {
    this.activeAt = Date.now();
    this.logoutAt = this.activeAt + ms;
    // Re-armed twice a command: the same timer restarted, not a new one each time (a Timeout and
    // a closure per call were part of every command's garbage).
    if (this.idleTimer && this.idleTimerMs === ms && !this.idleTimer.hasRef()) {
      this.idleTimer.refresh();
      return;
    }
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimerMs = ms;
    this.idleTimer = setTimeout(() => {
      this.status('*', 'BYE', 'Autologout; idle for too long');
      this.close();
    }, Math.max(0, ms));
    this.idleTimer.unref();
  }

  /**
   * Whatever the client still sends (the rest of a refused literal) is dropped as it arrives
   * (onData ignores input once closing). It is still read, not left in the socket: closing a
   * socket with unread input makes the kernel send RST, and the client could lose the BYE.
   */
  private refuseInput(): void {
    this.closing = true;
    this.framer.discardBuffered();
    if (this.socket instanceof DeflateTransport) this.socket.discardInput();
  }

  /** Commands run so far (the hooks' `index`). */
  commandIndex = 0;

  /** What the hooks are told about this connection. */
  sessionInfo(): ImapSessionInfo {
    return { id: this.id, remoteAddress: this.remoteAddress, remotePort: this.remotePort, secure: this.secure, ...(this.user ? { user: this.user } : {}) };
  }

  /** Refused by the onConnect hook before the greeting: BYE and close, no session ever ran. */
  refuse(text: string): void {
    this.closing = true;
    this.closed = true;
    this.unauthInput.release();
    this.socket.end(`* BYE ${text}\r\n`);
    setTimeout(() => this.socket.destroy(), 1_000).unref();
    this.resolveClosed();
  }

  /** Drops the connection now, without BYE (server.close({ force }), disconnect(id, { force })). */
  destroy(): void {
    this.socket.destroy();
    if (this.closed) return;
    // A command may be stuck in a store call that never returns: the session is over now anyway.
    this.endSession();
    this.closed = true;
    this.out.close();
    this.server.connectionClosed(this);
    this.resolveClosed();
  }

  /** Sends an untagged status now (an ALERT from the administrator, for instance). */
  notify(text: string, code?: ResponseCode): void {
    if (this.closing) return;
    this.status('*', 'OK', text, code);
    this.out.flush();
  }

  /** Ends the connection after the queued output (LOGOUT, BYE). */
  close(): void {
    this.closing = true;
    this.framer.end();
  }

  /**
   * BYE now and drop all input: nothing buffered or still arriving will run. The command in flight,
   * if any, completes first (close() waits for it).
   */
  private abort(text: string, code?: ResponseCode): void {
    this.status('*', 'BYE', text, code);
    this.refuseInput();
    this.framer.end();
    this.chargeUnauthInput();
  }

  /** Server shutdown: BYE now if nothing runs, else after the command in flight. */
  async shutdownGracefully(reason: string): Promise<void> {
    if (this.closed) return;
    if (!this.busy || this.idling) {
      this.status('*', 'BYE', reason);
      this.close();
    } else {
      // The command's tagged reply first, then BYE (shutdown() writes it), then the close.
      this.byeWhenDone = reason;
      this.closing = true;
      this.framer.end();
      const done = this.whenClosed();
      await Promise.race([done, new Promise((r) => setTimeout(r, 10_000).unref())]);
      if (!this.closed) {
        this.status('*', 'BYE', reason);
      }
    }
    await Promise.race([this.whenClosed(), new Promise((r) => setTimeout(r, 5_000).unref())]);
    if (!this.closed) this.socket.destroy();
  }

  /** Stops everything the session runs: timers, the change-feed subscription, the store handle. */
  private endSession(): void {
    this.closing = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    // A cleared timer cannot be refresh()ed back to life: a later start makes a new one.
    this.idleTimer = null;
    this.cancelHibernation();
    this.lineTimer.stop();
    this.unauthInput.release();
    this.releaseUser();
    this.stopWatching();
    this.notifier?.stop();
    this.notifier = null;
    if (this.state.kind !== 'notAuthenticated') void this.state.mail.close().catch(() => undefined);
  }

  private async shutdown(): Promise<void> {
    if (this.closed) return;
    if (this.byeWhenDone !== null && !this.byeSent) this.status('*', 'BYE', this.byeWhenDone);
    this.endSession();
    await Promise.race([this.out.idle(), new Promise((r) => setTimeout(r, 2_000).unref())]);
    this.reportOutput();
    this.closed = true;
    this.out.close();
    const socket = this.socket;
    socket.end();
    setTimeout(() => socket.destroy(), 1_000).unref();
    this.server.connectionClosed(this);
    this.resolveClosed();
  }
}
