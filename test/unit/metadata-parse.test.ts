/** RFC 5464 grammar: entry names (§3.2) and GETMETADATA/SETMETADATA arguments, as tables. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommand } from '../../src/imap/wire/tokenizer.js';
import { ParseError } from '../../src/imap/wire/args.js';
import { DEFAULT_IMAP_LIMITS } from '../../src/imap/limits.js';
import { normalizeEntryName } from '../../src/store/metadata.js';
import { getMetadataCommand, type GetMetadataArgs } from '../../src/imap/commands/getmetadata.js';
import { setMetadataCommand } from '../../src/imap/commands/setmetadata.js';

const limits = DEFAULT_IMAP_LIMITS;
const env = { enabled: new Set<string>(), limits };
const tokens = (command: string, args: string) => parseCommand({ text: [`t ${command} ${args}`], literals: [], size: 0 }, limits).args;
const get = (args: string): GetMetadataArgs => getMetadataCommand.parse(tokens('GETMETADATA', args), env);
const set = (args: string) => setMetadataCommand.parse(tokens('SETMETADATA', args), env);

test('§3.2 entry names: valid ones in lower case, invalid ones null', () => {
  const valid: Array<[string, string]> = [
    ['/shared/comment', '/shared/comment'],
    ['/PRIVATE/Comment', '/private/comment'],
    ['/private/vendor/acme/x', '/private/vendor/acme/x'],
    ['/shared/a b', '/shared/a b'],
    ['/shared/vendorx', '/shared/vendorx'],
  ];
  for (const [name, want] of valid) assert.equal(normalizeEntryName(name), want, name);
  const invalid = ['', '/', '/comment', '/private', '/shared/', '/public/x', 'shared/comment', '/shared//x', '/shared/x/', '/shared/*', '/shared/%', '/shared/caf\u00e9', '/shared/\x19x', '/shared/\x7f', '/shared/vendor/acme', `/shared/${'x'.repeat(1100)}`];
  for (const name of invalid) assert.equal(normalizeEntryName(name), null, JSON.stringify(name));
});

test('GETMETADATA: options before or after the mailbox, entries in a list or one by one', () => {
  assert.deepEqual(get('"" /shared/comment'), { name: '', entries: ['/shared/comment'], depth: 0 });
  assert.deepEqual(get('INBOX (MAXSIZE 1024) (/shared/comment /private/comment)'), { name: 'INBOX', entries: ['/shared/comment', '/private/comment'], depth: 0, maxSize: 1024 });
  assert.deepEqual(get('(DEPTH infinity) inbox /Private'), { name: 'INBOX', entries: ['/private'], depth: 'infinity' });
  assert.deepEqual(get('INBOX (depth 1 maxsize 0) /shared/a /shared/b'), { name: 'INBOX', entries: ['/shared/a', '/shared/b'], depth: 1, maxSize: 0 });
  // A list after the mailbox with nothing after it is the entry list, not options.
  assert.deepEqual(get('INBOX (/shared/a)'), { name: 'INBOX', entries: ['/shared/a'], depth: 0 });
  for (const bad of ['INBOX', 'INBOX ()', 'INBOX (DEPTH 2) /shared/a', 'INBOX (DEPTH) /shared/a', 'INBOX (MAXSIZE x) /shared/a', 'INBOX (DEPTH 0 DEPTH 1) /shared/a', '(DEPTH 1) INBOX (MAXSIZE 1) /shared/a', 'INBOX (FOO) /shared/a', 'INBOX /shared//a', 'INBOX (/shared/a) /shared/b']) {
    assert.throws(() => get(bad), ParseError, bad);
  }
});

test('SETMETADATA: entry-value pairs, NIL removes, anything else is BAD', () => {
  const args = set('INBOX (/private/comment "My new comment" /Shared/Comment NIL /shared/e "")');
  assert.equal(args.name, 'INBOX');
  assert.deepEqual(args.writes.map((w) => [w.entry, w.value === null ? null : w.value.toString()]), [['/private/comment', 'My new comment'], ['/shared/comment', null], ['/shared/e', '']]);
  for (const bad of ['INBOX', 'INBOX ()', 'INBOX (/private/comment)', 'INBOX (/private/comment FOO)', 'INBOX (/private/comment ("x"))', 'INBOX /private/comment "x"', 'INBOX (/private/comment "x") extra', 'INBOX (/comment "x")']) {
    assert.throws(() => set(bad), ParseError, bad);
  }
});
