import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommand, CommandSyntaxError } from '../../src/imap/wire/tokenizer.js';
import { ParseError } from '../../src/imap/wire/args.js';
import { DEFAULT_IMAP_LIMITS, type ImapLimits } from '../../src/imap/limits.js';
import type { FramedCommand, Token } from '../../src/imap/wire/types.js';

const limits: ImapLimits = { ...DEFAULT_IMAP_LIMITS };

/** Builds a framed command from text segments and literal bodies (as the framer would). */
function framed(text: string[], literals: string[] = []): FramedCommand {
  return {
    text,
    literals: literals.map((l) => [Buffer.from(l, 'latin1')]),
    size: 0,
  };
}
const line = (s: string): FramedCommand => framed([s]);

/** A compact, comparable form of tokens. */
type Plain = string | { q: string } | { lit: string; binary?: true } | Plain[] | { atom: string; section: Plain[]; partial?: { offset: number; length?: number } };
function plain(t: Token): Plain {
  if (t.type === 'list') return t.items.map(plain);
  if (t.type === 'string') {
    const s = t.value.toString('latin1');
    if (!t.literal) return { q: s };
    return t.binary ? { lit: s, binary: true } : { lit: s };
  }
  if (t.section) {
    return t.partial ? { atom: t.value, section: t.section.map(plain), partial: t.partial } : { atom: t.value, section: t.section.map(plain) };
  }
  return t.value;
}
function parse(cmd: FramedCommand): { tag: string; name: string; args: Plain[] } {
  const p = parseCommand(cmd, limits);
  return { tag: p.tag, name: p.name, args: p.args.map(plain) };
}

const TABLE: Array<[string, { tag: string; name: string; args: Plain[] }]> = [
  ['a001 login SMITH SESAME', { tag: 'a001', name: 'LOGIN', args: ['SMITH', 'SESAME'] }],
  ['A142 SELECT INBOX', { tag: 'A142', name: 'SELECT', args: ['INBOX'] }],
  ['A202 LIST ~/Mail/ %', { tag: 'A202', name: 'LIST', args: ['~/Mail/', '%'] }],
  ['A682 LIST "" *', { tag: 'A682', name: 'LIST', args: [{ q: '' }, '*'] }],
  ['A003 STORE 2:4 +FLAGS (\\Deleted)', { tag: 'A003', name: 'STORE', args: ['2:4', '+FLAGS', ['\\Deleted']] }],
  ['a UID FETCH 1:*,5 FLAGS', { tag: 'a', name: 'UID', args: ['FETCH', '1:*,5', 'FLAGS'] }],
  ['A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])', {
    tag: 'A654', name: 'FETCH',
    args: ['2:4', ['FLAGS', { atom: 'BODY', section: ['HEADER.FIELDS', ['DATE', 'FROM']] }]],
  }],
  ['a FETCH 1 BODY.PEEK[HEADER.FIELDS (A B)]<0.100>', {
    tag: 'a', name: 'FETCH',
    args: ['1', { atom: 'BODY.PEEK', section: ['HEADER.FIELDS', ['A', 'B']], partial: { offset: 0, length: 100 } }],
  }],
  ['a FETCH 1 (BODY[] BODY[1.2.MIME]<5> BINARY.SIZE[1])', {
    tag: 'a', name: 'FETCH',
    args: ['1', [{ atom: 'BODY', section: [] }, { atom: 'BODY', section: ['1.2.MIME'], partial: { offset: 5 } }, { atom: 'BINARY.SIZE', section: ['1'] }]],
  }],
  ['a FETCH 1 BODY.PEEK[HEADER.FIELDS (DATE "FROM")]', {
    tag: 'a', name: 'FETCH', args: ['1', { atom: 'BODY.PEEK', section: ['HEADER.FIELDS', ['DATE', { q: 'FROM' }]] }],
  }],
  ['a STORE 1 FLAGS (\\Seen \\* $Forwarded)', { tag: 'a', name: 'STORE', args: ['1', 'FLAGS', ['\\Seen', '\\*', '$Forwarded']] }],
  ['a  SEARCH   NOT  (SEEN   NIL)  ', { tag: 'a', name: 'SEARCH', args: ['NOT', ['SEEN', 'NIL']] }],
  ['a SELECT [Gmail]/Sent', { tag: 'a', name: 'SELECT', args: ['[Gmail]/Sent'] }],
  ['a SELECT a[b]c', { tag: 'a', name: 'SELECT', args: ['a[b]c'] }],
  ['a LOGIN "we \\"quote\\"" "back\\\\slash"', { tag: 'a', name: 'LOGIN', args: [{ q: 'we "quote"' }, { q: 'back\\slash' }] }],
  ['a SEARCH 1:* $ ((a) ())', { tag: 'a', name: 'SEARCH', args: ['1:*', '$', [['a'], []]] }],
  ['a] NOOP', { tag: 'a]', name: 'NOOP', args: [] }],
];

test('table: command lines → tokens', () => {
  for (const [input, want] of TABLE) {
    assert.deepEqual(parse(line(input)), want, input);
  }
});

test('literals are matched to their markers', () => {
  assert.deepEqual(parse(framed(['A003 APPEND saved (\\Seen) {10}', ' {3+}', ' ~{2}', ''], ['0123456789', 'abc', '\r\n'])), {
    tag: 'A003', name: 'APPEND',
    args: ['saved', ['\\Seen'], { lit: '0123456789' }, { lit: 'abc' }, { lit: '\r\n', binary: true }],
  });
  assert.deepEqual(parse(framed(['a FETCH 1 BODY[HEADER.FIELDS ({4}', ')]'], ['DATE'])), {
    tag: 'a', name: 'FETCH', args: ['1', { atom: 'BODY', section: ['HEADER.FIELDS', [{ lit: 'DATE' }]] }],
  });
  assert.deepEqual(parse(framed(['a LOGIN {0}', ' x'], [''])), { tag: 'a', name: 'LOGIN', args: [{ lit: '' }, 'x'] });
});

test('8-bit bytes in quoted strings are kept as bytes', () => {
  const utf8 = Buffer.from('Entwürfe', 'utf8');
  const cmd = line(`a SELECT "${utf8.toString('latin1')}"`);
  const t = parseCommand(cmd, limits).args[0]!;
  assert.ok(t.type === 'string');
  assert.deepEqual(t.value, utf8);
});

function syntaxError(cmd: FramedCommand, tag: string | undefined, lim: ImapLimits = limits): void {
  assert.throws(() => parseCommand(cmd, lim), (err: unknown) => {
    assert.ok(err instanceof CommandSyntaxError, String(err));
    assert.ok(err instanceof ParseError);
    assert.equal(err.tag, tag, `${cmd.text.join('|')}: ${err.message}`);
    return true;
  });
}

test('malformed commands', () => {
  syntaxError(line(''), undefined);
  syntaxError(line('a'), 'a');
  syntaxError(line('a* NOOP'), undefined);
  syntaxError(line('a+b NOOP'), undefined);
  syntaxError(line('(a) NOOP'), undefined);
  syntaxError(line('a LOGIN "unterminated'), 'a');
  syntaxError(line('a LOGIN "bad \\n escape"'), 'a');
  syntaxError(line('a LOGIN "cr \r inside"'), 'a');
  syntaxError(line('a FETCH 1 (FLAGS'), 'a');
  syntaxError(line('a FETCH 1 FLAGS)'), 'a');
  syntaxError(line('a FETCH 1 ((FLAGS)'), 'a');
  syntaxError(line('a LOGIN fo"o bar'), 'a');
  syntaxError(line('a LOGIN {5} bar'), 'a');
  syntaxError(line('a LOGIN x\x01y'), 'a');
  syntaxError(framed(['a LOGIN {5}', ''], ['abc']), 'a');
});

test('10,000 nested parentheses are a clean error', () => {
  syntaxError(line(`a SEARCH ${'('.repeat(10_000)}${')'.repeat(10_000)}`), 'a');
  syntaxError(line(`a FETCH 1 BODY[${'('.repeat(10_000)}`), 'a');
  const deep = { ...limits, maxNesting: 20_000, maxTokens: 20_000 };
  const ok = parseCommand(line(`a SEARCH ${'('.repeat(10_000)}ALL${')'.repeat(10_000)}`), deep);
  assert.equal(ok.args.length, 1);
});

test('nesting and token limits', () => {
  const lim = { ...limits, maxNesting: 3, maxTokens: 5 };
  assert.equal(parseCommand(line('a X (((b)))'), lim).args.length, 1);
  syntaxError(line('a X ((((b))))'), 'a', lim);
  assert.equal(parseCommand(line('a X 1 2 3 4 5'), lim).args.length, 5);
  syntaxError(line('a X 1 2 3 4 5 6'), 'a', lim);
  syntaxError(line('a FETCH 1 BODY[1 2 3 4 5 6]'), 'a', lim);
});

test('arbitrary input either parses or fails with CommandSyntaxError', async () => {
  const fc = (await import('fast-check')).default;
  const alphabet = fc.constantFrom(...'a1 ()[]<>."\\{}~+*%:,$\r\xff'.split(''));
  fc.assert(
    fc.property(fc.array(alphabet, { maxLength: 60 }), (chars) => {
      try {
        parseCommand(line(`t ${chars.join('')}`), { ...limits, maxNesting: 4 });
      } catch (err) {
        assert.ok(err instanceof CommandSyntaxError, String(err));
        assert.equal(err.tag, 't');
      }
    }),
    { numRuns: 2000 },
  );
});
