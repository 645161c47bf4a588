/**
 * Sieve at delivery: a DeliveryFilter that runs the administrator's `sieveBefore` script, the
 * recipient's active script and `sieveAfter`, and turns their actions into delivery actions.
 *
 *   keep / fileinto (:create, :copy, flags) / discard → DeliveryAction (the pipeline stores them)
 *   reject / ereject → the recipient's 550 5.7.1 (RFC 5429)
 *   redirect / vacation → sent through the configured relay (sender.ts), with loop protection,
 *                          a cap on redirects and vacation's per-user memory (RFC 5230 §4.2)
 *
 * No mail is lost to Sieve: an invalid stored script, a runtime error, a store that cannot say
 * which script is active, or a relay that refuses a redirect leave the message kept in the
 * mailbox it would have reached without a script, and the problem logged for that user.
 */
import { createHash, randomBytes } from 'node:crypto';
import { lazyChild, type Logger } from '../util/logger.js';
import { compileSieve, DEFAULT_SIEVE_LIMITS, keepsOnly, needsWholeMessage, runSieveNow } from '../sieve/index.js';
import type { SieveAction, SieveEnvironment, SieveLimits, SieveOutcome, SieveScript } from '../sieve/types.js';
import { claimVacation, hasSieveStorage, hasVacationClaim, releaseVacation, type SieveScriptStorage } from '../store/sieve-storage.js';
import { isStoreError } from '../store/errors.js';
import type { MailSender } from './sender.js';
import type { DeliveryAction, DeliveryFilter, FilterInput } from './types.js';
import { ActiveScriptCache, type ActiveScriptSource } from './active-scripts.js';

export interface SieveFilterOptions {
  /** Source of a script run before each user's own (administrators'). */
  before?: string;
  /** Source of a script run after each user's own. */
  after?: string;
  limits?: Partial<SieveLimits>;
  /** Where redirect and vacation go; without one they are logged and not sent (the message is kept). */
  sender?: MailSender;
  logger?: Logger;
  /** Host name in Message-IDs of vacation answers. */
  hostname?: string;
  /** The recipient delimiter of delivery, for :user/:detail (RFC 5233). */
  subaddressSeparator?: string;
  now?: () => Date;
  /** Compiled user scripts kept, by content hash. Default 1000. */
  cacheEntries?: number;
  /**
   * The store's change feed. With it, each user's active script is kept compiled between
   * deliveries until the feed reports a change of the user's scripts (kind 'sieve'), instead of
   * being read from the store for every delivery. Give it only a store that publishes that kind
   * (the built-in ones do, PostgreSQL across nodes too).
   */
  scriptChanges?: ActiveScriptSource;
  /** Users whose active script is kept that way (least recently delivered to forgotten first). Default 10000. */
  activeScriptUsers?: number;
}

/** The header a redirected copy carries: the same message coming back for the same address is not redirected again. */
export const LOOP_HEADER = 'X-Postroom-Loop';

/** Compiles, or throws an Error naming the first error's position (global scripts at startup). */
export function compileOrThrow(source: string, what: string, limits?: Partial<SieveLimits>): SieveScript {
  const result = compileSieve(source, { limits: limits ?? {} });
  if (!result.ok) {
    const e = result.errors[0]!;
    throw new Error(`${what}: line ${e.line}, column ${e.column}: ${e.message}`);
  }
  return result.script;
}

export function createSieveFilter(options: SieveFilterOptions = {}): DeliveryFilter {
  const limits = { ...DEFAULT_SIEVE_LIMITS, ...options.limits };
  const before = options.before !== undefined ? compileOrThrow(options.before, 'sieveBefore', limits) : undefined;
  const after = options.after !== undefined ? compileOrThrow(options.after, 'sieveAfter', limits) : undefined;
  const cache = new ScriptCache(options.cacheEntries ?? 1000, limits);
  const active = options.scriptChanges ? new ActiveScriptCache<ActiveScript | null>(options.scriptChanges, options.activeScriptUsers ?? 10_000) : undefined;
  const now = options.now ?? (() => new Date());
  const logger = options.logger;
  const vacations = new Map<string, Promise<void>>();

  const filter: DeliveryFilter = async (input) => {
    // Made only when something is logged: most deliveries log nothing here.
    const log = logger ? lazyChild(logger, { user: input.recipient.user, to: input.recipient.address }) : undefined;
    // The sequence, as Pigeonhole runs sieve_before, the user's script and sieve_after: the next
    // script runs only while a keep (implicit or explicit) is in effect; `stop` ends one script,
    // not the sequence; a failing script ends the sequence with an implicit keep. (A loop over
    // the three, not a list of closures: this runs for every delivery, and what it allocates the
    // collector must clear — bench/sieve-filter-alloc.ts.)
    const at = now();
    const runs: ScriptRun[] = [];
    let header = input.header;
    for (let step = 0; step < 3; step++) {
      let script = step === 0 ? before : step === 1 ? userScript(input, cache, active, log) : after;
      if (script instanceof Promise) script = await script;
      if (!script) continue;
      let outcome: SieveOutcome;
      try {
        const ran = runSieveNow(script, environment(input, header, at, limits, options.subaddressSeparator), limits);
        outcome = ran instanceof Promise ? await ran : ran;
      } catch (err) {
        outcome = { actions: [{ type: 'keep' }], error: (err as Error).message };
      }
      if (outcome.error) log?.warn({ error: outcome.error }, 'sieve script failed at run time; the message is kept');
      // RFC 5293 §6: after an error the implicit keep stores the header as it was before the
      // failing script (its edits are dropped); otherwise the next script sees this one's edits.
      const start = header;
      if (!outcome.error && outcome.header) header = outcome.header;
      runs.push({ outcome, start });
      if (outcome.error || !keepOf(outcome.actions)) break;
    }
    if (runs.length === 0) return [];
    return carryOut(input, runs, { limits, sender: options.sender, log, at, hostname: options.hostname ?? 'localhost', vacations });
  };
  // Without global scripts, only a user's active script can act. When the store cannot say, the
  // answer is yes: the ordinary path then meets the same question and handles it (and logs it).
  filter.appliesTo = async (recipient, mail) => {
    if (before || after) return true;
    if (!hasSieveStorage(mail)) return false;
    try {
      // Through the per-user cache when there is one: asked on every delivery, like the script.
      let found = activeScript(mail, recipient.user, cache, active);
      if (found instanceof Promise) found = await found;
      // A script that only keeps (`keep;`, or nothing but its implicit keep) acts as no script:
      // the message is stored as for a user without one, and no run is made. An invalid script
      // still applies: the filter logs it, for every delivery, and keeps the message.
      return found !== null && !(found.compiled.ok && keepsOnly(found.compiled.script));
    } catch {
      return true;
    }
  };
  // Whether a script in the sequence uses body, size, redirect or editheader (needsWholeMessage):
  // the others run once the header section is in, and the body is stored as it arrives. The
  // user's script may change between this answer and the run; a run that then asks for the body
  // or the size fails (a runtime error: the message is kept) rather than see a wrong one.
  filter.needsMessage = async (recipient, mail) => {
    if ((before && needsWholeMessage(before)) || (after && needsWholeMessage(after))) return true;
    if (!hasSieveStorage(mail)) return false;
    try {
      let found = activeScript(mail, recipient.user, cache, active);
      if (found instanceof Promise) found = await found;
      return found !== null && found.compiled.ok && needsWholeMessage(found.compiled.script);
    } catch {
      return true;
    }
  };
  return filter;
}

/** One script's run in the sequence, and the header section it was given. */
interface ScriptRun {
  outcome: SieveOutcome;
  /** What the script's actions deliver unless they carry a header of their own (editheader). */
  start: Buffer;
}

/** A user's active script: its name and what compiling it gave. */
interface ActiveScript {
  name: string;
  compiled: Compiled;
}

/** Reads the user's active script from the store and compiles it (cached by content). */
function activeLoader(mail: SieveScriptStorage, cache: ScriptCache): () => Promise<ActiveScript | null> {
  return async () => {
    const found = await mail.sieveActive();
    return found ? { name: found.name, compiled: cache.get(found.content) } : null;
  };
}

/**
 * The user's active script: at once when the per-user cache knows it (the usual delivery: no
 * promise, no closure), else read from the store and compiled.
 */
function activeScript(
  mail: SieveScriptStorage,
  user: string,
  cache: ScriptCache,
  perUser: ActiveScriptCache<ActiveScript | null> | undefined,
): ActiveScript | null | Promise<ActiveScript | null> {
  const known = perUser?.known(user);
  if (known) return known.value;
  const load = activeLoader(mail, cache);
  return perUser ? perUser.get(user, load) : load();
}

/**
 * The user's active script, compiled (cached by content, and per user while the store says
 * nothing changed); undefined when none or not usable. A promise only when it must be read.
 */
function userScript(
  input: FilterInput,
  cache: ScriptCache,
  perUser: ActiveScriptCache<ActiveScript | null> | undefined,
  log: Logger | undefined,
): SieveScript | undefined | Promise<SieveScript | undefined> {
  const mail = input.mail;
  if (!hasSieveStorage(mail)) return undefined;
  let found;
  try {
    found = activeScript(mail, input.recipient.user, cache, perUser);
  } catch (err) {
    return unreadable(err, log);
  }
  if (!(found instanceof Promise)) return usable(found, log);
  return found.then(
    (active) => usable(active, log),
    (err: unknown) => unreadable(err, log),
  );
}

/** Unreadable scripts must not refuse mail: delivered as if there were none, and said so (a store that is down: retried). */
function unreadable(err: unknown, log: Logger | undefined): undefined {
  log?.error({ err }, 'the active sieve script could not be read; delivering without it');
  if (isStoreError(err) && err.kind === 'unavailable') throw err;
  return undefined;
}

/** The compiled script of `active`, or undefined (none, or not valid: logged). */
function usable(active: ActiveScript | null, log: Logger | undefined): SieveScript | undefined {
  if (!active) return undefined;
  if (!active.compiled.ok) {
    log?.error({ script: active.name, error: active.compiled.error }, 'the active sieve script is not valid; the message is kept in INBOX');
    return undefined;
  }
  return active.compiled.script;
}

/** Thrown when a run reaches what a streamed delivery does not have yet (see needsMessage). */
function stillArriving(what: string): never {
  throw new Error(`the message's ${what} is not known while it is still arriving (the script changed since the delivery began)`);
}

function environment(input: FilterInput, header: Buffer, at: Date, limits: SieveLimits, subaddressSeparator: string | undefined): SieveEnvironment {
  return new DeliveryEnvironment(input, header, at, limits, subaddressSeparator);
}

/**
 * What a run sees of the delivery. A class, not an object literal with closures, a getter and a
 * spread: this is built for every delivery, and the literal cost a context, three closures, an
 * accessor pair and a copy each time (bench/sieve-filter-alloc.ts).
 */
class DeliveryEnvironment implements SieveEnvironment {
  readonly envelope: { from: string; to: string };
  readonly userAddresses: readonly string[];
  readonly subaddressSeparator?: string;

  constructor(
    private readonly input: FilterInput,
    readonly header: Buffer,
    readonly now: Date,
    private readonly limits: SieveLimits,
    separator: string | undefined,
  ) {
    this.envelope = { from: input.from, to: input.recipient.address };
    this.userAddresses = [input.recipient.address];
    if (separator) this.subaddressSeparator = separator;
  }

  async body(maxBytes: number): Promise<Buffer> {
    if (this.input.body) return this.input.body(Math.min(maxBytes, this.limits.maxBodyBytes));
    return this.input.defer !== undefined ? stillArriving('body') : Buffer.alloc(0);
  }

  get size(): number {
    return this.input.size ?? stillArriving('size');
  }

  async mailboxExists(name: string): Promise<boolean> {
    try {
      const box = await this.input.mail.get(name);
      return !box.noselect;
    } catch {
      return false;
    }
  }
}

interface CarryContext {
  limits: SieveLimits;
  sender: MailSender | undefined;
  log: Logger | undefined;
  at: Date;
  hostname: string;
  /**
   * Vacation answers being decided, by user, handle and address, for a store without
   * vacationClaim: two deliveries to one user at once (Postfix runs several LMTP clients) would
   * otherwise both find the sender not answered yet and both answer (RFC 5230 §4.2: one answer
   * within :days). Within this process only; a store with vacationClaim needs none of it.
   */
  vacations: Map<string, Promise<void>>;
}

/**
 * The sequence's outcomes → one list of delivery actions; sending happens here. As Pigeonhole
 * does, nothing is done twice across the scripts: one copy per mailbox (flags merged), one
 * redirect per address, one vacation answer. A keep in a script that is not the last one run only
 * let the next script run; the last one's keep (or implicit keep) is the one stored.
 */
async function carryOut(input: FilterInput, runs: ScriptRun[], c: CarryContext): Promise<DeliveryAction[]> {
  const last = runs[runs.length - 1]!;
  const lastKeep = keepOf(last.outcome.actions);
  let keep = lastKeep !== undefined;
  // The kept copy carries the flags every script's keep asked for: a user's `addflag` is not lost
  // because an administrator's sieveAfter ran after it.
  let keepFlags: string[] | undefined;
  for (const run of runs) {
    for (const a of run.outcome.actions) if (a.type === 'keep' && a.flags) keepFlags = mergeFlags(keepFlags, a.flags);
  }
  // Made when a fileinto or redirect comes (most messages are only kept, with flags).
  let stored: Map<string, FiledAction> | undefined;
  let redirected: Set<string> | undefined;
  let vacationDone = false;
  let discarded = false;
  for (const run of runs) {
    for (const action of run.outcome.actions) {
      switch (action.type) {
        case 'keep':
          break;
        case 'fileinto': {
          const key = mailboxKey(action.mailbox);
          stored ??= new Map();
          const seen = stored.get(key);
          if (seen) {
            if (action.flags) seen.flags = mergeFlags(seen.flags, action.flags);
            break;
          }
          // Properties set one by one, not spread from temporary objects: this runs for every filed message.
          const filed: FiledAction = { kind: 'fileinto', mailbox: action.mailbox, create: action.create };
          if (action.flags) filed.flags = action.flags;
          withHeader(filed, input, action.header ?? run.start);
          stored.set(key, filed);
          break;
        }
        case 'discard':
          discarded = true;
          break;
        case 'reject':
          // RFC 5429 §2.1/2.2: refused at delivery; LMTP answers 550 5.7.1 with the reason.
          return [{ kind: 'reject', reason: oneLine(action.reason) || 'Rejected by the recipient\'s filter' }];
        case 'redirect': {
          const to = action.address.toLowerCase();
          redirected ??= new Set();
          if (redirected.has(to)) break;
          if (redirected.size >= c.limits.maxRedirects) {
            c.log?.warn({ address: action.address }, 'sieve redirect over the limit; not sent');
            if (!action.copy) keep = true;
            break;
          }
          redirected.add(to);
          if (!(await redirect(input, action, action.header ?? run.start, c)) && !action.copy) keep = true; // not sent: keep it rather than lose it
          break;
        }
        case 'vacation':
          if (vacationDone) break;
          vacationDone = true;
          // While the message still arrives, the answer waits until it is stored: a message the
          // client abandons, or that is refused, is not answered.
          if (input.defer) input.defer(() => vacation(input, action, c));
          else await vacation(input, action, c);
          break;
      }
    }
  }
  // A fileinto of the mailbox the keep goes to is the same delivery (RFC 5228 §2.10.3).
  const same = keep ? stored?.get(mailboxKey(input.mailbox)) : undefined;
  if (same && keepFlags) same.flags = mergeFlags(same.flags, keepFlags);
  if (keep && !same) {
    // The usual outcome (kept, perhaps with flags): one object and a one-element list.
    const kept: KeptAction = { kind: 'keep' };
    if (keepFlags) kept.flags = keepFlags;
    withHeader(kept, input, lastKeep?.header ?? (last.outcome.error ? undefined : last.outcome.header) ?? last.start);
    if (!stored) return [kept];
    return [kept, ...stored.values()];
  }
  if (stored) return [...stored.values()];
  return [{ kind: 'discard' }]; // nothing kept, nothing filed: discarded, or every action a redirect
}

type KeptAction = Extract<DeliveryAction, { kind: 'keep' }>;
type FiledAction = Extract<DeliveryAction, { kind: 'fileinto' }>;

/** The script's keep (the first), if it has one. A loop, not find() with a closure: this runs for every delivery. */
function keepOf(actions: readonly SieveAction[]): Extract<SieveAction, { type: 'keep' }> | undefined {
  for (const a of actions) if (a.type === 'keep') return a;
  return undefined;
}

/** Sets `header` on the action when a script changed it (editheader). */
function withHeader(action: KeptAction | FiledAction, input: FilterInput, header: Buffer): void {
  if (header !== input.header) action.header = header;
}

/** Mailbox names are compared as stored, except INBOX, which is case-insensitive (RFC 3501 §5.1). */
function mailboxKey(name: string): string {
  return name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
}

function mergeFlags(a: readonly string[] | undefined, b: readonly string[]): string[] {
  const out = a ? a.slice() : [];
  for (const f of b) if (!hasFlag(out, f)) out.push(f);
  return out;
}

/** Flags compare case-insensitively (RFC 3501 §2.3.2). */
function hasFlag(flags: readonly string[], flag: string): boolean {
  const wanted = flag.toLowerCase();
  for (const f of flags) if (f.toLowerCase() === wanted) return true;
  return false;
}

function headerValues(header: Buffer, name: string): string[] {
  const text = header.toString('latin1').replace(/\r\n[ \t]+/g, ' ');
  const wanted = name.toLowerCase();
  const values: string[] = [];
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === wanted) values.push(line.slice(colon + 1).trim());
  }
  return values;
}

/** The message came back here already: a redirect of it again would loop. */
function looped(input: FilterInput): boolean {
  const me = input.recipient.address.toLowerCase();
  const seen = [...headerValues(input.header, LOOP_HEADER), ...headerValues(input.header, 'Delivered-To')];
  return seen.some((v) => v.replace(/^<|>$/g, '').toLowerCase() === me);
}

/** The message as a script left it: its edited header section, then the received body. */
async function messageWithHeader(input: FilterInput, header: Buffer): Promise<Buffer> {
  const whole = await input.message!();
  if (header === input.header || !input.headerComplete) return whole;
  return Buffer.concat([header, whole.subarray(input.header.length)]);
}

async function redirect(input: FilterInput, action: Extract<SieveAction, { type: 'redirect' }>, header: Buffer, c: CarryContext): Promise<boolean> {
  if (looped(input)) {
    c.log?.warn({ address: action.address }, 'sieve redirect not sent: the message has been here before (mail loop)');
    return false;
  }
  if (!input.message) {
    // A streamed delivery (the script changed since it began, see needsMessage): not sent, kept.
    c.log?.warn({ address: action.address }, 'sieve redirect not sent: the message was still arriving; it is kept');
    return false;
  }
  if (!c.sender) {
    c.log?.warn({ address: action.address }, 'sieve redirect not sent: no sieveRelay is configured; the message is kept');
    return false;
  }
  try {
    const raw = Buffer.concat([Buffer.from(`${LOOP_HEADER}: ${input.recipient.address}\r\n`), await messageWithHeader(input, header)]);
    // RFC 5228 §4.2: the envelope sender stays the original one.
    await c.sender.send({ from: input.from, to: [action.address] }, raw);
    c.log?.info({ address: action.address }, 'sieve redirect sent');
    return true;
  } catch (err) {
    c.log?.error({ err, address: action.address }, 'sieve redirect could not be sent; the message is kept');
    return false;
  }
}

async function vacation(input: FilterInput, action: Extract<SieveAction, { type: 'vacation' }>, c: CarryContext): Promise<void> {
  const mail = input.mail;
  if (!hasSieveStorage(mail)) {
    c.log?.warn('vacation not sent: the store keeps no vacation memory');
    return;
  }
  if (looped(input)) return;
  // The store decides atomically (vacationClaim): one answer even when deliveries for this user
  // run at once in several processes or on several nodes of one database.
  if (hasVacationClaim(mail)) return answerOnce(mail, input, action, c);
  // A store without the claim: its fallback is two calls, so decisions for one user, handle and
  // sender go one at a time in this process (another process may still interleave; documented).
  const key = `${input.recipient.user}\0${action.handle}\0${action.to.toLowerCase()}`;
  const turn = (c.vacations.get(key) ?? Promise.resolve()).then(() => answerOnce(mail, input, action, c));
  c.vacations.set(key, turn);
  try {
    await turn;
  } finally {
    if (c.vacations.get(key) === turn) c.vacations.delete(key);
  }
}

/**
 * Answers `action.to` unless it was answered within :days; never throws (logs). The memory is
 * claimed before the answer is sent: a crash between the two leaves the sender unanswered for
 * :days rather than answered twice (RFC 5230 §4.2 "SHOULD NOT ... more than once"). A send that
 * fails gives the claim back, so the sender's next message is answered (as Pigeonhole, which
 * remembers an answer only once it was sent).
 */
async function answerOnce(mail: SieveScriptStorage, input: FilterInput, action: Extract<SieveAction, { type: 'vacation' }>, c: CarryContext): Promise<void> {
  if (!c.sender) {
    c.log?.warn({ to: action.to }, 'vacation not sent: no sieveRelay is configured');
    return;
  }
  const until = new Date(c.at.getTime() + action.seconds * 1000);
  try {
    if (!(await claimVacation(mail, action.handle, action.to, c.at, until))) return; // answered within :days
  } catch (err) {
    c.log?.error({ err, to: action.to }, 'vacation not sent: its memory could not be read or written');
    return;
  }
  try {
    await c.sender.send({ from: '', to: [action.to] }, vacationMessage(input, action, c));
  } catch (err) {
    c.log?.error({ err, to: action.to }, 'vacation answer could not be sent');
    await releaseVacation(mail, action.handle, action.to, c.at, until).catch((e: unknown) =>
      c.log?.error({ err: e, to: action.to }, 'vacation claim could not be given back: the sender is not answered within :days'),
    );
    return;
  }
  c.log?.info({ to: action.to }, 'vacation answer sent');
  if (Math.random() < 0.01) await mail.vacationPrune(c.at).catch((err: unknown) => c.log?.warn({ err }, 'vacation memory prune failed')); // now and then, forget what has ended
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').trim().slice(0, 400);
}

function encodeHeader(text: string): string {
  const clean = oneLine(text);
  // eslint-disable-next-line no-control-regex
  return /^[\x20-\x7e]*$/.test(clean) ? clean : `=?UTF-8?B?${Buffer.from(clean, 'utf8').toString('base64')}?=`;
}

/** RFC 5230 §5: null MAIL FROM, Auto-Submitted: auto-replied, In-Reply-To/References to the message answered. */
function vacationMessage(input: FilterInput, action: Extract<SieveAction, { type: 'vacation' }>, c: CarryContext): Buffer {
  const lines = [
    `From: ${action.from ?? `<${input.recipient.address}>`}`,
    `To: <${action.to}>`,
    `Subject: ${encodeHeader(action.subject)}`,
    `Date: ${c.at.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${randomBytes(12).toString('hex')}.vacation@${c.hostname}>`,
    ...(action.inReplyTo ? [`In-Reply-To: ${action.inReplyTo}`, `References: ${action.inReplyTo}`] : []),
    'Auto-Submitted: auto-replied',
    'Precedence: bulk',
    'MIME-Version: 1.0',
  ];
  if (action.mime) return Buffer.from(`${lines.join('\r\n')}\r\n${action.reason.replace(/\r?\n/g, '\r\n')}`);
  lines.push('Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit');
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${action.reason.replace(/\r?\n/g, '\r\n')}\r\n`);
}

type Compiled = { ok: true; script: SieveScript } | { ok: false; error: string };

/** Compiled scripts by SHA-256 of their text: many users share a script, and scripts rarely change. */
class ScriptCache {
  private readonly entries = new Map<string, Compiled>();
  constructor(
    private readonly max: number,
    private readonly limits: SieveLimits,
  ) {}

  get(source: string): Compiled {
    const key = createHash('sha256').update(source).digest('hex');
    const found = this.entries.get(key);
    if (found) {
      this.entries.delete(key);
      this.entries.set(key, found); // most recently used last
      return found;
    }
    const result = compileSieve(source, { limits: this.limits });
    const compiled: Compiled = result.ok
      ? { ok: true, script: result.script }
      : { ok: false, error: result.errors.map((e) => `line ${e.line}, column ${e.column}: ${e.message}`).join('; ') };
    this.entries.set(key, compiled);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
    return compiled;
  }
}
