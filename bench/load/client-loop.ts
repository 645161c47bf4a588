/**
 * One simulated mail client: connect, LOGIN, LIST, STATUS, SELECT, then a weighted mix of FETCH,
 * STORE, APPEND, EXPUNGE, IDLE and NOOP, then LOGOUT, again and again until the deadline.
 * UID commands throughout, since other clients expunge at the same time.
 */
import { WireClient, WireError, type Completion } from './wire-client.js';
import { CheckError, checkBody, checkEnvelopes, checkFlagsFetch, checkStore, expectOk, respCode, untaggedNumber } from './checks.js';
import { benchMessage, rng } from './messages.js';
import { MIXES, SESSION_OPS, type LoadConfig } from './scenario.js';
import type { Recorder } from './stats.js';
import { loopActive, traceCommand } from './trace.js';

type Pick = () => number;

function weighted(r: Pick, weights: Record<string, number>): string {
  const entries = Object.entries(weights);
  let x = r() * entries.reduce((n, [, w]) => n + w, 0);
  for (const [k, w] of entries) if ((x -= w) < 0) return k;
  return entries[0]![0];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class ClientLoop {
  private readonly r: Pick;
  private appendSeq = 0;
  private client: WireClient | null = null;
  private known: number[] = [];
  private mine: number[] = [];
  private uidNext = 1;
  /** Paced load (cfg.rate): when this client's next command is due (performance.now() ms). */
  private nextDue = 0;
  private readonly interval: number;

  constructor(
    private readonly cfg: LoadConfig,
    private readonly index: number,
    private readonly rec: Recorder,
    private readonly deadline: number,
  ) {
    this.r = rng(cfg.seed * 100_003 + index);
    this.interval = cfg.rate ? (cfg.totalClients / cfg.rate) * 1000 : 0;
  }

  /**
   * When the command about to be sent counts from. Without a rate: now. With one, each client
   * sends on its own schedule (every totalClients/rate seconds, first at a random offset), and
   * latency counts from the scheduled time, not the time sent: a server that falls behind is
   * charged for the wait it causes (no coordinated omission).
   */
  /** After a pause the client chose (holding IDLE, a breath after an error): due again from now. */
  private restartSchedule(): void {
    if (this.interval) this.nextDue = performance.now();
  }

  private async due(): Promise<number> {
    if (!this.interval) return performance.now();
    const now = performance.now();
    if (this.nextDue === 0) this.nextDue = now + this.r() * this.interval;
    const due = this.nextDue;
    this.nextDue += this.interval;
    if (due > now) await sleep(due - now);
    return due;
  }

  private get user(): string {
    return this.cfg.users[this.index % this.cfg.users.length]!;
  }

  /** Times one command; a wrong or failed answer is recorded as an error and rethrown. */
  /** `bytes`: an APPEND's message size, kept in the trace only (bench/load/trace.ts). */
  private async timed<T>(name: string, run: () => Promise<T>, bytes?: number): Promise<T> {
    const t0 = await this.due();
    const active0 = loopActive();
    try {
      const v = await run();
      const t1 = performance.now();
      this.rec.ok(name, t1 - t0);
      const answered = this.client && this.client.taggedAt >= t0 ? this.client.taggedAt : t1;
      traceCommand(name, t0, answered, t1, (this.client?.taggedActive ?? 0) - active0, bytes);
      return v;
    } catch (err) {
      this.rec.error(name, err instanceof Error ? err.message : String(err));
      throw err;
    }
  }

  private async cmd(name: string, text: string, check: (c: Completion) => void): Promise<Completion> {
    return this.timed(name, async () => {
      const c = await this.client!.command(text);
      check(c);
      return c;
    });
  }

  async run(): Promise<void> {
    const scenario = this.cfg.scenario;
    if (scenario === 'idle') throw new Error('idle clients run through IdleHolder');
    while (Date.now() < this.deadline) {
      try {
        await this.session(scenario);
      } catch (err) {
        if (!(err instanceof CheckError || err instanceof WireError || err instanceof Error)) throw err;
        // The error is counted; start over on a fresh connection after a breath.
        this.client?.close();
        this.client = null;
        await sleep(50);
        this.restartSchedule();
      }
    }
  }

  async login(): Promise<void> {
    const port = this.cfg.ports?.length ? this.cfg.ports[this.index % this.cfg.ports.length]! : this.cfg.port;
    const { client, greeting } = await this.timed('CONNECT', () => WireClient.connect(this.cfg.host, port, 30_000, { tls: this.cfg.tls === true }));
    this.client = client;
    if (!greeting.text.startsWith('* OK')) throw new CheckError(`greeting: ${greeting.text}`);
    await this.cmd('LOGIN', `LOGIN ${this.user} ${this.cfg.password}`, (c) => expectOk(c, 'LOGIN'));
  }

  async select(): Promise<number> {
    let exists = 0;
    await this.cmd('SELECT', 'SELECT INBOX', (c) => {
      expectOk(c, 'SELECT');
      const e = untaggedNumber(c, 'EXISTS');
      const v = respCode(c, 'UIDVALIDITY');
      const n = respCode(c, 'UIDNEXT');
      if (e === undefined || v === undefined || n === undefined) throw new CheckError('SELECT without EXISTS/UIDVALIDITY/UIDNEXT');
      if (!/\[READ-WRITE\]/i.test(c.tagged)) throw new CheckError('SELECT not READ-WRITE');
      exists = e;
      this.uidNext = n;
    });
    return exists;
  }

  private async session(scenario: keyof typeof MIXES): Promise<void> {
    const persistent = this.cfg.persistent === true;
    if (!persistent || !this.client) await this.login();
    if (scenario === 'mixed' || scenario === 'busy') {
      await this.cmd('LIST', 'LIST "" "*"', (c) => {
        expectOk(c, 'LIST');
        if (!c.untagged.some((u) => /^\* LIST \([^)]*\) (?:"."|NIL) "?INBOX"?$/i.test(u.text))) throw new CheckError('LIST without INBOX');
        if (!c.untagged.some((u) => /^\* LIST .*"?Archive"?$/.test(u.text))) throw new CheckError('LIST without Archive');
      });
      await this.status();
    }
    await this.select();
    this.known = [];
    this.mine = [];
    await this.fetchFlags();
    const [lo, hi] = SESSION_OPS[scenario];
    const ops = lo + Math.floor(this.r() * (hi - lo));
    for (let i = 0; i < ops && Date.now() < this.deadline; i++) await this.op(weighted(this.r, MIXES[scenario]));
    // Leave the mailbox as we found it, so the next run sees the same size.
    if (this.mine.length > 0) await this.expungeMine();
    // A persistent client keeps its connection for the next round, until the run ends.
    if (persistent && Date.now() < this.deadline) return;
    await this.cmd('LOGOUT', 'LOGOUT', (c) => {
      expectOk(c, 'LOGOUT');
      if (!c.untagged.some((u) => u.text.startsWith('* BYE'))) throw new CheckError('LOGOUT without BYE');
    });
    this.client!.close();
    this.client = null;
  }

  private async status(): Promise<void> {
    await this.cmd('STATUS', 'STATUS Archive (MESSAGES UIDNEXT UNSEEN)', (c) => {
      expectOk(c, 'STATUS');
      const line = c.untagged.find((u) => u.text.startsWith('* STATUS'));
      if (!line || !/MESSAGES \d+/i.test(line.text) || !/UIDNEXT \d+/i.test(line.text) || !/UNSEEN \d+/i.test(line.text)) {
        throw new CheckError(`STATUS: ${line?.text ?? 'no STATUS response'}`);
      }
    });
  }

  private randomUid(): number {
    if (this.known.length > 0) return this.known[Math.floor(this.r() * this.known.length)]!;
    return 1 + Math.floor(this.r() * Math.max(1, this.uidNext - 1));
  }

  /**
   * A message only this client flags: clients of one user split the UIDs between them (uid mod
   * clients-per-user), so no concurrent STORE can undo ours and the STORE check can be strict.
   */
  private ownUid(): number {
    const users = this.cfg.users.length;
    const perUser = Math.max(1, Math.ceil(this.cfg.totalClients / users));
    const slot = Math.floor(this.index / users) % perUser;
    const mine = this.known.filter((u) => u % perUser === slot);
    if (mine.length > 0) return mine[Math.floor(this.r() * mine.length)]!;
    const u = this.randomUid();
    return u - (u % perUser) + slot;
  }

  private async fetchFlags(): Promise<void> {
    // A client resyncing the newest 200 messages' flags.
    const lo = Math.max(1, this.uidNext - 200);
    await this.cmd('FETCH FLAGS', `UID FETCH ${lo}:* (FLAGS)`, (c) => {
      const uids = checkFlagsFetch(c, lo);
      if (uids.length > 0) this.known = uids;
      for (const it of uids) if (it >= this.uidNext) this.uidNext = it + 1;
    });
  }

  private async op(name: string): Promise<void> {
    switch (name) {
      case 'fetchFlags':
        return this.fetchFlags();
      case 'fetchEnvelope': {
        // A message list page: 25 consecutive UIDs somewhere in the mailbox.
        const lo = 1 + Math.floor(this.r() * Math.max(1, this.uidNext - 25));
        const hi = lo + 24;
        await this.cmd('FETCH ENVELOPE', `UID FETCH ${lo}:${hi} (UID FLAGS RFC822.SIZE ENVELOPE)`, (c) => void checkEnvelopes(c, lo, hi));
        return;
      }
      case 'fetchBody': {
        const uid = this.randomUid();
        await this.cmd('FETCH BODY[]', `UID FETCH ${uid} (BODY.PEEK[])`, (c) => void checkBody(c, uid));
        return;
      }
      case 'store': {
        const uid = this.ownUid();
        const add = this.r() < 0.5;
        await this.cmd('STORE', `UID STORE ${uid} ${add ? '+' : '-'}FLAGS (\\Flagged)`, (c) => checkStore(c, uid, '\\Flagged', add));
        return;
      }
      case 'append':
        return this.append();
      case 'expunge':
        if (this.mine.length === 0) return this.append();
        return this.expungeMine();
      case 'idle':
        return this.idle();
      case 'noop':
        await this.cmd('NOOP', 'NOOP', (c) => expectOk(c, 'NOOP'));
        return;
      case 'status':
        return this.status();
    }
  }

  private async append(): Promise<void> {
    const seed = 1_000_000 + this.cfg.seed * 10_000_000 + this.index * 100_000 + this.appendSeq++;
    const msg = benchMessage(seed, 'appended');
    await this.timed('APPEND', async () => {
      const c = await this.client!.append('INBOX', this.r() < 0.5 ? '\\Seen' : '', msg);
      expectOk(c, 'APPEND');
      const m = /\[APPENDUID \d+ (\d+)\]/i.exec(c.tagged);
      if (!m) throw new CheckError(`APPEND without APPENDUID: ${c.tagged}`);
      const uid = Number(m[1]);
      if (uid < this.uidNext - 0 && uid < 1) throw new CheckError(`APPENDUID ${uid}`);
      this.mine.push(uid);
      if (uid >= this.uidNext) this.uidNext = uid + 1;
    }, msg.length);
  }

  private async expungeMine(): Promise<void> {
    const uids = this.mine.splice(0).join(',');
    await this.cmd('STORE', `UID STORE ${uids} +FLAGS.SILENT (\\Deleted)`, (c) => expectOk(c, 'STORE \\Deleted'));
    await this.cmd('EXPUNGE', 'EXPUNGE', (c) => {
      expectOk(c, 'EXPUNGE');
      for (const u of c.untagged) if (/EXPUNGE/i.test(u.text) && !/^\* \d+ EXPUNGE$/i.test(u.text)) throw new CheckError(`bad EXPUNGE: ${u.text}`);
    });
  }

  private async idle(): Promise<void> {
    const client = this.client!;
    const tag = client.nextTag();
    await this.timed('IDLE', async () => {
      client.write(`${tag} IDLE\r\n`);
      const r = await client.next();
      if (!r.text.startsWith('+')) throw new CheckError(`IDLE: ${r.text}`);
    });
    await sleep(200 + Math.floor(this.r() * 800));
    this.restartSchedule();
    await this.timed('DONE', async () => {
      client.write('DONE\r\n');
      expectOk(await client.complete(tag), 'IDLE DONE');
    });
  }
}
