/** APPEND (src/imap/commands/append.ts): argument tables and runs over MemoryStore. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommand } from '../../src/imap/wire/tokenizer.js';
import { ParseError } from '../../src/imap/wire/args.js';
import { ImapError } from '../../src/imap/errors.js';
import { DEFAULT_IMAP_LIMITS } from '../../src/imap/limits.js';
import { appendCommand, parseAppendArgs } from '../../src/imap/commands/append.js';
import { harness } from './cmd-message-harness.js';

const MSG = 'Subject: hi\r\n\r\nbody\r\n';

function parse(args: string, literal: string | null = MSG, enabled: string[] = []) {
  const lits = literal === null ? [] : [[Buffer.from(literal)]];
  const line = literal === null ? `t APPEND ${args}` : `t APPEND ${args} {${Buffer.byteLength(literal)}}`;
  // The framer hands over command text as latin1, one char per byte.
  const text = [Buffer.from(line, 'utf8').toString('latin1'), ...(literal === null ? [] : [''])];
  const cmd = parseCommand({ text, literals: lits, size: 0 }, DEFAULT_IMAP_LIMITS);
  return parseAppendArgs(cmd.args, { enabled: new Set(enabled), limits: DEFAULT_IMAP_LIMITS });
}

test('mailbox, optional flag list, optional date-time, literal', () => {
  const plain = parse('saved-messages');
  assert.deepEqual({ ...plain, message: Buffer.concat(plain.message.chunks) }, { mailbox: 'saved-messages', flags: [], internalDate: undefined, message: Buffer.from(MSG) });
  assert.equal(plain.message.size, Buffer.byteLength(MSG));
  const full = parse('"Sent Items" (\\Seen $Work \\Recent \\seen)  "07-Feb-1994 21:52:25 -0800"');
  assert.equal(full.mailbox, 'Sent Items');
  assert.deepEqual(full.flags, ['\\Seen', '$Work']);
  assert.equal(full.internalDate?.toISOString(), '1994-02-08T05:52:25.000Z');
  assert.equal(parse('inbox').mailbox, 'INBOX');
  assert.deepEqual(parse('INBOX ()').flags, []);
  assert.equal(parse('INBOX " 7-Feb-1994 21:52:25 +0000"').internalDate?.toISOString(), '1994-02-07T21:52:25.000Z');
});

test('mailbox names are modified UTF-7, or UTF-8 after ENABLE UTF8=ACCEPT', () => {
  assert.equal(parse('Entw&APw-rfe').mailbox, 'Entwürfe');
  assert.equal(parse('Entwürfe', MSG, ['UTF8=ACCEPT']).mailbox, 'Entwürfe');
});

test('RFC 6855 §4: UTF8 (literal8) is accepted once UTF8=ACCEPT is enabled', () => {
  const text = ['t APPEND INBOX UTF8 (~{4}', ')'];
  const cmd = parseCommand({ text, literals: [[Buffer.from('a\r\nb')]], size: 0 }, DEFAULT_IMAP_LIMITS);
  const env = (e: string[]) => ({ enabled: new Set(e), limits: DEFAULT_IMAP_LIMITS });
  assert.deepEqual(Buffer.concat(parseAppendArgs(cmd.args, env(['UTF8=ACCEPT'])).message.chunks), Buffer.from('a\r\nb'));
  assert.throws(() => parseAppendArgs(cmd.args, env([])), ParseError);
});

test('RFC 3502 MULTIAPPEND: further messages, each with its own flags and date', () => {
  const text = ['t APPEND INBOX (\\Seen) {3}', ' {2}', ' (\\Flagged $X) " 7-Feb-1994 21:52:25 +0000" {1}', ''];
  const literals = [[Buffer.from('one')], [Buffer.from('tw')], [Buffer.from('3')]];
  const cmd = parseCommand({ text, literals, size: 0 }, DEFAULT_IMAP_LIMITS);
  const args = parseAppendArgs(cmd.args, { enabled: new Set(), limits: DEFAULT_IMAP_LIMITS });
  assert.deepEqual(args.flags, ['\\Seen']);
  assert.deepEqual(Buffer.concat(args.message.chunks), Buffer.from('one'));
  assert.equal(args.more?.length, 2);
  assert.deepEqual(args.more![0]!.flags, []);
  assert.deepEqual(Buffer.concat(args.more![0]!.message.chunks), Buffer.from('tw'));
  assert.deepEqual(args.more![1]!.flags, ['\\Flagged', '$X']);
  assert.equal(args.more![1]!.internalDate?.toISOString(), '1994-02-07T21:52:25.000Z');
  // A flag list or date with no message after it, or a quoted string for one, is BAD.
  for (const tail of [' (\\Seen)', ' "hello"']) {
    const broken = parseCommand({ text: ['t APPEND INBOX {3}', tail], literals: [[Buffer.from('one')]], size: 0 }, DEFAULT_IMAP_LIMITS);
    assert.throws(() => parseAppendArgs(broken.args, { enabled: new Set(), limits: DEFAULT_IMAP_LIMITS }), ParseError, tail);
  }
});

const bad: Array<[string, string | null]> = [
  ['INBOX', null],
  ['INBOX "Subject: quoted"', null],
  ['INBOX (\\Seen)', null],
  ['INBOX (\\Bogus)', MSG],
  ['INBOX (\\*)', MSG],
  ['INBOX ("str")', MSG],
  ['INBOX "32-Jan-2000 00:00:00 +0000"', MSG],
  ['INBOX "7-Feb-1994"', MSG],
  ['INBOX "7-Feb-1994 21:52:25 -0800" "7-Feb-1994 21:52:25 -0800"', MSG],
  ['INBOX () ()', MSG],
  ['', MSG],
];
for (const [args, lit] of bad) {
  test(`APPEND ${JSON.stringify(args)}${lit === null ? ' without literal' : ''} is BAD`, () => {
    assert.throws(() => parse(args, lit), ParseError);
  });
}

test('APPEND to a name that is not modified UTF-7 is NO with the reason, not BAD', () => {
  assert.throws(
    () => parse('Bad&name', MSG),
    (err: unknown) => err instanceof ImapError && err.status === 'NO' && /modified UTF-7/.test(err.message),
  );
});

test('the literal limit is the message size limit', () => {
  assert.equal(appendCommand.maxLiteralSize?.({ ...DEFAULT_IMAP_LIMITS, maxMessageSize: 1234 }), 1234);
});

test('APPEND stores bytes, flags and date, and answers APPENDUID (RFC 4315)', async () => {
  const h = await harness();
  const reply = await h.run(appendCommand, `INBOX (\\Flagged) "01-Jan-2020 00:00:00 +0000" {${MSG.length}}`, [MSG]);
  const inbox = await h.mail.get('INBOX');
  const status = await h.mail.status(inbox.id);
  assert.equal(reply, `t OK [APPENDUID ${status.uidValidity} 1] APPEND completed`);
  const [rec] = await h.mail.records(inbox.id, [1]);
  assert.deepEqual(rec?.flags, ['\\Flagged']);
  assert.equal(rec?.internalDate.toISOString(), '2020-01-01T00:00:00.000Z');
  assert.equal((await h.mail.read(inbox.id, 1)).toString(), MSG);
  await h.close();
});

test('a missing mailbox is NO [TRYCREATE]; an empty message is NO; nothing is stored', async () => {
  const h = await harness();
  assert.equal(await h.run(appendCommand, `Nope {${MSG.length}}`, [MSG]), 't NO [TRYCREATE] Mailbox does not exist');
  assert.equal(await h.run(appendCommand, 'INBOX {0}', ['']), 't NO Empty message');
  const inbox = await h.mail.get('INBOX');
  assert.equal((await h.mail.status(inbox.id)).messages, 0);
  await h.close();
});

test('APPEND into a \\Noselect mailbox is refused with TRYCREATE (CREATE would make it selectable)', async () => {
  const h = await harness();
  await h.mail.create('Parent/Child');
  await h.mail.delete('Parent');
  // RFC 3501 §6.3.4: deleting a parent leaves it as a \Noselect placeholder.
  assert.equal((await h.mail.get('Parent')).noselect, true);
  // RFC 3501 §6.3.11: TRYCREATE unless it is certain the mailbox cannot be created — and CREATE
  // of a \Noselect placeholder succeeds.
  assert.match(await h.run(appendCommand, `Parent {${MSG.length}}`, [MSG]), /^t NO \[TRYCREATE\]/);
  assert.equal((await h.mail.get('Parent')).noselect, true, 'nothing was created behind the client\'s back');
  await h.close();
});
