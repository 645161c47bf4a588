/**
 * The validator: every command and test checked against its row in spec.ts — known name, enabled
 * by `require` (RFC 5228 §3.2: anything unsupported is an error naming it), allowed in its place
 * (command or test; require first; elsif/else after if), tags known and not repeated, values of
 * the right kind, comparator and match type compatible. It returns the program the interpreter
 * runs, or throws a SieveSyntaxError at the offending argument.
 */
import type { Argument, SieveNode, StringArg, TagArg } from './ast.js';
import { decodeEncodedCharacters, EncodedCharacterError } from './encoded-character.js';
import { SieveSyntaxError } from './position.js';
import type { AddressPart, Instruction, MatchType, Program, Value } from './program.js';
import { prepareTests } from './prepare.js';
import { groupRules } from './groups.js';
import {
  ADDRESS_HEADERS,
  ADDRESS_PART_TAGS,
  COMPARATORS,
  DATE_PARTS,
  IMPLICIT_EXTENSIONS,
  MATCH_TAGS,
  RELATIONAL_OPS,
  SPECS,
  type CommandSpec,
  type ValueKind,
} from './spec.js';
import { parseAddressList } from '../mime/address.js';
import { isFieldName, PROTECTED_FIELDS } from './editheader.js';

/**
 * Each command's and test's name as the spec table spells it — the same string object as the
 * literals the interpreter compares names with (run.ts, tests.ts), which every run of every
 * command does: a name read from the script is a string of its own, and comparing it with a
 * literal compared their characters (and loaded them, cold at delivery).
 */
const SPEC_NAMES = new Map(Object.keys(SPECS).map((k) => [k, k]));

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class Validator {
  private readonly requires = new Set<string>();
  /** Capabilities enabled by an `ihave` guard somewhere (RFC 5463): on at run time too. */
  private readonly guarded = new Set<string>();

  constructor(private readonly available: ReadonlySet<string>) {}

  validate(commands: SieveNode[]): Program {
    let requiresAllowed = true;
    for (const c of commands) {
      if (c.name === 'require') {
        if (!requiresAllowed) throw new SieveSyntaxError(c.offset, '"require" must come before any other command (RFC 5228 §3.2)');
        this.require(c);
      } else {
        requiresAllowed = false;
      }
    }
    const program = this.block(commands.filter((c) => c.name !== 'require'), true);
    for (const cap of this.guarded) this.requires.add(cap);
    const { fields, memos } = prepareTests(program, this.requires);
    groupRules(program, this.requires);
    return { requires: this.requires, available: this.available, commands: program, fields, memos };
  }

  private require(c: SieveNode): void {
    const spec = SPECS.require!;
    const inst = this.instruction(c, spec);
    for (const [i, name] of (inst.pos[0] as string[]).entries()) {
      const cap = name.toLowerCase();
      const arg = c.args[0]!;
      const offset = arg.kind === 'list' ? arg.items[i]!.offset : arg.offset;
      if (!this.available.has(cap) && !IMPLICIT_EXTENSIONS.includes(cap)) {
        throw new SieveSyntaxError(offset, `unsupported extension "${name}" in require`);
      }
      this.requires.add(cap);
      if (cap === 'vacation-seconds') this.requires.add('vacation');
    }
  }

  private has(ext: string): boolean {
    return this.requires.has(ext);
  }

  private block(nodes: SieveNode[], topLevel: boolean): Instruction[] {
    const out: Instruction[] = [];
    let previous: string | null = null;
    for (const node of nodes) {
      if (node.name === 'require') {
        throw new SieveSyntaxError(node.offset, topLevel ? '"require" must come before any other command (RFC 5228 §3.2)' : '"require" is only allowed at the start of the script');
      }
      const spec = own(SPECS, node.name);
      if (!spec) throw new SieveSyntaxError(node.offset, `unknown command "${node.name}"`);
      if (spec.kind !== 'command') throw new SieveSyntaxError(node.offset, `"${node.name}" is a test, not a command`);
      if ((node.name === 'elsif' || node.name === 'else') && previous !== 'if' && previous !== 'elsif') {
        throw new SieveSyntaxError(node.offset, `"${node.name}" must follow "if" or "elsif"`);
      }
      out.push(this.instruction(node, spec));
      previous = node.name;
    }
    return out;
  }

  private checkExtension(node: SieveNode, spec: CommandSpec): void {
    if (spec.ext && !spec.ext.some((e) => this.has(e))) {
      const known = spec.ext.some((e) => this.available.has(e));
      throw new SieveSyntaxError(
        node.offset,
        known ? `"${node.name}" needs require "${spec.ext[0]}"` : `"${node.name}" is not available (extension "${spec.ext[0]}" is disabled)`,
      );
    }
  }

  private instruction(node: SieveNode, spec: CommandSpec): Instruction {
    this.checkExtension(node, spec);
    const inst: Instruction = {
      name: SPEC_NAMES.get(node.name) ?? node.name,
      offset: node.offset,
      tags: new Map(),
      pos: [],
      tests: [],
      block: null,
      comparator: 'i;ascii-casemap',
      match: { kind: 'is' },
      addressPart: 'all',
      prepared: null,
      group: null,
    };
    // Which tag took each exclusive group (match type, comparator, …); small, so an array.
    const groups: string[] = [];
    const positional: Argument[] = [];
    const args = node.args;
    for (let i = 0; i < args.length; i++) {
      const arg = args[i]!;
      if (arg.kind !== 'tag') {
        positional.push(arg);
        continue;
      }
      if (positional.length > 0) throw new SieveSyntaxError(arg.offset, `tagged argument ":${arg.name}" must come before the positional arguments of "${node.name}" (RFC 5228 §2.6.2)`);
      if (inst.tags.has(arg.name)) throw new SieveSyntaxError(arg.offset, `":${arg.name}" given twice`);
      const tag = own(spec.tags, arg.name);
      const match = spec.compares ? own(MATCH_TAGS, arg.name) : undefined;
      const part = spec.addressPart ? own(ADDRESS_PART_TAGS, arg.name) : undefined;
      if (tag) {
        if (tag.ext && !this.has(tag.ext)) throw new SieveSyntaxError(arg.offset, `":${arg.name}" needs require "${tag.ext}"`);
        if (tag.group) claim(groups, tag.group, arg);
        inst.tags.set(arg.name, tag.value ? this.tagValue(args, i++, tag.value) : true);
      } else if (spec.compares && arg.name === 'comparator') {
        claim(groups, 'comparator', arg);
        const name = (this.tagValue(args, i++, 'string') as string).toLowerCase();
        if (!COMPARATORS.has(name)) throw new SieveSyntaxError(arg.offset, `unknown comparator "${name}"`);
        if (!IMPLICIT_EXTENSIONS.includes(`comparator-${name}`) && !this.has(`comparator-${name}`)) {
          throw new SieveSyntaxError(arg.offset, `comparator "${name}" needs require "comparator-${name}"`);
        }
        inst.comparator = name;
        inst.tags.set(arg.name, name);
      } else if (match) {
        if (match.ext && !this.has(match.ext)) throw new SieveSyntaxError(arg.offset, `":${arg.name}" needs require "${match.ext}"`);
        claim(groups, 'match', arg);
        if (match.value) {
          const op = (this.tagValue(args, i++, 'string') as string).toLowerCase();
          if (!RELATIONAL_OPS.has(op) && !op.includes('${')) throw new SieveSyntaxError(arg.offset, `unknown relational operator "${op}" (one of gt, ge, lt, le, eq, ne)`);
          inst.match = { kind: arg.name as 'count' | 'value', op };
        } else {
          inst.match = { kind: arg.name } as MatchType;
        }
        inst.tags.set(arg.name, true);
      } else if (part) {
        if (part.ext && !this.has(part.ext)) throw new SieveSyntaxError(arg.offset, `":${arg.name}" needs require "${part.ext}"`);
        claim(groups, 'address-part', arg);
        inst.addressPart = arg.name as AddressPart;
        inst.tags.set(arg.name, true);
      } else if (arg.name === 'regex' && spec.compares) {
        throw new SieveSyntaxError(arg.offset, '":regex" is not supported');
      } else {
        throw new SieveSyntaxError(arg.offset, `"${node.name}" does not take ":${arg.name}"`);
      }
    }
    this.positional(node, spec, positional, inst);
    this.testsAndBlock(node, spec, inst);
    this.specific(node, inst, positional);
    return inst;
  }

  /** The value after the tag at args[i], of the kind the tag takes. */
  private tagValue(args: Argument[], i: number, kind: ValueKind): Value {
    const tag = args[i] as TagArg;
    const v = args[i + 1];
    if (!v || v.kind === 'tag' || !fits(v, kind)) throw new SieveSyntaxError(tag.offset, `":${tag.name}" must be followed by ${kindName(kind)}`);
    return this.value(v, kind);
  }

  private positional(node: SieveNode, spec: CommandSpec, given: Argument[], inst: Instruction): void {
    const max = spec.positional.length;
    const min = max - (spec.optionalLeading ?? 0) - (spec.optionalTrailing ?? 0);
    if (given.length < min || given.length > max) {
      const where = given.length > max ? given[max]!.offset : node.offset;
      const count = min === max ? `${max}` : `${min} or ${max}`;
      throw new SieveSyntaxError(where, `"${node.name}" takes ${count} positional argument${max === 1 ? '' : 's'}, found ${given.length}`);
    }
    const kinds = spec.optionalTrailing ? spec.positional.slice(0, given.length) : spec.positional.slice(max - given.length);
    if (given.length === max && spec.optionalLeading && !this.has('variables')) {
      throw new SieveSyntaxError(given[0]!.offset, `the variable name argument of "${node.name}" needs require "variables"`);
    }
    given.forEach((arg, i) => {
      const kind = kinds[i]!;
      if (!fits(arg, kind)) throw new SieveSyntaxError(arg.offset, `argument ${i + 1} of "${node.name}" must be ${kindName(kind)}`);
      inst.pos.push(this.value(arg, kind));
    });
  }

  private testsAndBlock(node: SieveNode, spec: CommandSpec, inst: Instruction): void {
    if (!spec.tests && node.tests.length > 0) throw new SieveSyntaxError(node.tests[0]!.offset, `"${node.name}" takes no test (is a ";" missing before "${node.tests[0]!.name}"?)`);
    if (spec.tests === 'one' && (node.tests.length !== 1 || node.testList)) {
      throw new SieveSyntaxError(node.tests[0]?.offset ?? node.offset, `"${node.name}" takes exactly one test (not a test list)`);
    }
    if (spec.tests === 'list' && !node.testList) throw new SieveSyntaxError(node.tests[0]?.offset ?? node.offset, `"${node.name}" takes a test list in parentheses`);
    for (const t of node.tests) {
      const ts = own(SPECS, t.name);
      if (!ts) throw new SieveSyntaxError(t.offset, `unknown test "${t.name}"`);
      if (ts.kind !== 'test') throw new SieveSyntaxError(t.offset, `"${t.name}" is a command, not a test`);
      if (t.block) throw new SieveSyntaxError(t.offset, `test "${t.name}" has a block`);
      inst.tests.push(this.instruction(t, ts));
    }
    if (spec.block && node.block === null) throw new SieveSyntaxError(node.offset, `"${node.name}" needs a block`);
    if (!spec.block && node.block !== null) throw new SieveSyntaxError(node.offset, `"${node.name}" takes no block; end it with ";"`);
    if (node.block === null) return;
    const guard = node.name === 'if' || node.name === 'elsif' ? ihaveGuard(inst.tests[0]) : [];
    if (guard.length === 0) {
      inst.block = this.block(node.block, false);
    } else if (!guard.every((c) => this.available.has(c) || IMPLICIT_EXTENSIONS.includes(c))) {
      // RFC 5463 §4: a block guarded by ihave of something unsupported never runs and is not
      // validated — it may use commands this implementation has never heard of.
      inst.block = [];
    } else {
      const added = guard.filter((c) => !this.requires.has(c));
      for (const c of added) {
        this.requires.add(c);
        this.guarded.add(c);
      }
      inst.block = this.block(node.block, false);
      for (const c of added) this.requires.delete(c);
    }
  }

  private value(arg: Argument, kind: ValueKind): Value {
    if (kind === 'number') return (arg as { value: number }).value;
    if (arg.kind === 'list') return arg.items.map((s) => this.text(s));
    if (arg.kind === 'string') return kind === 'string' ? this.text(arg) : [this.text(arg)];
    throw new SieveSyntaxError(arg.offset, 'unexpected argument');
  }

  private text(s: StringArg): string {
    if (!this.has('encoded-character')) return s.value;
    try {
      return decodeEncodedCharacters(s.value);
    } catch (e) {
      if (e instanceof EncodedCharacterError) throw new SieveSyntaxError(s.offset, e.message);
      throw e;
    }
  }

  /** Checks that need the meaning of a command: constant arguments that can only be wrong. */
  private specific(node: SieveNode, inst: Instruction, given: Argument[]): void {
    const literal = (s: string): boolean => !this.has('variables') || !s.includes('${');
    const at = (i: number): number => given[i]?.offset ?? node.offset;
    if (inst.match.kind === 'contains' || inst.match.kind === 'matches') {
      if (inst.comparator === 'i;ascii-numeric') throw new SieveSyntaxError(node.offset, `comparator "i;ascii-numeric" cannot be used with ":${inst.match.kind}" (RFC 4790 §9.1.1)`);
    }
    if ((node.name === 'header' || node.name === 'address' || node.name === 'date') && inst.tags.has('last') && !inst.tags.has('index')) {
      throw new SieveSyntaxError(node.offset, '":last" needs ":index" (RFC 5260 §6)');
    }
    if (inst.tags.get('index') === 0) throw new SieveSyntaxError(node.offset, '":index" counts from 1');
    if (node.name === 'header' || node.name === 'address' || node.name === 'exists' || node.name === 'date') {
      const names = inst.pos[0];
      for (const h of typeof names === 'string' ? [names] : (names as string[])) {
        if (literal(h) && !isFieldName(h)) throw new SieveSyntaxError(at(0), `"${h}" is not a valid header field name`);
      }
    }
    switch (node.name) {
      case 'ihave':
        for (const c of inst.pos[0] as string[]) if (c.includes('${') && this.has('variables')) throw new SieveSyntaxError(at(0), '"ihave" takes constant capability names (RFC 5463 §4)');
        break;
      case 'address':
        for (const h of inst.pos[0] as string[]) {
          if (literal(h) && !ADDRESS_HEADERS.has(h.toLowerCase())) throw new SieveSyntaxError(at(0), `"${h}" is not an address header field; the address test cannot use it`);
        }
        break;
      case 'envelope':
        for (const p of inst.pos[0] as string[]) {
          if (literal(p) && p.toLowerCase() !== 'from' && p.toLowerCase() !== 'to') throw new SieveSyntaxError(at(0), `unknown envelope part "${p}" (from or to)`);
        }
        break;
      case 'size':
        if (!inst.tags.has('over') && !inst.tags.has('under')) throw new SieveSyntaxError(node.offset, '"size" needs ":over" or ":under"');
        break;
      case 'redirect': {
        const a = inst.pos[0] as string;
        if (literal(a) && !isMailAddress(a)) throw new SieveSyntaxError(at(0), `"${a}" is not a valid address to redirect to`);
        break;
      }
      case 'fileinto':
        if (inst.pos[0] === '') throw new SieveSyntaxError(at(0), 'empty mailbox name');
        break;
      case 'set': {
        const name = inst.pos[0] as string;
        if (!IDENTIFIER.test(name)) throw new SieveSyntaxError(at(0), `"${name}" is not a valid variable name`);
        break;
      }
      case 'setflag':
      case 'addflag':
      case 'removeflag':
      case 'hasflag':
        if (inst.pos.length === 2) {
          const names = inst.pos[0];
          for (const n of typeof names === 'string' ? [names] : (names as string[])) {
            if (!IDENTIFIER.test(n)) throw new SieveSyntaxError(at(0), `"${n}" is not a valid variable name`);
          }
        }
        break;
      case 'addheader':
      case 'deleteheader': {
        const name = inst.pos[0] as string;
        if (literal(name) && !isFieldName(name)) throw new SieveSyntaxError(at(0), `"${name}" is not a valid header field name`);
        if (literal(name) && PROTECTED_FIELDS.has(name.toLowerCase())) throw new SieveSyntaxError(at(0), `the "${name}" header field cannot be changed`);
        if (node.name === 'deleteheader' && inst.tags.has('last') && !inst.tags.has('index')) throw new SieveSyntaxError(node.offset, '":last" needs ":index"');
        break;
      }
      case 'date':
      case 'currentdate': {
        const part = inst.pos[node.name === 'date' ? 1 : 0] as string;
        if (literal(part) && !DATE_PARTS.has(part.toLowerCase())) throw new SieveSyntaxError(at(node.name === 'date' ? 1 : 0), `unknown date part "${part}"`);
        const zone = inst.tags.get('zone');
        if (typeof zone === 'string' && literal(zone) && !/^[+-]\d{4}$/.test(zone)) throw new SieveSyntaxError(node.offset, `":zone" must be "+hhmm" or "-hhmm", not "${zone}"`);
        break;
      }
      case 'vacation': {
        const from = inst.tags.get('from');
        if (typeof from === 'string' && literal(from) && !isMailAddress(from, true)) throw new SieveSyntaxError(node.offset, `":from" is not a valid address: "${from}"`);
        const addrs = inst.tags.get('addresses');
        if (Array.isArray(addrs)) {
          for (const a of addrs) if (literal(a) && !isMailAddress(a, true)) throw new SieveSyntaxError(node.offset, `":addresses" holds an invalid address: "${a}"`);
        }
        break;
      }
    }
  }
}

/** The capabilities an if-test guarantees: those of an ihave test, alone or inside allof. */
function ihaveGuard(test: Instruction | undefined): string[] {
  if (!test) return [];
  if (test.name === 'ihave') return (test.pos[0] as string[]).map((c) => c.toLowerCase());
  if (test.name === 'allof') return test.tests.flatMap((t) => ihaveGuard(t));
  return [];
}

/** A table entry by name; names like "constructor" or "__proto__" are not entries. */
function own<T>(table: Record<string, T> | undefined, key: string): T | undefined {
  return table !== undefined && Object.hasOwn(table, key) ? table[key] : undefined;
}

/** Takes an exclusive group for a tag (groups holds "group=tag" entries), or says which tag has it. */
function claim(groups: string[], group: string, tag: TagArg): void {
  const prefix = `${group}=`;
  const other = groups.find((g) => g.startsWith(prefix));
  if (other !== undefined) throw new SieveSyntaxError(tag.offset, `":${tag.name}" cannot be used together with ":${other.slice(prefix.length)}"`);
  groups.push(prefix + tag.name);
}

function fits(arg: Argument, kind: ValueKind): boolean {
  if (kind === 'number') return arg.kind === 'number';
  if (kind === 'string') return arg.kind === 'string';
  return arg.kind === 'string' || arg.kind === 'list';
}

function kindName(kind: ValueKind): string {
  return kind === 'number' ? 'a number' : kind === 'string' ? 'a string' : 'a string or a string list';
}

/** One mailbox with a local part and a domain; with `named`, a display name may come with it. */
export function isMailAddress(s: string, named = false): boolean {
  const list = parseAddressList(s);
  if (!list || list.length !== 1) return false;
  const a = list[0]!;
  if (!a.mailbox || !a.host) return false;
  return named || !/[<>]/.test(s);
}
