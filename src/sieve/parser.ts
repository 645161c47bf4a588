/**
 * The grammar of RFC 5228 §8.2 over the lexer's tokens:
 *
 *   commands  = *command
 *   command   = identifier arguments (";" / block)
 *   block     = "{" commands "}"
 *   arguments = *argument [ test / test-list ]
 *   argument  = string-list / number / tag
 *   test      = identifier arguments
 *   test-list = "(" test *("," test) ")"
 *
 * Recursion is bounded by the nesting limit (blocks and tests both count), checked before each
 * descent, so a script of 10,000 nested blocks is an error at the block that is one too deep, not a
 * stack overflow.
 */
import type { Argument, SieveNode, StringArg } from './ast.js';
import { Lexer, type Token } from './lexer.js';
import { SieveSyntaxError } from './position.js';

function describe(t: Token): string {
  switch (t.type) {
    case 'end':
      return 'the end of the script';
    case 'identifier':
      return `"${t.value}"`;
    case 'tag':
      return `":${t.value}"`;
    case 'number':
      return `number ${t.value}`;
    case 'string':
      return 'a string';
    case 'special':
      return `"${t.value}"`;
  }
}

export class Parser {
  private readonly lex: Lexer;

  constructor(
    source: string,
    private readonly maxDepth: number,
  ) {
    this.lex = new Lexer(source);
  }

  parse(): SieveNode[] {
    const commands = this.commands(0);
    const t = this.lex.peek();
    if (t.type !== 'end') throw new SieveSyntaxError(t.offset, `expected a command, found ${describe(t)}`);
    return commands;
  }

  private isSpecial(t: Token, value: string): boolean {
    return t.type === 'special' && t.value === value;
  }

  private expect(value: string, what: string): Token {
    const t = this.lex.next();
    if (!this.isSpecial(t, value)) throw new SieveSyntaxError(t.offset, `expected ${what}, found ${describe(t)}`);
    return t;
  }

  private deeper(depth: number, t: Token): number {
    if (depth + 1 > this.maxDepth) throw new SieveSyntaxError(t.offset, `nested too deeply (more than ${this.maxDepth} levels of blocks and tests; maxNestingDepth)`);
    return depth + 1;
  }

  private commands(depth: number): SieveNode[] {
    const out: SieveNode[] = [];
    for (;;) {
      const t = this.lex.peek();
      if (t.type === 'end' || this.isSpecial(t, '}')) return out;
      out.push(this.command(depth));
    }
  }

  private command(depth: number): SieveNode {
    const t = this.lex.next();
    if (t.type !== 'identifier') throw new SieveSyntaxError(t.offset, `expected a command, found ${describe(t)}`);
    const node = this.arguments(t.value, t.offset, depth);
    const end = this.lex.peek();
    if (this.isSpecial(end, ';')) {
      this.lex.next();
    } else if (this.isSpecial(end, '{')) {
      const inner = this.deeper(depth, end);
      this.lex.next();
      node.block = this.commands(inner);
      this.expect('}', '"}" to close the block');
    } else {
      throw new SieveSyntaxError(end.offset, `expected ";" or a block after "${t.value}", found ${describe(end)}`);
    }
    return node;
  }

  private arguments(name: string, offset: number, depth: number): SieveNode {
    const args: Argument[] = [];
    const node: SieveNode = { name, offset, args, tests: [], testList: false, block: null };
    for (;;) {
      const t = this.lex.peek();
      if (t.type === 'string') {
        this.lex.next();
        args.push({ kind: 'string', value: t.value, offset: t.offset, multiline: t.multiline });
      } else if (t.type === 'number') {
        this.lex.next();
        args.push({ kind: 'number', value: t.value, offset: t.offset });
      } else if (t.type === 'tag') {
        this.lex.next();
        args.push({ kind: 'tag', name: t.value, offset: t.offset });
      } else if (this.isSpecial(t, '[')) {
        this.lex.next();
        args.push({ kind: 'list', items: this.stringList(), offset: t.offset });
      } else {
        break;
      }
    }
    const t = this.lex.peek();
    if (t.type === 'identifier') {
      node.tests = [this.test(this.deeper(depth, t))];
    } else if (this.isSpecial(t, '(')) {
      const inner = this.deeper(depth, t);
      this.lex.next();
      node.testList = true;
      for (;;) {
        node.tests.push(this.test(inner));
        const sep = this.lex.next();
        if (this.isSpecial(sep, ')')) break;
        if (!this.isSpecial(sep, ',')) throw new SieveSyntaxError(sep.offset, `expected "," or ")" in the test list, found ${describe(sep)}`);
      }
    }
    return node;
  }

  private test(depth: number): SieveNode {
    const t = this.lex.next();
    if (t.type !== 'identifier') throw new SieveSyntaxError(t.offset, `expected a test, found ${describe(t)}`);
    return this.arguments(t.value, t.offset, depth);
  }

  private stringList(): StringArg[] {
    const items: StringArg[] = [];
    for (;;) {
      const t = this.lex.next();
      if (t.type !== 'string') throw new SieveSyntaxError(t.offset, `expected a string in the string list, found ${describe(t)}`);
      items.push({ kind: 'string', value: t.value, offset: t.offset, multiline: t.multiline });
      const sep = this.lex.next();
      if (this.isSpecial(sep, ']')) return items;
      if (!this.isSpecial(sep, ',')) throw new SieveSyntaxError(sep.offset, `expected "," or "]" in the string list, found ${describe(sep)}`);
    }
  }
}
