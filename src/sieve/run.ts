/**
 * The interpreter: runs a compiled script against one message and returns the actions (RFC 5228
 * §2.10). Implicit keep (§2.10.2) unless an action cancels it; duplicate actions collapsed
 * (§2.10.3); a runtime error or a limit ends the run with the message kept and the error
 * reported, so that no mail is lost.
 */
import { compiledOf } from './compile.js';
import type { Instruction, RuleGroup } from './program.js';
import { resolveLimits } from './limits.js';
import { canonicalFlags, deliverableFlags, RunState, SieveRuntimeError } from './state.js';
import { comparePrepared, compareValues, evaluate, every, valuesAt } from './tests.js';
import { addHeader, deleteHeader, isFieldName, PROTECTED_FIELDS } from './editheader.js';
import { applyModifiers, VariableLimitError } from './variables.js';
import { isMailAddress } from './validate.js';
import { vacationAction, vacationRefusal } from './vacation.js';
import { collapse } from './actions.js';
import { DELIVERY_ONLY_EXTENSIONS } from './spec.js';
import type { SieveAction, SieveEnvironment, SieveLimits, SieveOutcome, SieveScript } from './types.js';

const delivering = (t: SieveAction['type']): boolean => t === 'keep' || t === 'fileinto' || t === 'redirect';
const isReject = (a: SieveAction): boolean => a.type === 'reject';
const isKeep = (a: SieveAction): boolean => a.type === 'keep';

/**
 * The flag list of a flag command in a script without variables, made canonical once: it is the
 * same on every run (most scripts add the same flag to most messages).
 */
const flagLists = new WeakMap<Instruction, string[]>();
function scriptFlags(c: Instruction): string[] {
  let out = flagLists.get(c);
  if (!out) {
    const v = c.pos[c.pos.length - 1];
    flagLists.set(c, (out = canonicalFlags(typeof v === 'string' ? [v] : Array.isArray(v) ? v : [])));
    deliverableLists.set(out, deliverableFlags(out));
  }
  return out;
}

/**
 * deliverableFlags of the script's own flag lists (scriptFlags), made with them: the flags most
 * runs keep the message with are one of those lists, and their deliverable form was a new array
 * (and a regular expression test per flag) on every run. Keyed only by the script's lists, never
 * by a list made during a run (a table keyed by per-run objects grows the old generation's work).
 * Neither list is ever changed (SieveAction's flags are read-only).
 */
const deliverableLists = new WeakMap<readonly string[], string[]>();
function deliverable(flags: readonly string[]): string[] {
  return flags.length === 0 ? NO_FLAGS : (deliverableLists.get(flags) ?? deliverableFlags(flags));
}
const NO_FLAGS: string[] = [];

/** Some value contains `needle`. */
function someIncludes(values: readonly string[], needle: string): boolean {
  for (let v = 0; v < values.length; v++) if (values[v]!.includes(needle)) return true;
  return false;
}

/** A run's actions until it has one (never added to: Runner.add replaces it). */
const NO_ACTIONS: SieveAction[] = [];

/** Thrown by `stop` (RFC 5228 §3.3) to leave every block at once; not an error. */
class Stop {}

export async function runSieve(script: SieveScript, env: SieveEnvironment, limits?: Partial<SieveLimits>): Promise<SieveOutcome> {
  return runSieveNow(script, env, limits);
}

/**
 * runSieve, with the outcome at once when the run needed nothing asynchronous (no `body`, no
 * `mailboxexists`: most runs) — delivery runs a script for every message, and each promise and
 * await is a turn of the microtask queue and garbage.
 */
export function runSieveNow(script: SieveScript, env: SieveEnvironment, limits?: Partial<SieveLimits>): SieveOutcome | Promise<SieveOutcome> {
  const found = compiledOf(script);
  if (!found) return { actions: [{ type: 'keep' }], error: 'not a script compiled by compileSieve' };
  const program = found.program;
  let run: Runner;
  try {
    run = new Runner(program, env, resolveLimits(limits), found.map);
  } catch (e) {
    return { actions: [{ type: 'keep' }], error: `runtime error: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (env.imap) {
    // RFC 6785 §3.11: requiring an action made for delivery ends the script at an IMAP event.
    const refused = DELIVERY_ONLY_EXTENSIONS.find((e) => program.requires.has(e));
    if (refused) return { actions: [{ type: 'keep' }], error: `"${refused}" cannot be used for an IMAP event (RFC 6785 §3.11)` };
  }
  let pending: void | Promise<void> = undefined;
  try {
    pending = run.block(program.commands);
  } catch (e) {
    if (!(e instanceof Stop)) return run.failed(e);
  }
  if (pending) return pending.then(() => finished(run), (e: unknown) => (e instanceof Stop ? finished(run) : run.failed(e)));
  return finished(run);
}

/** The outcome of a run that ended (or stopped). */
function finished(run: Runner): SieveOutcome {
  try {
    const actions = run.finish();
    return run.edited ? { actions, header: run.header } : { actions };
  } catch (e) {
    return run.failed(e);
  }
}

/**
 * One run: the state the tests read (RunState) and the actions so far, in one object — a run
 * made two (a RunState and a Runner holding it), and every command went through the second to the
 * first.
 */
class Runner extends RunState {
  /** The explicit actions so far; made at the first (most runs end with none, the implicit keep). */
  private actions: SieveAction[] = NO_ACTIONS;
  private implicitKeep = true;
  private actionCount = 0;
  private redirects = 0;
  private vacationSeen = false;

  failed(e: unknown): SieveOutcome {
    let message: string;
    if (e instanceof SieveRuntimeError) {
      const where = e.offset !== null && this.map ? this.map.position(e.offset) : null;
      message = where ? `line ${where.line}: ${e.message}` : e.message;
    } else if (e instanceof VariableLimitError) {
      message = e.message;
    } else if (e instanceof RangeError) {
      message = 'script too complex to run';
    } else {
      message = `runtime error: ${e instanceof Error ? e.message : String(e)}`;
    }
    const flags = deliverable(this.flags);
    return { actions: [flags.length > 0 ? { type: 'keep', flags } : { type: 'keep' }], error: message };
  }

  /**
   * Runs `commands` from `from` on. Synchronous as long as every test answers at once (all but
   * `body` and `mailboxexists` do): a promise per test and per block was most of a 50-rule run's
   * cost (bench/sieve-steps.ts). Only when a test returns a promise does the rest of the block
   * continue after it.
   */
  block(commands: Instruction[], from = 0, taken = false): void | Promise<void> {
    for (let i = from; i < commands.length; i++) {
      const c = commands[i]!;
      this.checkClock(c);
      const g = c.group;
      if (g !== null) {
        const inner = this.group(commands, i, g);
        if (inner) return inner;
        i += g.count - 1;
        continue;
      }
      let result: boolean | Promise<boolean>;
      if (c.name === 'if') {
        result = evaluate(this, c.tests[0]!);
      } else if (c.name === 'elsif') {
        if (taken) continue;
        result = evaluate(this, c.tests[0]!);
      } else if (c.name === 'else') {
        if (!taken) {
          const inner = this.block(c.block!);
          if (inner) return inner.then(() => this.block(commands, i + 1, true));
        }
        continue;
      } else {
        this.command(c);
        continue;
      }
      if (typeof result !== 'boolean') return result.then((t) => this.afterTest(commands, i, t));
      taken = result;
      if (taken) {
        const inner = this.block(c.block!);
        if (inner) return inner.then(() => this.block(commands, i + 1, true));
      }
    }
  }

  /**
   * The rule group at commands[i] (groups.ts): its values read once; none, and no member matches;
   * the :is members answered by one lookup per value; the others skipped together when no value
   * contains the string they all need, else compared one by one; then the blocks of the members
   * that matched, in order. When a block waits, the promise returned runs the rest of the group
   * and then the rest of `commands`.
   */
  private group(commands: Instruction[], i: number, g: RuleGroup): void | Promise<void> {
    const st = this;
    const values = valuesAt(st, g.source, g.header, g.slot, g.envelope, g.part);
    if (values.length === 0) return;
    const vs = g.fold ? st.folded(values) : values;
    let hits = 0;
    const keys = g.keys;
    if (keys !== null) for (let v = 0; v < vs.length; v++) hits |= keys.get(vs[v]!) ?? 0;
    let pending = g.others;
    if (pending !== 0 && g.needle !== null && !someIncludes(vs, g.needle)) pending = 0;
    if ((hits | pending) === 0) return;
    return this.members(commands, i, g, values, hits, pending, 0);
  }

  /** Members of the group at commands[i] from member `from` on: `hits` matched, `pending` to compare. */
  private members(commands: Instruction[], i: number, g: RuleGroup, values: string[], hits: number, pending: number, from: number): void | Promise<void> {
    let todo = (hits | pending) & ~((1 << from) - 1);
    while (todo !== 0) {
      const bit = todo & -todo;
      todo ^= bit;
      const k = 31 - Math.clz32(bit);
      const c = commands[i + k]!;
      this.checkClock(c);
      const t = c.tests[0]!;
      if ((hits & bit) === 0) {
        const key = (g.rest & bit) === 0 ? t : t.tests[0]!;
        if (!comparePrepared(this, key, key.prepared!, values)) continue;
      }
      if ((g.rest & bit) !== 0) {
        // An allof whose first test matched: its other tests now, left to right (groups.ts).
        const rest = every(this, t.tests, 1, false);
        if (typeof rest !== 'boolean') return rest.then((ok) => this.memberTaken(commands, i, g, values, hits, pending, k, ok));
        if (!rest) continue;
      }
      const inner = this.block(c.block!);
      if (inner) return inner.then(() => this.members(commands, i, g, values, hits, pending, k + 1) ?? this.block(commands, i + g.count));
    }
  }

  /** Member k of the group at commands[i] once its allof answered (asynchronously) `ok`; then the members after it and the rest. */
  private async memberTaken(commands: Instruction[], i: number, g: RuleGroup, values: string[], hits: number, pending: number, k: number, ok: boolean): Promise<void> {
    if (ok) await this.block(commands[i + k]!.block!);
    await (this.members(commands, i, g, values, hits, pending, k + 1) ?? this.block(commands, i + g.count));
  }

  /** The rest of a block once the test of commands[i] answered (asynchronously) `taken`. */
  private async afterTest(commands: Instruction[], i: number, taken: boolean): Promise<void> {
    if (taken) await this.block(commands[i]!.block!);
    await this.block(commands, i + 1, taken);
  }

  private add(c: Instruction, action: SieveAction): void {
    if (++this.actionCount > this.limits.maxActions) throw new SieveRuntimeError(c.offset, `more than ${this.limits.maxActions} actions (maxActions)`);
    // RFC 5429 §2.1/§2.2: reject is incompatible with vacation, and (as Pigeonhole) with delivering.
    // (Loops, not closures: this runs for every action of every message.)
    if (action.type === 'reject') {
      for (const a of this.actions) {
        if (a.type === 'reject') throw new SieveRuntimeError(c.offset, 'only one reject or ereject per message');
        if (a.type === 'vacation' || delivering(a.type)) throw new SieveRuntimeError(c.offset, `reject cannot be combined with ${a.type}`);
      }
    } else if ((action.type === 'vacation' || delivering(action.type)) && this.actions.some(isReject)) {
      throw new SieveRuntimeError(c.offset, `${action.type} cannot be combined with reject`);
    }
    // RFC 5293: editheader changes apply to the actions after them; a delivering action carries
    // the header as it is now (a Buffer replaced, never changed in place, on each edit).
    if (this.edited && (action.type === 'keep' || action.type === 'fileinto' || action.type === 'redirect')) action = { ...action, header: this.header };
    if (this.actions === NO_ACTIONS) this.actions = [action];
    else this.actions.push(action);
  }

  private flagsFor(c: Instruction): string[] | undefined {
    if (!this.imap4flags) return undefined;
    const given = c.tags.get('flags');
    const flags = given !== undefined ? deliverableFlags(canonicalFlags(this.list(given))) : deliverable(this.flags);
    // At an IMAP event an empty list is news too: the script removed every flag of the message.
    return flags.length > 0 || this.env.imap ? flags : undefined;
  }

  private command(c: Instruction): void {
    const st = this;
    switch (c.name) {
      case 'stop':
        throw new Stop();
      case 'keep': {
        const flags = this.flagsFor(c);
        this.add(c, flags ? { type: 'keep', flags } : { type: 'keep' });
        return;
      }
      case 'discard':
        this.add(c, { type: 'discard' });
        this.implicitKeep = false;
        return;
      case 'fileinto': {
        const mailbox = st.str(c.pos[0]);
        if (mailbox === '') throw new SieveRuntimeError(c.offset, 'fileinto an empty mailbox name');
        const copy = c.tags.has('copy');
        const flags = this.flagsFor(c);
        this.add(c, { type: 'fileinto', mailbox, copy, create: c.tags.has('create'), ...(flags ? { flags } : {}) });
        if (!copy) this.implicitKeep = false;
        return;
      }
      case 'redirect': {
        const address = st.str(c.pos[0]).trim();
        if (!isMailAddress(address)) throw new SieveRuntimeError(c.offset, `"${address}" is not a valid address to redirect to`);
        const copy = c.tags.has('copy');
        if (++this.redirects > st.limits.maxRedirects) throw new SieveRuntimeError(c.offset, `more than ${st.limits.maxRedirects} redirects (maxRedirects)`);
        this.add(c, { type: 'redirect', address, copy });
        if (!copy) this.implicitKeep = false;
        return;
      }
      case 'reject':
      case 'ereject':
        this.add(c, { type: 'reject', reason: st.str(c.pos[0]), ereject: c.name === 'ereject' });
        this.implicitKeep = false;
        return;
      case 'vacation':
        return this.vacation(c);
      case 'setflag':
      case 'addflag':
      case 'removeflag':
        return this.flagCommand(c);
      case 'error':
        // RFC 5463 §5: the script fails with the user's message; the message is kept.
        throw new SieveRuntimeError(c.offset, `error: ${st.str(c.pos[0])}`);
      case 'addheader':
      case 'deleteheader':
        return this.editHeader(c);
      case 'set': {
        const value = applyModifiers(st.str(c.pos[1]), c.tags);
        st.vars.set(c.pos[0] as string, value);
        return;
      }
      default:
        throw new SieveRuntimeError(c.offset, `command "${c.name}" is not implemented`);
    }
  }

  private editHeader(c: Instruction): void {
    const st = this;
    const name = st.str(c.pos[0]);
    if (!isFieldName(name)) throw new SieveRuntimeError(c.offset, `"${name}" is not a valid header field name`);
    if (PROTECTED_FIELDS.has(name.toLowerCase())) throw new SieveRuntimeError(c.offset, `the "${name}" header field cannot be changed`);
    if (c.name === 'addheader') {
      st.replaceHeader(addHeader(st.header, name, st.str(c.pos[1]), c.tags.has('last')));
      return;
    }
    const index = c.tags.get('index');
    const patterns = c.pos.length > 1 ? st.list(c.pos[1]) : null;
    st.replaceHeader(
      deleteHeader(st.header, name, (value, i, count) => {
        if (typeof index === 'number' && (c.tags.has('last') ? count - i + 1 : i) !== index) return false;
        return patterns === null || compareValues(st, c, [value], patterns);
      }),
    );
  }

  private flagCommand(c: Instruction): void {
    const st = this;
    const variable = c.pos.length === 2 ? (c.pos[0] as string) : null;
    const given = st.variables ? canonicalFlags(st.list(c.pos[c.pos.length - 1])) : scriptFlags(c);
    const current = variable === null ? st.flags : canonicalFlags([st.vars.get(variable)]);
    let next: string[];
    // (The flag lists are never changed in place: `given` may be the script's own, shared by runs.)
    if (c.name === 'setflag') next = given;
    else if (c.name === 'addflag') next = current.length === 0 ? given : canonicalFlags([...current, ...given]);
    else {
      const drop = new Set(given.map((f) => f.toLowerCase()));
      next = current.filter((f) => !drop.has(f.toLowerCase()));
    }
    if (variable === null) st.flags = next;
    else st.vars.set(variable, next.join(' '));
  }

  private vacation(c: Instruction): void {
    const st = this;
    // RFC 5230 §4.7 (and Pigeonhole): one vacation action per run.
    if (this.vacationSeen) throw new SieveRuntimeError(c.offset, 'only one vacation action per message');
    this.vacationSeen = true;
    const addresses = c.tags.has('addresses') ? [...st.list(c.tags.get('addresses'))] : []; // a copy: the action may carry it out of the run
    const own = [...(st.env.userAddresses ?? []), ...addresses, st.env.envelope.to].filter((a) => a !== '');
    if (vacationRefusal(st.msg, st.env.envelope.from, own, st.separator) !== null) return;
    const num = (name: string): number | undefined => {
      const v = c.tags.get(name);
      return typeof v === 'number' ? v : undefined;
    };
    const opt = (name: string): string | undefined => (c.tags.has(name) ? st.str(c.tags.get(name)) : undefined);
    const days = num('days');
    const seconds = num('seconds');
    const subject = opt('subject');
    const from = opt('from');
    const handle = opt('handle');
    this.add(
      c,
      vacationAction(
        {
          reason: st.str(c.pos[0]),
          addresses,
          mime: c.tags.has('mime'),
          ...(days !== undefined ? { days } : {}),
          ...(seconds !== undefined ? { seconds } : {}),
          ...(subject !== undefined ? { subject } : {}),
          ...(from !== undefined ? { from } : {}),
          ...(handle !== undefined ? { handle } : {}),
        },
        st.msg,
        st.env.envelope.from,
      ),
    );
  }

  finish(): SieveAction[] {
    const st = this;
    const event = st.env.imap;
    const out = collapse(this.actions, event?.mailbox);
    if (this.implicitKeep && !out.some(isKeep)) {
      // (Properties set one by one, not spread in: the spreads made two objects more per run.)
      const keep: Extract<SieveAction, { type: 'keep' }> = { type: 'keep' };
      if (st.imap4flags) {
        const flags = deliverable(st.flags);
        if (flags.length > 0 || event !== undefined) keep.flags = flags;
      }
      // The implicit keep happens at the end: it stores the header as the script left it.
      if (st.edited) keep.header = st.header;
      out.push(keep);
    }
    return out;
  }
}
