/**
 * What the stress knows across sessions, and the errors it found. Every client reports here what
 * the server told it; the world holds the facts no single session can check alone:
 *
 * - which session first reported each message \Recent (RFC 3501 §2.3.2: one session only);
 * - which message each UID is (from APPENDUID and from fetched Message-IDs): a UID never names
 *   two messages (UIDs are never reused, RFC 3501 §2.3.1.1);
 * - the flags at each (UID, MODSEQ): a mod-sequence names one state of a message (RFC 7162 §3.1);
 * - "owned" flags (\Answered, $Owned): only the client that appended a message changes them, so
 *   its STOREs give their whole history, and every session's FETCH of the message must agree with
 *   the history at that FETCH's MODSEQ;
 * - what was acknowledged (APPENDUID, STORE's MODSEQ), which a later SELECT's UIDNEXT and
 *   HIGHESTMODSEQ may not fall behind.
 */

export const OWNED_FLAGS = ['\\Answered', '$Owned'];

export interface ErrorReport {
  kind: string;
  session: string;
  detail: string;
  transcript: string[];
}

interface OwnedEntry {
  modseq: number;
  state: string;
}

interface Observation {
  modseq: number;
  state: string;
  session: string;
  line: string;
}

interface MessageFacts {
  /** The token of the message this UID is, once known. */
  token?: string;
  owner?: string;
  recentIn?: string;
  /** modseq → flags (sorted, joined), the last few. */
  states: Map<number, string>;
  owned: OwnedEntry[];
  /** Owned-flag observations waiting for the owner's history to be complete. */
  waiting: Observation[];
  /** The owner's STOREs on this message in flight. */
  storing: number;
}

export interface MailboxFacts {
  uidValidity?: number;
  messages: Map<number, MessageFacts>;
  /** Highest UID an APPENDUID acknowledged. */
  ackedUid: number;
  /** Highest MODSEQ a completed STORE reported. */
  ackedModseq: number;
  /** Messages in the mailbox as last reported to any session (to steer APPEND vs EXPUNGE). */
  size: number;
}

const KEEP_STATES = 16;

export const ownedState = (flags: readonly string[]): string =>
  OWNED_FLAGS.filter((f) => flags.some((g) => g.toLowerCase() === f.toLowerCase())).join(' ');

export class World {
  readonly errors: ErrorReport[] = [];
  readonly counts = new Map<string, number>();
  readonly commands = new Map<string, number>();
  private readonly boxes = new Map<string, MailboxFacts>();
  /** Examples kept per error kind; the rest are only counted. */
  private readonly examples = 5;

  /** Each session's recent lines, for the example of an error found on its behalf. */
  private readonly transcripts = new Map<string, string[]>();

  register(session: string, transcript: string[]): void {
    this.transcripts.set(session, transcript);
  }

  error(kind: string, session: string, detail: string): void {
    const n = (this.counts.get(kind) ?? 0) + 1;
    this.counts.set(kind, n);
    if (n <= this.examples) this.errors.push({ kind, session, detail, transcript: (this.transcripts.get(session) ?? []).slice(-30) });
  }

  get errorCount(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  countCommand(name: string): void {
    this.commands.set(name, (this.commands.get(name) ?? 0) + 1);
  }

  box(key: string): MailboxFacts {
    let b = this.boxes.get(key);
    if (!b) {
      b = { messages: new Map(), ackedUid: 0, ackedModseq: 0, size: 0 };
      this.boxes.set(key, b);
    }
    return b;
  }

  private message(key: string, uid: number): MessageFacts {
    const b = this.box(key);
    let m = b.messages.get(uid);
    if (!m) {
      m = { states: new Map(), owned: [], waiting: [], storing: 0 };
      b.messages.set(uid, m);
    }
    return m;
  }

  /** A UID is this message (APPENDUID, or a Message-ID fetched): it may never be another. */
  identify(key: string, uid: number, token: string, session: string, line: string): void {
    const m = this.message(key, uid);
    if (m.token === undefined) m.token = token;
    else if (m.token !== token) this.error('UID names two messages', session, `UID ${uid} was ${m.token}, now ${token}: ${line}`);
  }

  /** The session reports the message \Recent. */
  recent(key: string, uid: number, session: string, line: string): void {
    const m = this.message(key, uid);
    if (m.recentIn === undefined) m.recentIn = session;
    else if (m.recentIn !== session) this.error('\\Recent in two sessions', session, `UID ${uid} is recent in ${m.recentIn} too: ${line}`);
  }

  /** The flags a session was told the message has at `modseq`. */
  state(key: string, uid: number, modseq: number, flags: readonly string[], session: string, line: string): void {
    const m = this.message(key, uid);
    const norm = flags.filter((f) => f !== '\\Recent').map((f) => f.toLowerCase()).sort().join(' ');
    const known = m.states.get(modseq);
    if (known === undefined) {
      m.states.set(modseq, norm);
      if (m.states.size > KEEP_STATES) m.states.delete(Math.min(...m.states.keys()));
    } else if (known !== norm) {
      this.error('one MODSEQ, two sets of flags', session, `UID ${uid} MODSEQ ${modseq} was (${known}), now (${norm}): ${line}`);
    }
    this.observeOwned(key, uid, { modseq, state: ownedState(flags), session, line });
  }

  /** The appending client owns the message; its owned flags start as appended. */
  own(key: string, uid: number, owner: string, flags: readonly string[]): void {
    const m = this.message(key, uid);
    m.owner = owner;
    m.owned = [{ modseq: 0, state: ownedState(flags) }];
    this.settle(key, uid, m);
  }

  /** The owner starts / finishes a STORE of owned flags on these UIDs. */
  storing(key: string, uids: readonly number[], delta: 1 | -1): void {
    for (const uid of uids) {
      const m = this.message(key, uid);
      m.storing += delta;
      if (delta < 0) this.settle(key, uid, m);
    }
  }

  /** The owner's STORE set the owned flags to `flags` at `modseq`. */
  ownedChanged(key: string, uid: number, modseq: number, flags: readonly string[]): void {
    const m = this.message(key, uid);
    const state = ownedState(flags);
    const last = m.owned[m.owned.length - 1];
    if (last && last.state === state) return;
    m.owned.push({ modseq, state });
    m.owned.sort((a, b) => a.modseq - b.modseq);
    if (m.owned.length > KEEP_STATES) m.owned.shift();
  }

  private observeOwned(key: string, uid: number, o: Observation): void {
    const m = this.message(key, uid);
    if (m.owner === undefined || m.storing > 0) {
      if (m.waiting.length < 64) m.waiting.push(o);
      return;
    }
    this.checkOwned(uid, m, o);
  }

  private settle(_key: string, uid: number, m: MessageFacts): void {
    if (m.owner === undefined || m.storing > 0) return;
    const waiting = m.waiting;
    m.waiting = [];
    for (const o of waiting) this.checkOwned(uid, m, o);
  }

  private checkOwned(uid: number, m: MessageFacts, o: Observation): void {
    let expected: OwnedEntry | undefined;
    for (const e of m.owned) if (e.modseq <= o.modseq) expected = e;
    if (!expected) return; // older than the history kept
    if (expected.state !== o.state) {
      const history = m.owned.map((e) => `${e.modseq}:(${e.state})`).join(' ');
      this.error('flags contradict the owner', o.session, `UID ${uid} MODSEQ ${o.modseq}: owned flags (${o.state}) but the owner (${m.owner}) set (${expected.state}) at MODSEQ ${expected.modseq} [history ${history}]: ${o.line}`);
    }
  }

  /** The message is gone for good (an EXPUNGE this run's client asked for was reported). */
  forget(key: string, uid: number): void {
    const m = this.box(key).messages.get(uid);
    // Identity and \Recent stay (a UID is never reused; a late report must still match); the rest goes.
    if (m) {
      m.states.clear();
      m.owned = [];
      m.waiting = [];
    }
  }

  ackedUid(key: string, uid: number): void {
    const b = this.box(key);
    if (uid > b.ackedUid) b.ackedUid = uid;
  }

  ackedModseq(key: string, modseq: number): void {
    const b = this.box(key);
    if (modseq > b.ackedModseq) b.ackedModseq = modseq;
  }
}
