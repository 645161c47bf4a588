/**
 * IDLE hibernation. A session that has sat in IDLE with nothing to report for a while is reduced to
 * a FrozenSession — who it is, the UIDs its client knows, the IDLE tag — and its socket is parked
 * (src/net/parked-socket.ts); the connection object, its parser, buffers, view and timers are let
 * go: about 1 KB stays per connection instead of about 21 KB (bench/RESULTS.md). Dovecot's
 * imap-hibernate does the same for the same reason: mobile clients hold IDLE for hours and are
 * idle almost all that time.
 *
 * TLS sessions are parked too. A TLS 1.3 one with Postroom's record layer (src/net/tls13/) is
 * parked as a plain one is, its TCP handle plus its traffic secrets; a TLSSocket (TLS 1.2, or
 * `records: 'openssl'`) stays as it is, with nothing of the session around it.
 *
 * A hibernated session wakes — becomes a full connection again, still inside its IDLE command — when
 * its client sends anything (DONE, or the connection ends), when its mailbox changes, at its
 * autologout deadline, and when the server shuts down. Waking reads the mailbox afresh and reports
 * what changed since the freeze, exactly what the session would have said had it stayed awake.
 */
import type { InflateRaw } from 'node:zlib';
import type { Logger } from '../../util/logger.js';
import type { ChangeListener, MailboxChange, MailStore } from '../../store/types.js';
import { holdPlace, slotFromPlace, type ConnectionSlot, type HeldPlace } from '../../net/connection-limits.js';
import { parkSocket, wakeParked, writeParked, type ParkableSocket, type ParkedHandle, type ParkedSocketOwner } from '../../net/parked-socket.js';
import type { FrozenView } from './selected-view.js';

export interface FrozenSession {
  /** The connection's id, kept across hibernation (logs, and framework code keyed by it). */
  readonly id: string;
  readonly user: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly startedAt: number;
  /** Tag of the IDLE command the client is waiting to complete. */
  readonly tag: string;
  /** ENABLEd extensions (null: none). */
  readonly enabled: string[] | null;
  readonly badCommands: number;
  /** The selected mailbox's view; null when IDLE runs in the authenticated state. */
  readonly view: FrozenView | null;
  /** When the autologout timer fires (epoch ms). */
  readonly logoutAt: number;
  readonly connectionSlot: ConnectionSlot | null;
  readonly userSlot: ConnectionSlot | null;
  /**
   * COMPRESS=DEFLATE sessions: the inflater of what the client sends, kept while parked (the
   * client's compressor may refer back to anything it sent). The deflater is not kept
   * (src/net/deflate-transport.ts).
   */
  readonly inflater?: InflateRaw;
}

/** What a connection hands over to be parked: a frozen session whose UIDs are still its own array. */
export type ParkRequest = Omit<FrozenSession, 'view'> & { view: (Omit<FrozenView, 'uids'> & { uids: readonly number[] }) | null };

/** A parked session as the server lists it. */
export interface HibernatedSummary {
  id: string;
  user: string;
  remoteAddress: string;
  remotePort: number;
  mailboxName?: string;
  startedAt: Date;
  /** When the autologout timer ends the session (its last activity plus authIdleSeconds). */
  logoutAt: Date;
}

/** What few parked sessions have: kept apart so the common session does without the fields. */
interface RareState {
  readonly enabled: string[] | null;
  readonly badCommands: number;
  readonly readOnly: boolean;
  readonly recentLater: number[] | null;
  readonly inflater: InflateRaw | null;
}

/**
 * One parked session, flat: tens of thousands are held at once, so no nested objects and no
 * closures — the parked handle finds this object, and this object its Hibernation. Every field
 * costs 8 bytes per session; the connection slots are kept as bare places (no slot objects), and
 * what sessions rarely have sits in `rare`, null for most.
 */
class ParkedSession implements ParkedSocketOwner {
  readonly id: string;
  readonly user: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  // Times in whole seconds: small integers are stored in the object, milliseconds would be boxed.
  readonly startedAtSeconds: number;
  readonly logoutAtSeconds: number;
  readonly tag: string;
  /** Set by takePlaces() once the socket is parked: until then the connection still owns its slots. */
  connectionPlace: HeldPlace | null = null;
  userPlace: HeldPlace | null = null;
  /**
   * The mailbox as the client knows it, shared with sessions that know the same; null outside the
   * selected state. Moves on when the session is told of new messages in place (tellInPlace()).
   */
  view: SharedView | null;
  recentFrom: number;
  /** 0: parked; 1: being written to (writeParked); 2: written to, and to be woken once the write is done. */
  writing: 0 | 1 | 2 = 0;
  readonly rare: RareState | null;
  handle: ParkedHandle | null = null;

  constructor(
    private readonly owner: Hibernation,
    s: ParkRequest,
    view: SharedView | null,
    intern: (text: string) => string,
  ) {
    this.id = s.id;
    this.user = intern(s.user);
    this.remoteAddress = intern(s.remoteAddress);
    this.remotePort = s.remotePort;
    this.startedAtSeconds = Math.floor(s.startedAt / 1000);
    this.logoutAtSeconds = Math.ceil(s.logoutAt / 1000);
    this.tag = s.tag;
    this.view = view;
    this.recentFrom = s.view?.recentFrom ?? 0;
    const rare: RareState = {
      enabled: s.enabled,
      badCommands: s.badCommands,
      readOnly: s.view?.readOnly ?? false,
      recentLater: s.view?.recentLater ?? null,
      inflater: s.inflater ?? null,
    };
    this.rare = rare.enabled || rare.badCommands || rare.readOnly || rare.recentLater || rare.inflater ? rare : null;
  }

  get mailboxId(): string | null {
    return this.view?.mailboxId ?? null;
  }

  /** The connection's slots become this session's places (their slot objects are spent). */
  takePlaces(s: ParkRequest): void {
    this.connectionPlace = s.connectionSlot ? holdPlace(s.connectionSlot) : null;
    this.userPlace = s.userSlot ? holdPlace(s.userSlot) : null;
  }

  revived(socket: ParkableSocket): void {
    this.owner.woken(this, socket);
  }

  /** The session as it was handed in; its places become slots again (call once). */
  frozen(): FrozenSession {
    const v = this.view;
    const rare = this.rare;
    const view: FrozenView | null = v
      ? {
          mailboxId: v.mailboxId,
          mailboxName: v.mailboxName,
          readOnly: rare?.readOnly ?? false,
          uidValidity: v.uidValidity,
          uidNext: v.uidNext,
          highestModseq: v.highestModseq,
          uids: v.uids,
          keywords: v.keywords,
          recentFrom: this.recentFrom,
          recentLater: rare?.recentLater ?? null,
          ...(URLMECH_HEARD.has(this) ? { urlmech: true } : {}),
        }
      : null;
    return {
      id: this.id,
      user: this.user,
      remoteAddress: this.remoteAddress,
      remotePort: this.remotePort,
      startedAt: this.startedAtSeconds * 1000,
      tag: this.tag,
      enabled: rare?.enabled ?? null,
      badCommands: rare?.badCommands ?? 0,
      view,
      logoutAt: this.logoutAtSeconds * 1000,
      connectionSlot: this.connectionPlace ? slotFromPlace(this.connectionPlace) : null,
      userSlot: this.userPlace ? slotFromPlace(this.userPlace) : null,
      ...(rare?.inflater ? { inflater: rare.inflater } : {}),
    };
  }
}

interface UserEntry {
  sessions: Set<ParkedSession>;
  unwatch: () => void;
}

/** The part of a frozen view that sessions of one mailbox at rest have in common. */
interface SharedView {
  readonly key: string;
  readonly mailboxId: string;
  readonly mailboxName: string;
  readonly uidValidity: number;
  readonly uidNext: number;
  readonly highestModseq: number;
  readonly uids: Uint32Array;
  /** Keywords announced to the client (FrozenView.keywords). */
  readonly keywords: string;
  sessions: number;
}

/**
 * Parked sessions that heard a RESETKEY of their mailbox (rare: a set beside them rather than a
 * field in every parked session, whose size is budgeted).
 */
const URLMECH_HEARD = new WeakSet<ParkedSession>();

/** How often parked sessions are checked against their autologout deadline. */
const SWEEP_MS = 15_000;

export class Hibernation {
  private readonly users = new Map<string, UserEntry>();
  /** Views by mailbox and modseq: sessions of one mailbox at rest mostly know the same. */
  private readonly shared = new Map<string, SharedView>();
  /** One copy of each user name, address and mailbox id among parked sessions (rebuilt by the sweep). */
  private strings = new Map<string, string>();
  private sweepTimer: NodeJS.Timeout | null = null;
  /** Set by wakeAll(): a closing server parks nothing more. */
  private closed = false;

  constructor(
    /** Seconds a session stays in IDLE with nothing to report before it is hibernated. */
    readonly afterSeconds: number,
    private readonly store: MailStore,
    private readonly logger: Logger,
    /** Turns a woken session back into a connection on `socket`. */
    private readonly resume: (session: FrozenSession, socket: ParkableSocket) => void,
  ) {}

  get size(): number {
    let n = 0;
    for (const u of this.users.values()) n += u.sessions.size;
    return n;
  }

  /**
   * Parks `socket` with `session` as all that remains of the connection. False when the socket
   * cannot be parked (the caller keeps the connection as it is).
   */
  park(socket: ParkableSocket, session: ParkRequest): boolean {
    if (this.closed) return false;
    const parked = new ParkedSession(this, session, session.view ? this.shareView(session.view) : null, (text) => this.intern(text));
    const handle = parkSocket(socket, parked);
    if (!handle) {
      this.releaseView(parked);
      return false;
    }
    parked.handle = handle;
    parked.takePlaces(session);
    this.userEntry(parked.user).sessions.add(parked);
    this.startSweep();
    return true;
  }

  /** Wakes every parked session (server shutdown); each then handles the shutdown as usual. */
  wakeAll(): void {
    this.closed = true;
    for (const parked of this.all()) this.wake(parked);
  }

  summaries(): HibernatedSummary[] {
    return this.all().map((p) => ({
      id: p.id,
      user: p.user,
      remoteAddress: p.remoteAddress,
      remotePort: p.remotePort,
      startedAt: new Date(p.startedAtSeconds * 1000),
      logoutAt: new Date(p.logoutAtSeconds * 1000),
      ...(p.view ? { mailboxName: p.view.mailboxName } : {}),
    }));
  }

  /** Wakes one parked session (`postroom kick`); false when there is none with that id. */
  wakeOne(id: string): boolean {
    const parked = this.all().find((p) => p.id === id);
    if (!parked) return false;
    this.wake(parked);
    return true;
  }

  /** Called by a parked session whose socket came back (its own input, or wake()). */
  woken(parked: ParkedSession, socket: ParkableSocket): void {
    this.forget(parked);
    const session = parked.frozen();
    if (socket.destroyed) {
      // A parked TLS socket that closed (a reset, an error): there is no client left to resume for.
      session.connectionSlot?.release();
      session.userSlot?.release();
      session.inflater?.close();
      return;
    }
    try {
      this.resume(session, socket);
    } catch (err) {
      this.logger.error({ err }, 'waking a hibernated session failed');
      session.connectionSlot?.release();
      session.userSlot?.release();
      session.inflater?.close();
      socket.destroy();
    }
  }

  private wake(parked: ParkedSession): void {
    // Its socket is out for a write (tellInPlace): it wakes when the write is done.
    if (parked.writing !== 0) parked.writing = 2;
    else if (parked.handle) wakeParked(parked.handle);
  }

  private all(): ParkedSession[] {
    const all: ParkedSession[] = [];
    for (const u of this.users.values()) all.push(...u.sessions);
    return all;
  }

  private userEntry(user: string): UserEntry {
    let entry = this.users.get(user);
    if (!entry) {
      const sessions = new Set<ParkedSession>();
      const listener: ChangeListener = (change) => this.onChange(user, sessions, change);
      entry = { sessions, unwatch: this.store.watch(user, listener) };
      this.users.set(user, entry);
    }
    return entry;
  }

  /** A change to a mailbox wakes the sessions that have it selected; IDLE reports nothing else. */
  private onChange(user: string, sessions: Set<ParkedSession>, change: MailboxChange): void {
    if (change.kind === 'urlauth') {
      // RESETKEY (RFC 4467 §7): sessions with the mailbox selected owe an untagged URLMECH; the
      // woken session's view is told through FrozenView.urlmech. Another user's key (a reader of
      // this user's shared mailbox) is none of this user's sessions' business.
      if (change.viewer !== undefined && change.viewer !== user) return;
      for (const parked of [...sessions]) {
        if (parked.mailboxId === null || (change.mailboxId !== undefined && parked.mailboxId !== change.mailboxId)) continue;
        if (change.origin !== undefined && change.origin === parked.id) continue;
        URLMECH_HEARD.add(parked);
        this.wake(parked);
      }
      return;
    }
    if (change.kind === 'mailboxes' || change.kind === 'sieve' || change.kind === 'metadata') return;
    // Another user's own \Seen in this user's mailbox (per-user \Seen) is none of this user's business.
    if (change.kind === 'flags' && change.viewer !== undefined) return;
    if (change.kind === 'exists') {
      // New messages: most parked sessions are told in place, without waking (tellInPlace).
      const moved = new Map<SharedView, SharedView | null>();
      for (const parked of [...sessions]) if (parked.mailboxId === change.mailboxId && !this.tellInPlace(parked, change.uids, moved)) this.wake(parked);
      return;
    }
    for (const parked of [...sessions]) if (parked.mailboxId === change.mailboxId) this.wake(parked);
  }

  /**
   * Tells a parked session of new messages as an awake one in IDLE would — `* n EXISTS` and
   * `* 0 RECENT` — by writing to its parked connection, and moves its frozen view on to include
   * them; the session stays parked. Waking every session instead costs a connection object, a
   * store handle and a snapshot each (with `serve --workers` on SQLite, round trips to the primary):
   * 100,000 sessions of one server were not all told within 5 s that way (bench/RESULTS.md,
   * "100,000 idle connections"). No store call is made: what the client is told depends only on
   * the frozen view and the UIDs the change carries.
   *
   * Only the common session qualifies: IMAP4rev1 with no ENABLEd extension, read-write, with no
   * \Recent message of its own, not compressed (nothing in `rare`), and the new UIDs all above the
   * ones it knows. It does not claim \Recent for the new messages (RFC 3501 §2.3.2: they stay
   * \Recent for the next session to claim them, one that SELECTs or is awake), so it reports
   * `* 0 RECENT` as an awake session that lost the claim does. The new messages' flags and modseqs
   * are not known here: when the session wakes, thaw() finds them newer than the frozen
   * HIGHESTMODSEQ and reports their flags (an unsolicited FETCH, RFC 3501 §7.4.2), and any new
   * keyword with them. Returns false when the session must be woken instead.
   */
  private tellInPlace(parked: ParkedSession, uids: readonly number[], moved: Map<SharedView, SharedView | null>): boolean {
    const view = parked.view;
    if (!view || parked.rare !== null || parked.writing !== 0 || !parked.handle || parked.recentFrom < view.uidNext) return false;
    let next = moved.get(view);
    if (next === undefined) {
      next = this.viewWith(view, uids);
      moved.set(view, next);
    }
    if (next === null) return false;
    if (next === view) return true; // nothing it does not know
    const newUidNext = next.uidNext;
    parked.writing = 1;
    const written = writeParked(parked.handle, `* ${next.uids.length} EXISTS\r\n* 0 RECENT\r\n`, () => {
      const wake = parked.writing === 2;
      parked.writing = 0;
      return wake;
    });
    if (!written) {
      parked.writing = 0;
      return false;
    }
    next.sessions++;
    parked.view = next;
    parked.recentFrom = newUidNext;
    this.releaseShared(view);
    return true;
  }

  /**
   * `view` with `uids` added (one object for every session that had `view`): itself when it knows
   * them all, null when some are not above what it knows (not a plain arrival: wake instead).
   */
  private viewWith(view: SharedView, uids: readonly number[]): SharedView | null {
    const known = view.uids.length ? view.uids[view.uids.length - 1]! : 0;
    const added = [...new Set(uids)].filter((uid) => uid >= view.uidNext).sort((a, b) => a - b);
    if (uids.some((uid) => uid < view.uidNext && !hasUid(view.uids, uid))) return null;
    if (added.length === 0) return view;
    if (added[0]! <= known) return null;
    const all = new Uint32Array(view.uids.length + added.length);
    all.set(view.uids);
    all.set(added, view.uids.length);
    const uidNext = added[added.length - 1]! + 1;
    const key = `${view.mailboxId}\u0000${view.highestModseq}\u0000${all.length}\u0000${uidNext}`;
    const found = this.shared.get(key);
    if (found && found.uidValidity === view.uidValidity && found.mailboxName === view.mailboxName && found.keywords === view.keywords && sameUids(found.uids, all)) return found;
    const next: SharedView = { ...view, key, uids: all, uidNext, sessions: 0 };
    if (!found) this.shared.set(key, next);
    return next;
  }

  private forget(parked: ParkedSession): void {
    parked.handle = null;
    const user = this.users.get(parked.user);
    if (user?.sessions.delete(parked) && user.sessions.size === 0) {
      user.unwatch();
      this.users.delete(parked.user);
    }
    this.releaseView(parked);
    if (this.users.size === 0) {
      this.stopSweep();
      this.strings.clear();
    }
  }

  private intern(text: string): string {
    const found = this.strings.get(text);
    if (found !== undefined) return found;
    this.strings.set(text, text);
    return text;
  }

  private shareView(v: NonNullable<ParkRequest['view']>): SharedView {
    const key = `${v.mailboxId}\u0000${v.highestModseq}\u0000${v.uids.length}`;
    const found = this.shared.get(key);
    if (
      found &&
      found.uidValidity === v.uidValidity &&
      found.uidNext === v.uidNext &&
      found.mailboxName === v.mailboxName &&
      found.keywords === v.keywords &&
      sameUids(found.uids, v.uids)
    ) {
      found.sessions++;
      return found;
    }
    const view: SharedView = {
      key,
      mailboxId: this.intern(v.mailboxId),
      mailboxName: this.intern(v.mailboxName),
      uidValidity: v.uidValidity,
      uidNext: v.uidNext,
      highestModseq: v.highestModseq,
      uids: Uint32Array.from(v.uids),
      keywords: this.intern(v.keywords),
      sessions: 1,
    };
    // A different view under the same key (possible only in unusual histories) is simply not shared.
    if (!found) this.shared.set(key, view);
    return view;
  }

  private releaseView(parked: ParkedSession): void {
    if (parked.view) this.releaseShared(parked.view);
  }

  private releaseShared(view: SharedView): void {
    if (--view.sessions === 0 && this.shared.get(view.key) === view) this.shared.delete(view.key);
  }

  private startSweep(): void {
    if (this.sweepTimer) return;
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweepTimer.unref();
  }

  private stopSweep(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
  }

  /**
   * Sessions past their autologout deadline wake up, and the woken connection logs them out. The
   * string table is rebuilt from the sessions still parked, so names of the departed go with them.
   */
  private sweep(): void {
    const now = Date.now() / 1000;
    const strings = new Map<string, string>();
    for (const parked of this.all()) {
      if (parked.logoutAtSeconds <= now) {
        this.wake(parked);
        continue;
      }
      for (const text of [parked.user, parked.remoteAddress, parked.view?.mailboxId, parked.view?.mailboxName, parked.view?.keywords]) if (text) strings.set(text, text);
    }
    this.strings = strings;
  }
}

function hasUid(sorted: Uint32Array, uid: number): boolean {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < uid) lo = mid + 1;
    else hi = mid;
  }
  return sorted[lo] === uid;
}

function sameUids(a: Uint32Array | readonly number[], b: Uint32Array | readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
