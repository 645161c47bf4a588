/**
 * What one run of a script carries from command to command: the message, the variables and
 * flags, the clock and the step budget. Shared by the test evaluator (tests.ts) and the command
 * runner (run.ts).
 */
import type { SourceMap } from './position.js';
import type { AddressPart, Instruction, Program, Value } from './program.js';
import type { SieveEnvironment, SieveLimits } from './types.js';
import { addressPart, MessageView, PART_SLOTS, PARTS, splitEnvelopeAddress, type SplitAddress } from './message.js';
import { Variables } from './variables.js';
import { foldAscii, matchable, StepBudget, type MatchableValue } from './match.js';

/** A failure at run time: the message is kept and the error reported (RFC 5228 §2.10.6). */
export class SieveRuntimeError extends Error {
  constructor(
    readonly offset: number | null,
    message: string,
  ) {
    super(message);
  }
}

export class RunState {
  /** The header as the script sees it now: the received one, or as editheader changed it. */
  header: Buffer;
  msg: MessageView;
  edited = false;
  /** Made on first use: most scripts have no variables (RFC 5229), and this is made for every message. */
  private varsMade: Variables | null = null;
  /** When the run must have ended (performance.now()); set at the clock's first reading (checkClock), NaN until then. */
  private deadline = NaN;
  readonly separator: string;
  /** The internal flags variable of imap4flags (RFC 5232 §3). */
  flags: string[] = [];
  private bodyCache: Buffer | null = null;
  /** body test strings by transform, so that many body tests parse the MIME structure once. */
  private bodyStringsMade: Map<string, string[]> | null = null;
  /**
   * Answers of the tests written more than once (PreparedTest.memo), bit `1 << memo`: asked yet, and
   * the answer (two integers, not an array: nothing more to make per run).
   */
  memoAsked = 0;
  memoTrue = 0;
  /** The :matches step budget, one for the run (each comparison starts it at 0). */
  readonly budget: StepBudget;

  constructor(
    readonly program: Program,
    readonly env: SieveEnvironment,
    readonly limits: Required<SieveLimits>,
    readonly map: SourceMap | null,
  ) {
    this.header = env.header;
    this.msg = new MessageView(env.header, program.fields);
    this.separator = env.subaddressSeparator ?? '+';
    this.budget = new StepBudget(limits.maxMatchSteps);
    this.variables = program.requires.has('variables');
    this.imap4flags = program.requires.has('imap4flags');
    // RFC 6785 §3.8 (and Pigeonhole): at an IMAP event, the internal variable starts as the
    // message's flags, so hasflag sees them and a keep without flag actions changes nothing.
    if (env.imap) this.flags = canonicalFlags(env.imap.flags);
  }

  /** The run's variables (RFC 5229). */
  get vars(): Variables {
    return (this.varsMade ??= new Variables(this.limits.maxVariables, this.limits.maxVariableBytes));
  }

  /** body test strings by transform, so that many body tests parse the MIME structure once. */
  get bodyStrings(): Map<string, string[]> {
    return (this.bodyStringsMade ??= new Map());
  }

  /** The script uses variables (RFC 5229): strings are expanded, :matches sets ${0}…. Asked for every argument. */
  readonly variables: boolean;
  /** The script uses imap4flags (RFC 5232): its keeps and fileintos carry the flags. Asked for every such action. */
  readonly imap4flags: boolean;

  private fromCache: SplitAddress | undefined;
  private toCache: SplitAddress | undefined;
  /** The envelope's MAIL FROM, split (the `envelope` test; the envelope cannot change during a run). */
  get envelopeFrom(): SplitAddress {
    return (this.fromCache ??= splitEnvelopeAddress(this.env.envelope.from));
  }
  get envelopeTo(): SplitAddress {
    return (this.toCache ??= splitEnvelopeAddress(this.env.envelope.to));
  }

  /** envelopeParts' answers, at ENVELOPE_SLOTS[which] + PART_SLOTS[part]. */
  private envelopeCache: Array<string[] | undefined> | null = null;
  /**
   * One part of the envelope's "from" or "to" address (RFC 5228 §5.4), as a list of one (none
   * when the address has no such part); the same array for every test of the run that asks.
   */
  envelopeParts(which: 'from' | 'to', part: AddressPart): string[] {
    const at = (which === 'from' ? 0 : PARTS) + PART_SLOTS[part];
    this.envelopeCache ??= new Array<string[] | undefined>(2 * PARTS).fill(undefined);
    let out = this.envelopeCache[at];
    if (!out) {
      const p = addressPart(which === 'from' ? this.envelopeFrom : this.envelopeTo, part, this.separator);
      this.envelopeCache[at] = out = p === null ? [] : [p];
    }
    return out;
  }

  /** editheader changed the header: later tests see the new one (RFC 5293). */
  replaceHeader(header: Buffer): void {
    if (header === this.header) return;
    this.header = header;
    this.msg = new MessageView(header, this.program.fields);
    this.memoAsked = 0; // the answers were the old header's
    this.bodyStringsMade = null;
    this.edited = true;
  }

  uses(ext: string): boolean {
    return this.program.requires.has(ext);
  }

  /** Calls since the clock was last read. */
  private ticks = 0;

  /**
   * Past the run's deadline: a runtime error. The clock is read on the first and every 16th call: each step
   * between two calls is bounded (a :matches by its step budget), and reading it on every test
   * and value cost more than many tests did.
   */
  checkClock(at: Instruction): void {
    if ((this.ticks++ & 15) !== 0) return;
    const now = performance.now();
    // The first reading starts the clock (one reading per run fewer than starting it when the run is made).
    if (Number.isNaN(this.deadline)) this.deadline = now + this.limits.maxRunMilliseconds;
    if (now > this.deadline) throw new SieveRuntimeError(at.offset, `script ran longer than ${this.limits.maxRunMilliseconds} ms (maxRunMilliseconds)`);
  }

  /** A string argument with variables expanded (RFC 5229 §3) when the script uses them. */
  str(v: Value | true | undefined): string {
    const s = typeof v === 'string' ? v : Array.isArray(v) ? (v[0] ?? '') : '';
    return this.variables ? this.vars.expand(s) : s;
  }

  list(v: Value | true | undefined): string[] {
    const l = typeof v === 'string' ? single(v) : Array.isArray(v) ? v : NONE;
    return this.variables ? l.map((s) => this.vars.expand(s)) : l;
  }

  /**
   * Per run: value lists folded for i;ascii-casemap, by identity (a field's values are one array
   * for the run): the lists and their folded copies side by side, searched in turn — a run folds
   * a few lists, and a Map made for them per run was more to allocate and load than the search.
   */
  private foldedFrom: string[][] | null = null;
  private foldedTo: string[][] | null = null;
  folded(values: string[]): string[] {
    if (values.length === 0) return values;
    const from = (this.foldedFrom ??= []);
    const to = (this.foldedTo ??= []);
    for (let i = 0; i < from.length; i++) if (from[i] === values) return to[i]!;
    // The list itself when folding changes none of its values (domains, most addresses): no copy.
    let out = values;
    for (let i = 0; i < values.length; i++) {
      const f = foldAscii(values[i]!);
      if (f === values[i]) continue;
      if (out === values) out = values.slice(0, i);
      out.push(f);
      for (let j = i + 1; j < values.length; j++) out.push(foldAscii(values[j]!));
      break;
    }
    if (from.length < RUN_CACHE_ENTRIES) {
      from.push(values);
      to.push(out);
    }
    return out;
  }

  /** Per run: values made ready for :matches (ten rules on one Subject prepare it once); searched in turn as `folded`'s. */
  private matchables: MatchableValue[] | null = null;
  matchable(value: string, fold: boolean): MatchableValue {
    const known = (this.matchables ??= []);
    for (let i = 0; i < known.length; i++) {
      const m = known[i]!;
      if (m.value === value && m.fold === fold) return m;
    }
    const out = matchable(value, fold);
    if (known.length < RUN_CACHE_ENTRIES) known.push(out);
    return out;
  }

  async body(): Promise<Buffer> {
    if (this.bodyCache === null) {
      const b = await this.env.body(this.limits.maxBodyBytes);
      this.bodyCache = b.length > this.limits.maxBodyBytes ? b.subarray(0, this.limits.maxBodyBytes) : b;
    }
    return this.bodyCache;
  }
}

const NONE: string[] = [];

/**
 * Entries of a run's small caches (folded lists, :matches values): past it, a value is prepared
 * again when asked again — the same answer, at the cost a run without the cache would pay.
 */
const RUN_CACHE_ENTRIES = 32;

/**
 * A script's single string as a list, the same array each time it is asked for: a fresh one per
 * test and run was garbage, and defeated the caches keyed by a key list's identity (tests.ts
 * foldedKeys) — each fresh list became a WeakMap entry, and the growing table made the old
 * generation collect several times as often (bench/sieve-live-steps.ts under --trace-gc). Bounded
 * like the pattern cache; the lists are never changed.
 */
const SINGLES_MAX = 4096;
const singles = new Map<string, string[]>();
function single(v: string): string[] {
  let out = singles.get(v);
  if (!out) {
    if (singles.size >= SINGLES_MAX) singles.clear();
    singles.set(v, (out = [v]));
  }
  return out;
}

/** A flag list as imap4flags keeps it: space-separated flags, duplicates (case-insensitive) dropped. */
export function canonicalFlags(values: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const v of values) {
    for (const f of v.split(' ')) {
      if (f === '' || seen.has(f.toLowerCase())) continue;
      seen.add(f.toLowerCase());
      out.push(f);
    }
  }
  return out;
}

const SYSTEM_FLAGS = new Map(['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'].map((f) => [f.toLowerCase(), f]));
/** RFC 3501 flag-keyword: an atom (no control characters, space, ( ) { % * " \\ ]). */
const KEYWORD = /^[^\x00-\x20(){%*"\\\]\x7f-\uffff]+$/;

/**
 * The flags an action can really set (RFC 5232 §2: flags that are not valid IMAP flags are
 * ignored): the system flags other than \Recent, in their usual spelling, and keywords that are
 * IMAP atoms.
 */
export function deliverableFlags(flags: readonly string[]): string[] {
  const out: string[] = [];
  for (const f of flags) {
    if (f.startsWith('\\')) {
      const system = SYSTEM_FLAGS.get(f.toLowerCase());
      if (system && !out.includes(system)) out.push(system);
    } else if (KEYWORD.test(f)) {
      out.push(f);
    }
  }
  return out;
}
