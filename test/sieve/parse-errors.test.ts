/**
 * Malformed scripts and the exact line and column of their error (RFC 5804 §2.6 reports them so
 * that ManageSieve clients can point at the fault), and what the lexer accepts (RFC 5228 §8.1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSieve } from '../../src/sieve/index.js';
import { compile, compileError, run } from './helpers.js';

const CASES: Array<[string, string, number, number, RegExp]> = [
  ['unknown command', 'keep;\nfrobnicate;', 2, 1, /unknown command "frobnicate"/],
  ['missing semicolon', 'keep\ndiscard;', 2, 1, /"keep" takes no test \(is a ";" missing before "discard"\?\)/],
  ['missing semicolon at the end', 'keep', 1, 5, /expected ";" or a block after "keep", found the end of the script/],
  ['unterminated string', 'if header :is "subject" "abc {\n keep;\n}', 1, 25, /unterminated string/],
  ['unterminated comment', 'keep; /* never\nclosed', 1, 7, /unterminated comment/],
  ['unterminated block', 'if true {\n  keep;\n', 3, 1, /expected "}" to close the block, found the end of the script/],
  ['stray close brace', 'keep;\n}', 2, 1, /expected a command, found "}"/],
  ['bad tag', 'if header : "a" "b" {}', 1, 11, /a tag is ":" followed by a name/],
  ['number suffix', 'if size :over 10X { keep; }', 1, 17, /K, M or G/],
  ['unsupported require', 'require ["fileinto", "x-nonsense"];', 1, 22, /unsupported extension "x-nonsense"/],
  ['require after a command', 'keep;\nrequire "fileinto";', 2, 1, /"require" must come before/],
  ['extension not required', 'fileinto "a";', 1, 1, /"fileinto" needs require "fileinto"/],
  ['unknown tag', 'if header :bogus "a" "b" {}', 1, 11, /"header" does not take ":bogus"/],
  ['two match types', 'if header :is :contains "a" "b" {}', 1, 15, /":contains" cannot be used together with ":is"/],
  ['tag after positional', 'if header "a" :is "b" {}', 1, 15, /must come before the positional arguments/],
  ['missing argument', 'if header "a" {}', 1, 4, /takes 2 positional arguments, found 1/],
  ['extra argument', 'redirect "a@b.example" "c@d.example";', 1, 24, /takes 1 positional argument, found 2/],
  ['elsif without if', 'keep;\nelsif true { keep; }', 2, 1, /must follow "if"/],
  ['if without block', 'if true;', 1, 1, /"if" needs a block/],
  ['test as command', 'true;', 1, 1, /is a test, not a command/],
  ['command as test', 'if keep { }', 1, 4, /"keep" is a command, not a test/],
  ['unknown comparator', 'if header :comparator "i;bogus" "a" "b" {}', 1, 11, /unknown comparator "i;bogus"/],
  ['numeric without require', 'if header :comparator "i;ascii-numeric" "a" "1" {}', 1, 11, /needs require "comparator-i;ascii-numeric"/],
  ['size without over/under', 'if size 100 { }', 1, 4, /needs ":over" or ":under"/],
  ['list with a number', 'if header ["a", 1] "b" {}', 1, 17, /expected a string in the string list, found number 1/],
  ['address on subject', 'if address "subject" "x" {}', 1, 12, /not an address header field/],
  ['bad redirect address', 'redirect "not an address";', 1, 10, /not a valid address/],
  ['multi-line not closed', 'require "reject";\nreject text:\nline\n', 2, 8, /unterminated multi-line string/],
  ['text: with junk after', 'reject text: junk\n.\n', 1, 14, /only a comment may follow/],
  ['names of Object.prototype are not commands', 'constructor;', 1, 1, /unknown command "constructor"/],
  ['or tags', 'if header :__proto__ "a" "b" {}', 1, 11, /"header" does not take ":__proto__"/],
  ['or tests', 'if hasOwnProperty { }', 1, 4, /unknown test "hasownproperty"/],
  ['regex refused', 'if header :regex "a" "b" {}', 1, 11, /":regex" is not supported/],
  ['column counts characters', 'if header :is "Subjekt" "Grüße" { bogus; }', 1, 35, /unknown command "bogus"/],
  ['not with a test list', 'if not (true) { }', 1, 9, /exactly one test/],
  ['allof without parentheses', 'if allof true { }', 1, 10, /takes a test list/],
  ['ascii-numeric with contains', 'require "comparator-i;ascii-numeric";\nif header :contains :comparator "i;ascii-numeric" "a" "1" {}', 2, 4, /cannot be used with ":contains"/],
];

for (const [name, source, line, column, message] of CASES) {
  test(`error position: ${name} → ${line}:${column}`, () => {
    const e = compileError(source);
    assert.match(e.message, message);
    assert.deepEqual([e.line, e.column], [line, column], e.message);
  });
}

test('a disabled extension is refused by require, naming it', () => {
  const e = compileError('require "vacation";', { extensions: ['fileinto'] });
  assert.match(e.message, /unsupported extension "vacation"/);
});

test('strings: escapes, multi-line with dot-stuffing, comments, quantifiers (RFC 5228 §2.4, §8.1)', async () => {
  const script = [
    'require ["reject", "variables"];',
    '# a hash comment',
    '/* a bracket',
    '   comment */',
    'set "q" "a\\"b\\\\c\\d";',
    'if string :is "${q}" "a\\"b\\\\cd" {',
    '  reject text: # comment allowed here',
    'line one',
    '..dotted',
    '.',
    ';',
    '}',
  ].join('\r\n');
  const out = await run(script);
  assert.deepEqual(out.actions, [{ type: 'reject', reason: 'line one\r\n.dotted\r\n', ereject: false }]);
  const k = await run('if size :under 1K { discard; }');
  assert.deepEqual(k.actions, [{ type: 'discard' }]);
  const m = await run('if size :over 1M { discard; }');
  assert.deepEqual(m.actions, [{ type: 'keep' }]);
});

test('identifiers and tags are case-insensitive; require lists a capability once', () => {
  const r = compileSieve('REQUIRE ["FileInto", "fileinto"]; IF Header :IS "Subject" "x" { FILEINTO "a"; }');
  assert.equal(r.ok, true);
  if (r.ok) assert.deepEqual(r.script.requires, ['fileinto']);
});

test('an empty script and a script of comments keep the message', async () => {
  assert.deepEqual((await run('')).actions, [{ type: 'keep' }]);
  assert.deepEqual((await run('# nothing\n/* at all */')).actions, [{ type: 'keep' }]);
  compile('   \r\n\t');
});
