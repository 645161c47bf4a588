/**
 * One session's model of its selected mailbox, kept from what the server told it, and the checks
 * every untagged response must pass against it (RFC 3501 §7, RFC 7162 §3.1):
 *
 * - EXISTS never shrinks the mailbox; EXPUNGE and FETCH name a sequence number that exists; no
 *   EXPUNGE while a FETCH, STORE or SEARCH by sequence number runs (§7.4.1);
 * - a sequence number keeps its UID until an EXPUNGE renumbers it, UIDs ascend with sequence
 *   numbers, messages known at SELECT are below its UIDNEXT and later ones are not;
 * - a keyword in FETCH FLAGS was announced by FLAGS (§7.2.6), PERMANENTFLAGS names only those,
 *   and FLAGS never drops a keyword a message still has;
 * - MODSEQ never goes backwards for a message, and flags never change without it; once CONDSTORE
 *   is on every FETCH with FLAGS carries MODSEQ;
 * - \Recent, once reported for a message, stays as it was for the session.
 * Cross-session facts go to the World.
 */
import { fetchItems, num, str, type Parsed, type Value } from './response.js';
import { parseMessageId, verifyMessage } from './messages.js';
import type { World } from './world.js';

export interface Entry {
  uid?: number;
  flags?: string[];
  modseq?: number;
  recent?: boolean;
  /** Known since SELECT (else announced by a later EXISTS). */
  atSelect: boolean;
}

export interface Fetch {
  seq: number;
  uid?: number;
  flags?: string[];
  modseq?: number;
  line: string;
  items: Map<string, Value>;
}

export class MailboxView {
  entries: Entry[] = [];
  keywords = new Set<string>();
  uidValidity = 0;
  uidNext = 0;
  highestModseq = 0;
  lastRecent = -1;
  /** Sequence-number commands forbid EXPUNGE while they run. */
  noExpunge = false;
  /** Until SELECT's own EXISTS: the messages it announces are the ones known at SELECT. */
  selecting = true;
  /** The FETCH responses of the command running now (the client checks them when it completes). */
  fetches: Fetch[] = [];
  expunged: number[] = [];

  constructor(
    readonly key: string,
    private readonly world: World,
    private readonly session: string,
    private readonly fail: (kind: string, detail: string) => void,
    private readonly condstore: boolean,
  ) {}

  get exists(): number {
    return this.entries.length;
  }

  uids(): number[] {
    return this.entries.flatMap((e) => (e.uid === undefined ? [] : [e.uid]));
  }

  seqOf(uid: number): number | undefined {
    const i = this.entries.findIndex((e) => e.uid === uid);
    return i < 0 ? undefined : i + 1;
  }

  /** One untagged response, in order; `line` is its text for error reports. */
  apply(p: Parsed, line: string): void {
    if (p.kind === 'number') {
      if (p.name === 'EXISTS') return this.onExists(p.n, line);
      if (p.name === 'EXPUNGE') return this.onExpunge(p.n, line);
      if (p.name === 'RECENT') {
        if (p.n > this.exists) this.fail('RECENT above EXISTS', line);
        this.lastRecent = p.n;
        return;
      }
      if (p.name === 'FETCH') return this.onFetch(p.n, p.items, line);
      return;
    }
    if (p.kind === 'data' && p.name === 'FLAGS') return this.onFlags(p.args, line);
    if (p.kind === 'status' && p.code) this.onCode(p.code, p.codeArgs, line);
  }

  private onExists(n: number, line: string): void {
    if (n < this.exists) return this.fail('EXISTS shrank the mailbox', `${this.exists} -> ${n}: ${line}`);
    while (this.entries.length < n) this.entries.push({ atSelect: this.selecting });
    this.selecting = false;
  }

  private onExpunge(n: number, line: string): void {
    if (this.noExpunge) this.fail('EXPUNGE during FETCH/STORE/SEARCH', line);
    if (n < 1 || n > this.exists) return this.fail('EXPUNGE of a sequence number that does not exist', `${line} with ${this.exists} messages`);
    const [gone] = this.entries.splice(n - 1, 1);
    if (gone?.uid !== undefined) this.expunged.push(gone.uid);
  }

  private onFlags(args: Value[], line: string): void {
    const list = args[0];
    if (!Array.isArray(list)) return this.fail('FLAGS is not a list', line);
    const next = new Set<string>();
    for (const f of list) {
      if (typeof f !== 'string') return this.fail('FLAGS holds a non-atom', line);
      if (!f.startsWith('\\')) next.add(f.toLowerCase());
    }
    for (const e of this.entries) {
      for (const f of e.flags ?? []) {
        if (!f.startsWith('\\') && !next.has(f.toLowerCase())) this.fail('FLAGS dropped a keyword still in use', `${f} (UID ${e.uid}): ${line}`);
      }
    }
    this.keywords = next;
  }

  private onCode(code: string, args: Value[], line: string): void {
    if (code === 'PERMANENTFLAGS') {
      const list = args[0];
      if (!Array.isArray(list)) return this.fail('PERMANENTFLAGS is not a list', line);
      for (const f of list) {
        const s = typeof f === 'string' ? f : '';
        if (!s.startsWith('\\') && !this.keywords.has(s.toLowerCase())) this.fail('PERMANENTFLAGS keyword not in FLAGS', `${s}: ${line}`);
      }
    } else if (code === 'UIDVALIDITY') this.uidValidity = num(args[0]) ?? 0;
    else if (code === 'UIDNEXT') this.uidNext = num(args[0]) ?? 0;
    else if (code === 'HIGHESTMODSEQ') this.highestModseq = num(args[0]) ?? 0;
  }

  private onFetch(seq: number, raw: Value[], line: string): void {
    if (seq < 1 || seq > this.exists) return this.fail('FETCH of a sequence number that does not exist', `${line} with ${this.exists} messages`);
    let items: Map<string, Value>;
    try {
      items = fetchItems(raw);
    } catch (err) {
      return this.fail('unparsable FETCH', `${(err as Error).message}: ${line}`);
    }
    const e = this.entries[seq - 1]!;
    const f: Fetch = { seq, line, items };
    const uid = items.has('UID') ? num(items.get('UID')) : undefined;
    if (uid !== undefined) {
      if (uid === null || uid < 1) return this.fail('FETCH with a bad UID', line);
      this.learnUid(seq, e, uid, line);
      f.uid = uid;
    }
    const modseqValue = items.get('MODSEQ');
    const modseq = Array.isArray(modseqValue) ? num(modseqValue[0]) : undefined;
    if (items.has('MODSEQ') && !modseq) return this.fail('FETCH with a bad MODSEQ', line);
    if (modseq) f.modseq = modseq;
    if (items.has('FLAGS')) {
      const list = items.get('FLAGS');
      if (!Array.isArray(list) || list.some((x) => typeof x !== 'string')) return this.fail('FETCH FLAGS is not a list of atoms', line);
      const flags = list as string[];
      f.flags = flags;
      if (this.condstore && !modseq) this.fail('FETCH FLAGS without MODSEQ under CONDSTORE', line);
      this.learnFlags(e, flags, modseq ?? undefined, line);
    } else if (modseq && e.modseq !== undefined && modseq < e.modseq) {
      this.fail('MODSEQ went backwards', `UID ${e.uid} ${e.modseq} -> ${modseq}: ${line}`);
    } else if (modseq && (e.modseq === undefined || modseq > e.modseq)) {
      // A new state whose flags were not sent (STORE .SILENT under CONDSTORE): no longer known.
      e.modseq = modseq;
      e.flags = undefined;
    }
    this.checkContent(e, items, line);
    if (e.uid !== undefined) f.uid = e.uid;
    this.fetches.push(f);
  }

  private learnUid(seq: number, e: Entry, uid: number, line: string): void {
    if (e.uid !== undefined && e.uid !== uid) return this.fail('UID of a sequence number changed', `seq ${seq} was UID ${e.uid}: ${line}`);
    if (e.uid === undefined) {
      for (let i = 0; i < this.entries.length; i++) {
        const other = this.entries[i]!.uid;
        if (other === undefined) continue;
        if ((i < seq - 1 && other >= uid) || (i > seq - 1 && other <= uid)) {
          return this.fail('UIDs out of order', `seq ${seq} UID ${uid} but seq ${i + 1} is UID ${other}: ${line}`);
        }
      }
      if (e.atSelect && this.uidNext && uid >= this.uidNext) this.fail('UID at or above the UIDNEXT of SELECT', `UIDNEXT ${this.uidNext}: ${line}`);
      if (!e.atSelect && this.uidNext && uid < this.uidNext) this.fail('new message below the UIDNEXT of SELECT', `UIDNEXT ${this.uidNext}: ${line}`);
      e.uid = uid;
    }
  }

  private learnFlags(e: Entry, flags: string[], modseq: number | undefined, line: string): void {
    for (const f of flags) {
      if (!f.startsWith('\\') && !this.keywords.has(f.toLowerCase())) this.fail('keyword used before FLAGS announced it', `${f}: ${line}`);
    }
    const recent = flags.includes('\\Recent');
    if (e.recent !== undefined && e.recent !== recent) this.fail('\\Recent changed within a session', `UID ${e.uid}: ${line}`);
    e.recent = recent;
    const norm = flags.map((f) => f.toLowerCase()).sort().join(' ');
    if (modseq !== undefined && e.modseq !== undefined) {
      if (modseq < e.modseq) this.fail('MODSEQ went backwards', `UID ${e.uid} ${e.modseq} -> ${modseq}: ${line}`);
      else if (modseq === e.modseq && e.flags && e.flags.map((f) => f.toLowerCase()).sort().join(' ') !== norm) {
        this.fail('flags changed without a new MODSEQ', `UID ${e.uid} (${e.flags.join(' ')}) -> (${flags.join(' ')}) at MODSEQ ${modseq}: ${line}`);
      }
    }
    e.flags = flags;
    if (modseq !== undefined) e.modseq = Math.max(modseq, e.modseq ?? 0);
    if (e.uid !== undefined) {
      if (recent) this.world.recent(this.key, e.uid, this.session, line);
      if (modseq !== undefined) this.world.state(this.key, e.uid, modseq, flags, this.session, line);
    }
  }

  /** ENVELOPE's and BODY[]'s Message-ID say which message this is; BODY[] must be intact. */
  private checkContent(e: Entry, items: Map<string, Value>, line: string): void {
    let token: string | undefined;
    const env = items.get('ENVELOPE');
    if (Array.isArray(env)) {
      const id = parseMessageId(str(env[9]) ?? '');
      if (!id) this.fail('ENVELOPE without the stress Message-ID', line.slice(0, 300));
      else token = id.token;
    }
    const body = items.get('BODY[]');
    if (body !== undefined) {
      const bytes = Buffer.isBuffer(body) ? body : Buffer.from(str(body) ?? '', 'latin1');
      const checked = verifyMessage(bytes);
      if (typeof checked === 'string') this.fail('BODY[] is not the message it names', `${checked}: ${line.slice(0, 200)}`);
      else token = checked.token;
      const size = num(items.get('RFC822.SIZE'));
      if (size !== null && size !== bytes.length) this.fail('RFC822.SIZE differs from BODY[]', `${size} vs ${bytes.length}`);
    }
    if (token && e.uid !== undefined) this.world.identify(this.key, e.uid, token, this.session, line.slice(0, 200));
  }
}
