/**
 * One stress client: logs in as its user, SELECTs the shared INBOX (CONDSTORE on), and runs rounds
 * of randomly chosen commands — FETCH (flags, envelopes, bodies), STORE, EXPUNGE, APPEND, SEARCH,
 * IDLE, NOOP, STATUS, re-SELECT — either logging out after every round or staying connected for
 * several. Besides the per-response checks (view.ts, session.ts, world.ts) each command's answer is
 * checked against what it asked for: SELECT against what was acknowledged before it, STORE's
 * FETCHes against the flags stored, APPENDUID against UIDNEXT, and a message a STORE left out
 * must be reported expunged at the next command that allows it.
 */
import { MailboxView } from './view.js';
import { StressSession, type Reply } from './session.js';
import { makeMessage, poolMessage, type StressMessage } from './messages.js';
import { num } from './response.js';
import { OWNED_FLAGS, type World } from './world.js';

export interface ClientOptions {
  host: string;
  port: number;
  /** `port` is an implicit-TLS port. */
  tls?: boolean;
  user: string;
  password: string;
  /** Stay logged in for several rounds (re-SELECT between them) instead of one round per login. */
  keepAlive: boolean;
  /** Messages the shared mailbox should hold about (APPEND below it, EXPUNGE above). */
  target: number;
  rand: () => number;
}

/** How long a message SEARCH found gone may take to be reported expunged. */
const SEARCH_GRACE_MS = 10_000;

const SHARED_FLAGS = ['\\Seen', '\\Flagged', '$Label1', '$Label2', '$Label3', '$Label4', '$Label5'];

export class StressClient {
  private readonly s: StressSession;
  private readonly key: string;
  private appended = 0;
  /**
   * Messages the server left out as if expunged — UID → when the EXPUNGE must have been reported
   * by (checked after commands that may report it). A STORE learns of an expunge only after the
   * EXPUNGE was announced to every session (0: the next such command); a read (SEARCH) may see
   * a committed expunge a moment before it is durable and announced, so it gets a grace period.
   */
  private mustVanish = new Map<number, { by: number; why: string }>();

  constructor(
    readonly id: string,
    private readonly world: World,
    private readonly o: ClientOptions,
  ) {
    this.s = new StressSession(id, world);
    this.key = `${o.user}/INBOX`;
  }

  private rand(n: number): number {
    return Math.floor(this.o.rand() * n);
  }

  private chance(p: number): boolean {
    return this.o.rand() < p;
  }

  private pick<T>(list: readonly T[]): T {
    return list[this.rand(list.length)]!;
  }

  private ok(r: Reply | null, what: string): r is Reply {
    if (!r) return false;
    if (r.status !== 'OK') this.s.fail(`${what} failed`, r.tagged);
    return r.status === 'OK';
  }

  async run(until: number): Promise<void> {
    while (Date.now() < until) {
      try {
        await this.s.connect(this.o.host, this.o.port, this.o.tls);
      } catch (err) {
        this.s.fail('connect failed', (err as Error).message);
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      if (!this.ok(await this.s.command(`LOGIN ${this.o.user} ${this.o.password}`), 'LOGIN')) {
        this.s.drop();
        continue;
      }
      const condstoreBySelect = this.chance(0.5);
      if (!condstoreBySelect && !this.ok(await this.s.command('ENABLE CONDSTORE'), 'ENABLE')) {
        this.s.drop();
        continue;
      }
      const rounds = this.o.keepAlive ? 2 + this.rand(4) : 1;
      for (let r = 0; r < rounds && this.s.connected && Date.now() < until; r++) {
        if (!(await this.select(condstoreBySelect))) break;
        const ops = 5 + this.rand(25);
        for (let i = 0; i < ops && this.s.connected && Date.now() < until; i++) await this.step();
      }
      if (this.s.connected) await this.logout();
    }
  }

  private async logout(): Promise<void> {
    this.s.loggingOut = true;
    const r = await this.s.command('LOGOUT');
    if (r) {
      if (r.status !== 'OK') this.s.fail('LOGOUT failed', r.tagged);
      if (!r.untagged.some((p) => p.kind === 'status' && p.status === 'BYE')) this.s.fail('LOGOUT without BYE', r.tagged);
    }
    this.s.drop();
    this.mustVanish.clear();
  }

  private async select(condstore: boolean): Promise<boolean> {
    const facts = this.world.box(this.key);
    const acked = { uid: facts.ackedUid, modseq: facts.ackedModseq };
    const view = new MailboxView(this.key, this.world, this.id, this.s.fail, true);
    this.s.view = view;
    this.mustVanish.clear();
    const r = await this.s.command(condstore ? 'SELECT INBOX (CONDSTORE)' : 'SELECT INBOX');
    if (!this.ok(r, 'SELECT')) return false;
    if (r.code !== 'READ-WRITE') this.s.fail('SELECT without READ-WRITE', r.tagged);
    if (!view.uidValidity || !view.uidNext || !view.highestModseq) this.s.fail('SELECT without UIDVALIDITY, UIDNEXT or HIGHESTMODSEQ', r.tagged);
    if (facts.uidValidity === undefined) facts.uidValidity = view.uidValidity;
    else if (facts.uidValidity !== view.uidValidity) this.s.fail('UIDVALIDITY changed', `${facts.uidValidity} -> ${view.uidValidity}`);
    if (view.uidNext <= acked.uid) this.s.fail('UIDNEXT behind an acknowledged APPEND', `UIDNEXT ${view.uidNext}, APPENDUID ${acked.uid} before SELECT`);
    if (view.highestModseq < acked.modseq) this.s.fail('HIGHESTMODSEQ behind an acknowledged STORE', `${view.highestModseq} < ${acked.modseq}`);
    facts.size = view.exists;
    return this.resync();
  }

  /** Learns every UID and flag of the view, then checks SELECT's RECENT against the flags. */
  private async resync(): Promise<boolean> {
    const view = this.s.view!;
    const before = view.exists;
    const bySeq = view.exists > 0 && this.chance(0.5);
    const r = bySeq ? await this.s.command('FETCH 1:* (UID FLAGS)', { noExpunge: true }) : await this.s.command('UID FETCH 1:* (UID FLAGS)');
    if (!this.ok(r, 'resync FETCH')) return false;
    if (bySeq) {
      for (let seq = 1; seq <= before; seq++) if (view.entries[seq - 1]?.uid === undefined) this.s.fail('FETCH 1:* left a message out', `seq ${seq}`);
    }
    const recent = view.entries.filter((e) => e.recent).length;
    if (view.expunged.length === 0 && view.entries.every((e) => e.flags) && view.lastRecent >= 0 && recent !== view.lastRecent) {
      this.s.fail('RECENT count differs from the messages flagged \\Recent', `RECENT ${view.lastRecent}, \\Recent on ${recent}`);
    }
    return true;
  }

  private async step(): Promise<void> {
    const view = this.s.view;
    if (!view) return;
    const facts = this.world.box(this.key);
    const n = view.exists;
    const roll = this.rand(100);
    if (roll < 12 || n === 0) return this.append(n < this.o.target ? 1 : 0.3);
    if (roll < 27) return this.fetchFlags(n);
    if (roll < 35) return this.fetchEnvelopes(n);
    if (roll < 42) return this.fetchBody(n);
    if (roll < 55) return this.storeShared(n);
    if (roll < 64) return this.storeOwned();
    if (roll < 72) return facts.size > this.o.target / 2 || n > this.o.target ? this.expunge(n) : this.noop();
    if (roll < 78) return this.search(n);
    if (roll < 84) return this.idle();
    if (roll < 92) return this.noop();
    if (roll < 96) return this.status();
    await this.select(this.chance(0.5));
  }

  private range(n: number): [number, number] {
    const a = 1 + this.rand(n);
    return [a, Math.min(n, a + this.rand(8))];
  }

  private async fetchFlags(n: number): Promise<void> {
    const view = this.s.view!;
    if (this.chance(0.5)) {
      const [a, b] = this.range(n);
      const r = await this.s.command(`FETCH ${a}:${b} (UID FLAGS)`, { noExpunge: true });
      if (!this.ok(r, 'FETCH FLAGS')) return;
      const got = new Set(view.fetches.filter((f) => f.flags).map((f) => f.seq));
      for (let seq = a; seq <= b; seq++) if (!got.has(seq)) this.s.fail('FETCH FLAGS left a message out', `seq ${seq} of ${a}:${b}`);
    } else {
      const uids = view.uids();
      const from = uids.length ? this.pick(uids) : 1;
      this.ok(await this.s.command(`UID FETCH ${from}:* (FLAGS${this.chance(0.5) ? ' MODSEQ' : ''})`), 'UID FETCH FLAGS');
    }
  }

  private async fetchEnvelopes(n: number): Promise<void> {
    const [a, b] = this.range(n);
    this.ok(await this.s.command(`FETCH ${a}:${b} (UID ENVELOPE RFC822.SIZE INTERNALDATE)`, { noExpunge: true }), 'FETCH ENVELOPE');
  }

  private async fetchBody(n: number): Promise<void> {
    const view = this.s.view!;
    const seq = 1 + this.rand(n);
    const peek = this.chance(0.6);
    const known = view.entries[seq - 1]?.flags;
    if (!known) {
      // Flags never told: a \Seen already set need not be reported, so there is nothing to check.
      await this.s.command(`FETCH ${seq} (UID RFC822.SIZE ${peek ? 'BODY.PEEK[]' : 'BODY[]'})`, { noExpunge: true });
      return;
    }
    const hadSeen = known.includes('\\Seen');
    const r = await this.s.command(`FETCH ${seq} (UID RFC822.SIZE ${peek ? 'BODY.PEEK[]' : 'BODY[]'})`, { noExpunge: true });
    if (!this.ok(r, 'FETCH BODY') || peek) return;
    // RFC 3501 §6.4.5: BODY[] sets \Seen, and the client is told — in this FETCH, unless it knew.
    const own = view.fetches.find((f) => f.seq === seq && f.items.has('BODY[]')); // no EXPUNGE during FETCH: seq is stable
    if (!own) return; // expunged meanwhile
    const told = view.fetches.filter((f) => f.seq === seq && f.flags);
    if (told.some((f) => f.flags!.includes('\\Seen'))) return;
    // Not shown set: only right if it was set already — unless another session cleared it since
    // (a later MODSEQ), which leaves nothing to conclude.
    if (told.some((f) => (f.modseq ?? 0) > (own.modseq ?? 0))) return;
    if (!hadSeen) this.s.fail('BODY[] did not set \\Seen', `seq ${seq}: ${[own, ...told].map((f) => f.line.slice(0, 120)).join(' | ')}`);
  }

  /** +FLAGS / -FLAGS of shared flags on any messages; checks the FETCH answers. */
  private async storeShared(n: number): Promise<void> {
    const view = this.s.view!;
    const [a, b] = this.range(n);
    const flag = this.pick(SHARED_FLAGS);
    const add = this.chance(0.6);
    const silent = this.chance(0.2);
    const byUid = this.chance(0.3);
    const targets = view.entries.slice(a - 1, b).map((e) => e.uid);
    if (byUid && targets.some((u) => u === undefined)) return;
    const set = byUid ? targets.join(',') : `${a}:${b}`;
    const item = `${add ? '+' : '-'}FLAGS${silent ? '.SILENT' : ''}`;
    const known = Math.max(view.highestModseq, ...view.entries.map((e) => e.modseq ?? 0));
    const r = await this.s.command(`${byUid ? 'UID ' : ''}STORE ${set} ${item} (${flag})`, { noExpunge: !byUid });
    if (!this.ok(r, 'STORE') || silent) return;
    const lower = flag.toLowerCase();
    for (const uid of targets) {
      if (uid === undefined) continue;
      if (view.seqOf(uid) === undefined) continue; // expunged during a UID STORE: reported already
      // The STORE's own FETCH shows the flag stored; FETCHes of others' later changes may follow it
      // (and a server may let one of those stand for its own answer). None showing it, and none
      // newer than what the session knew when it sent the STORE: the server left the message out,
      // which it may only do for one expunged meanwhile (RFC 2180 §4.2.1) — so it must be reported
      // expunged at the next chance.
      const answers = view.fetches.filter((f) => f.uid === uid && f.flags);
      if (answers.some((f) => f.flags!.some((x) => x.toLowerCase() === lower) === add)) continue;
      if (!answers.some((f) => (f.modseq ?? 0) > known)) {
        this.mustVanish.set(uid, { by: 0, why: `${r.tagged}: ${answers.map((f) => f.line).join(' | ') || 'no FETCH'}` });
      }
    }
  }

  /** Changes the owned flags of a message this client appended (only it ever does). */
  private async storeOwned(): Promise<void> {
    const view = this.s.view!;
    const mine = view.entries.filter((e) => e.uid !== undefined && this.world.box(this.key).messages.get(e.uid)?.owner === this.id);
    if (mine.length === 0) return this.noop();
    const uid = this.pick(mine).uid!;
    const seq = view.seqOf(uid)!;
    const op = this.pick(['+FLAGS', '-FLAGS', 'FLAGS']);
    const flags = op === 'FLAGS' ? OWNED_FLAGS.filter(() => this.chance(0.5)).concat(this.chance(0.5) ? ['\\Seen'] : []) : [this.pick(OWNED_FLAGS)];
    const byUid = this.chance(0.5);
    this.world.storing(this.key, [uid], 1);
    try {
      const r = await this.s.command(`${byUid ? `UID STORE ${uid}` : `STORE ${seq}`} ${op} (${flags.join(' ')})`, { noExpunge: !byUid });
      if (!this.ok(r, 'STORE owned')) return;
      const answers = view.fetches.filter((f) => f.uid === uid && f.flags && f.modseq !== undefined);
      if (answers.length === 0) {
        if (view.seqOf(uid) !== undefined) this.mustVanish.set(uid, { by: 0, why: r.tagged }); // else expunged during a UID STORE
        return;
      }
      const first = answers.reduce((x, y) => (y.modseq! < x.modseq! ? y : x));
      this.world.ownedChanged(this.key, uid, first.modseq!, first.flags!);
      this.world.ackedModseq(this.key, first.modseq!);
    } finally {
      this.world.storing(this.key, [uid], -1);
    }
  }

  private async expunge(n: number): Promise<void> {
    const view = this.s.view!;
    const [a, b] = this.range(n);
    const uids = view.entries.slice(a - 1, Math.min(b, a + 2)).map((e) => e.uid);
    if (!this.ok(await this.s.command(`STORE ${a}:${Math.min(b, a + 2)} +FLAGS.SILENT (\\Deleted)`, { noExpunge: true }), 'STORE \\Deleted')) return;
    const known = uids.filter((u): u is number => u !== undefined);
    const r = this.chance(0.5) || known.length === 0 ? await this.s.command('EXPUNGE') : await this.s.command(`UID EXPUNGE ${known.join(',')}`);
    if (!this.ok(r, 'EXPUNGE')) return;
    for (const uid of view.expunged) this.world.forget(this.key, uid);
    this.world.box(this.key).size = view.exists;
    this.checkVanished();
  }

  private async append(p: number): Promise<void> {
    if (!this.chance(p)) return this.noop();
    const view = this.s.view;
    const msg: StressMessage = this.chance(0.2) ? poolMessage(this.rand(20)) : makeMessage(`${this.id}.${++this.appended}`, 200 + this.rand(6000), this.o.rand);
    const flags = [...SHARED_FLAGS, ...OWNED_FLAGS].filter(() => this.chance(0.15));
    const before = view ? { uidNext: view.uidNext, max: Math.max(0, ...view.uids()) } : null;
    const r = await this.s.command(`APPEND INBOX (${flags.join(' ')})`, { literal: msg.bytes });
    if (!this.ok(r, 'APPEND')) return;
    if (r.code !== 'APPENDUID') return this.s.fail('APPEND without APPENDUID', r.tagged);
    const [validity, uid] = [num(r.codeArgs[0]), num(r.codeArgs[1])];
    const facts = this.world.box(this.key);
    if (!uid || (facts.uidValidity !== undefined && validity !== facts.uidValidity)) return this.s.fail('APPENDUID is wrong', r.tagged);
    if (before && (uid < before.uidNext || uid <= before.max)) this.s.fail('APPENDUID below what the session knows', `${r.tagged}; UIDNEXT ${before.uidNext}, highest UID ${before.max}`);
    this.world.identify(this.key, uid, msg.token, this.id, r.tagged);
    this.world.own(this.key, uid, this.id, flags);
    this.world.ackedUid(this.key, uid);
  }

  private async search(n: number): Promise<void> {
    const view = this.s.view!;
    const kind = this.rand(4);
    if (kind === 0) {
      const r = await this.s.command('SEARCH ALL', { noExpunge: true });
      if (!this.ok(r, 'SEARCH') || !r.search) return;
      // Every message of the view, except ones expunged meanwhile — which must then be reported so.
      const found = new Set(r.search);
      if (r.search.some((x, i) => i > 0 && x <= r.search![i - 1]!)) this.s.fail('SEARCH result not ascending', r.search.join(' '));
      for (let seq = 1; seq <= n; seq++) {
        const uid = view.entries[seq - 1]?.uid;
        if (!found.has(seq) && uid !== undefined && !this.mustVanish.has(uid)) this.mustVanish.set(uid, { by: Date.now() + SEARCH_GRACE_MS, why: r.search.join(' ') });
      }
    } else if (kind === 1) this.ok(await this.s.command(`SEARCH KEYWORD ${this.pick(SHARED_FLAGS.slice(2))}`, { noExpunge: true }), 'SEARCH');
    else this.ok(await this.s.command(kind === 2 ? 'UID SEARCH UNSEEN' : 'UID SEARCH ALL', { uidSearch: true }), 'UID SEARCH');
  }

  private async idle(): Promise<void> {
    // Up to 1.5 s: long enough, now and then, for the server to park the session (stress/server.ts).
    this.ok(await this.s.command('IDLE', { idleMs: this.chance(0.7) ? 50 + this.rand(400) : 600 + this.rand(900) }), 'IDLE');
    this.checkVanished();
  }

  private async noop(): Promise<void> {
    this.ok(await this.s.command(this.chance(0.8) ? 'NOOP' : 'CHECK'), 'NOOP');
    this.checkVanished();
  }

  private async status(): Promise<void> {
    const facts = this.world.box(this.key);
    const acked = { uid: facts.ackedUid, modseq: facts.ackedModseq };
    const r = await this.s.command('STATUS INBOX (MESSAGES UIDNEXT HIGHESTMODSEQ)');
    if (!this.ok(r, 'STATUS')) return;
    const data = r.untagged.find((p) => p.kind === 'data' && p.name === 'STATUS');
    const items = data && data.kind === 'data' && Array.isArray(data.args[1]) ? data.args[1] : null;
    if (!items) return this.s.fail('STATUS without its data', r.tagged);
    const get = (name: string): number | null => num(items[items.findIndex((v) => typeof v === 'string' && v.toUpperCase() === name) + 1]);
    if ((get('UIDNEXT') ?? 0) <= acked.uid) this.s.fail('STATUS UIDNEXT behind an acknowledged APPEND', `${get('UIDNEXT')} <= ${acked.uid}`);
    if ((get('HIGHESTMODSEQ') ?? 0) < acked.modseq) this.s.fail('STATUS HIGHESTMODSEQ behind an acknowledged STORE', `${get('HIGHESTMODSEQ')} < ${acked.modseq}`);
  }

  /** After a command that may report EXPUNGE: what a STORE left out must be gone by now. */
  private checkVanished(): void {
    const view = this.s.view;
    if (!view) return;
    const now = Date.now();
    for (const [uid, { by, why }] of this.mustVanish) {
      if (view.seqOf(uid) === undefined) this.mustVanish.delete(uid);
      else if (now >= by) {
        this.s.fail(by === 0 ? 'STORE left out a message that was not expunged' : 'SEARCH ALL left out a message that was not expunged', `UID ${uid} (${why})`);
        this.mustVanish.delete(uid);
      }
    }
  }
}
