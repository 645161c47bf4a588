/**
 * parse() tables for the mailbox commands: argument text → typed arguments, a ParseError (BAD), or
 * an ImapError NO for a well-formed string that is not a valid modified UTF-7 name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParseError } from '../../src/imap/wire/args.js';
import { ImapError } from '../../src/imap/errors.js';
import type { CommandSpec } from '../../src/imap/commands/types.js';
import { createCommand } from '../../src/imap/commands/create.js';
import { deleteCommand } from '../../src/imap/commands/delete.js';
import { renameCommand } from '../../src/imap/commands/rename.js';
import { subscribeCommand } from '../../src/imap/commands/subscribe.js';
import { unsubscribeCommand } from '../../src/imap/commands/unsubscribe.js';
import { listCommand, type ListArgs } from '../../src/imap/commands/list.js';
import { lsubCommand } from '../../src/imap/commands/lsub.js';
import { statusCommand } from '../../src/imap/commands/status.js';
import { namespaceCommand } from '../../src/imap/commands/namespace.js';
import { tokens, env } from './cmd-mailbox-fake-ctx.js';

type Row = [args: string, expected: unknown | typeof ParseError | typeof ImapError, enabled?: string[], literals?: string[]];

function check<A>(spec: CommandSpec<A>, rows: Row[]): void {
  for (const [args, expected, enabled, literals] of rows) {
    const run = (): A => spec.parse(tokens(args, literals), env(enabled));
    const label = `${spec.name} ${args}`;
    if (expected === ParseError) assert.throws(run, ParseError, label);
    else if (expected === ImapError) assert.throws(run, (err: unknown) => err instanceof ImapError && err.status === 'NO' && /modified UTF-7/.test(err.message), label);
    else assert.deepEqual(run(), expected, label);
  }
}

test('CREATE', () => {
  check(createCommand, [
    ['owatagusiam/', { name: 'owatagusiam/' }],
    ['owatagusiam/blurdybloop', { name: 'owatagusiam/blurdybloop' }],
    ['"with space"', { name: 'with space' }],
    ['{5}', { name: 'lit/x' }, [], ['lit/x']],
    ['inbox', { name: 'INBOX' }],
    ['InBoX', { name: 'INBOX' }],
    // Modified UTF-7 (RFC 3501 §5.1.3 example).
    ['~peter/mail/&U,BTFw-/&ZeVnLIqe-', { name: '~peter/mail/台北/日本語' }],
    ['&AOk-t&AOk-', { name: 'été' }],
    ['"&-"', { name: '&' }],
    // Not modified UTF-7: the string is fine, the name is not — NO with the reason, not BAD.
    ['&Jjo!', ImapError],
    ['&AGE-', ImapError], // encodes printable ASCII: not the canonical spelling
    // UTF-8 as-is once UTF8=ACCEPT is on (RFC 6855 §3); an "&" is then just a character.
    ['"été"', { name: 'été' }, ['UTF8=ACCEPT']],
    ['&AOk-', { name: '&AOk-' }, ['UTF8=ACCEPT']],
    // 8-bit without UTF8=ACCEPT is not modified UTF-7.
    ['"été"', ImapError],
    // RFC 6154 §3 / RFC 4466 create-params.
    ['MySpecial (USE (\\Drafts))', { name: 'MySpecial', use: ['\\Drafts'] }],
    ['MySpecial (USE (\\Drafts \\Sent))', { name: 'MySpecial', use: ['\\Drafts', '\\Sent'] }],
    ['MySpecial (use ())', { name: 'MySpecial', use: [] }],
    ['MySpecial (FOO (\\Drafts))', ParseError],
    ['MySpecial (USE (\\Drafts) USE (\\Sent))', ParseError],
    ['MySpecial (USE \\Drafts)', ParseError],
    ['', ParseError],
    ['a b', ParseError],
    ['(a)', ParseError],
  ]);
});

test('DELETE, SUBSCRIBE, UNSUBSCRIBE take one mailbox name', () => {
  for (const spec of [deleteCommand, subscribeCommand, unsubscribeCommand] as CommandSpec<{ name: string }>[]) {
    check(spec, [
      ['blurdybloop', { name: 'blurdybloop' }],
      ['#news.comp.mail.mime', { name: '#news.comp.mail.mime' }],
      ['"foo/bar"', { name: 'foo/bar' }],
      ['""', { name: '' }],
      ['inbox', { name: 'INBOX' }],
      ['&ZeVnLIqe-', { name: '日本語' }],
      ['', ParseError],
      ['a b', ParseError],
      ['(a)', ParseError],
    ]);
  }
});

test('RENAME', () => {
  check(renameCommand, [
    ['blurdybloop sarasoop', { from: 'blurdybloop', to: 'sarasoop' }],
    ['INBOX old-mail', { from: 'INBOX', to: 'old-mail' }],
    ['inbox "old mail"', { from: 'INBOX', to: 'old mail' }],
    ['a &AOk-', { from: 'a', to: 'é' }],
    ['a', ParseError],
    ['a b c', ParseError],
    ['a &', ImapError],
  ]);
});

const base = (over: Partial<ListArgs>): ListArgs => ({
  reference: '',
  patterns: [],
  extended: false,
  select: { subscribed: false, remote: false, recursiveMatch: false, specialUse: false },
  returns: { subscribed: false, children: false, specialUse: false },
  ...over,
});

test('LIST: RFC 3501 forms', () => {
  check(listCommand, [
    ['"" ""', base({ patterns: [''] })],
    ['#news.comp.mail.misc ""', base({ reference: '#news.comp.mail.misc', patterns: [''] })],
    ['~/Mail/ %', base({ reference: '~/Mail/', patterns: ['%'] })],
    ['"" *', base({ patterns: ['*'] })],
    ['"" "foo/*"', base({ patterns: ['foo/*'] })],
    ['"" foo/%', base({ patterns: ['foo/%'] })],
    ['"" &ZeVnLIqe-/%', base({ patterns: ['日本語/%'] })],
    ['""', ParseError],
    ['', ParseError],
    ['"" * extra', ParseError],
    ['"" &Jjo', ImapError],
  ]);
});

test('LIST: RFC 5258 extended forms', () => {
  check(listCommand, [
    ['(SUBSCRIBED) "" "*"', base({ patterns: ['*'], extended: true, select: { subscribed: true, remote: false, recursiveMatch: false, specialUse: false } })],
    ['() "" ""', base({ patterns: [''], extended: true })],
    ['(REMOTE SUBSCRIBED RECURSIVEMATCH) "" %', base({ patterns: ['%'], extended: true, select: { subscribed: true, remote: true, recursiveMatch: true, specialUse: false } })],
    ['(special-use) "" *', base({ patterns: ['*'], extended: true, select: { subscribed: false, remote: false, recursiveMatch: false, specialUse: true } })],
    ['"" ("INBOX" "Drafts" "Sent/%")', base({ patterns: ['INBOX', 'Drafts', 'Sent/%'], extended: true })],
    ['"" "%" RETURN (CHILDREN)', base({ patterns: ['%'], extended: true, returns: { subscribed: false, children: true, specialUse: false } })],
    ['"" "%" RETURN ()', base({ patterns: ['%'], extended: true })],
    ['"" % RETURN (SUBSCRIBED SPECIAL-USE)', base({ patterns: ['%'], extended: true, returns: { subscribed: true, children: false, specialUse: true } })],
    // RFC 5819: status items in canonical order, duplicates collapsed.
    ['"" % RETURN (STATUS (UNSEEN MESSAGES unseen))', base({ patterns: ['%'], extended: true, returns: { subscribed: false, children: false, specialUse: false, status: ['MESSAGES', 'UNSEEN'] } })],
    ['"" % RETURN (STATUS ())', ParseError],
    ['"" % RETURN (STATUS (BOGUS))', ParseError],
    ['"" % RETURN (STATUS (MESSAGES) STATUS (UNSEEN))', ParseError],
    ['"" % RETURN (BOGUS)', ParseError],
    ['"" % RETURN', ParseError],
    ['"" % NOTRETURN ()', ParseError],
    ['(BOGUS) "" %', ParseError],
    // §3.1: RECURSIVEMATCH alone, or with REMOTE only, is BAD.
    ['(RECURSIVEMATCH) "" %', ParseError],
    ['(REMOTE RECURSIVEMATCH) "" %', ParseError],
    ['"" ()', ParseError],
  ]);
});

test('LSUB', () => {
  check(lsubCommand, [
    ['"#news." "comp.mail.*"', { reference: '#news.', pattern: 'comp.mail.*' }],
    ['"" %', { reference: '', pattern: '%' }],
    ['"" ("a" "b")', ParseError],
    ['(SUBSCRIBED) "" %', ParseError],
    ['""', ParseError],
  ]);
});

test('STATUS', () => {
  check(statusCommand, [
    ['blurdybloop (UIDNEXT MESSAGES)', { name: 'blurdybloop', items: ['MESSAGES', 'UIDNEXT'] }],
    ['inbox (messages recent uidnext uidvalidity unseen)', { name: 'INBOX', items: ['MESSAGES', 'RECENT', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN'] }],
    ['x (HIGHESTMODSEQ SIZE DELETED APPENDLIMIT)', { name: 'x', items: ['DELETED', 'SIZE', 'HIGHESTMODSEQ', 'APPENDLIMIT'] }],
    ['x (MESSAGES MESSAGES)', { name: 'x', items: ['MESSAGES'] }],
    ['x ()', ParseError],
    ['x (FOO)', ParseError],
    ['x MESSAGES', ParseError],
    ['x', ParseError],
    ['x (MESSAGES) y', ParseError],
    ['x ((MESSAGES))', ParseError],
  ]);
});

test('NAMESPACE takes no arguments', () => {
  check(namespaceCommand, [
    ['', undefined],
    ['x', ParseError],
  ]);
});
