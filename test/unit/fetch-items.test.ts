import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFetchArgs } from '../../src/imap/commands/fetch.js';
import { tokens } from './fetch-harness.js';

const names = (args: string): string[] =>
  parseFetchArgs(tokens(args)).items.map((i) =>
    i.kind === 'simple' ? i.name : i.kind === 'preview' ? `${i.snippet ? 'SNIPPET' : 'PREVIEW'}${i.lazy ? ' (LAZY)' : ''}` : i.kind === 'binarySize' ? i.label : `${i.peek ? 'peek:' : ''}${i.label}${i.partial ? `<${i.partial.offset}.${i.partial.length ?? ''}>` : ''}`,
  );

test('macros expand (RFC 3501 §6.4.5)', () => {
  assert.deepEqual(names('1 ALL'), ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE']);
  assert.deepEqual(names('1 fast'), ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE']);
  assert.deepEqual(names('1 FULL'), ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY']);
});

test('single items and lists', () => {
  assert.deepEqual(names('1:* (UID FLAGS)'), ['UID', 'FLAGS']);
  assert.deepEqual(names('1 BODYSTRUCTURE'), ['BODYSTRUCTURE']);
  assert.deepEqual(names('1 (RFC822 RFC822.HEADER RFC822.TEXT RFC822.SIZE modseq)'), [
    'RFC822',
    'peek:RFC822.HEADER',
    'RFC822.TEXT',
    'RFC822.SIZE',
    'MODSEQ',
  ]);
  assert.deepEqual(names('1 (BODY[] BODY.PEEK[HEADER.FIELDS (A B)]<0.100> body[1.2.mime]<5>)'), [
    'BODY[]',
    'peek:BODY[HEADER.FIELDS (A B)]<0.100>',
    'BODY[1.2.MIME]<5.>',
  ]);
  assert.deepEqual(names('1 (FLAGS flags UID)'), ['FLAGS', 'UID']);
});

test('BINARY items (RFC 3516 §4.2): part numbers only, PEEK, partial, SIZE', () => {
  assert.deepEqual(names('1 (BINARY[] binary.peek[1.2]<10.20> BINARY.SIZE[3] BINARY.SIZE[])'), [
    'BINARY[]',
    'peek:BINARY[1.2]<10.20>',
    'BINARY.SIZE[3]',
    'BINARY.SIZE[]',
  ]);
  // The same section as BODY and BINARY are different items; a repeated BINARY.SIZE is one.
  assert.deepEqual(names('1 (BODY.PEEK[1] BINARY.PEEK[1] BINARY.SIZE[1] BINARY.SIZE[1])'), ['peek:BODY[1]', 'peek:BINARY[1]', 'BINARY.SIZE[1]']);
});

test('CHANGEDSINCE modifier (RFC 7162 §3.1.4.1)', () => {
  assert.equal(parseFetchArgs(tokens('1:* (FLAGS) (CHANGEDSINCE 12345)')).changedSince, 12345);
  assert.equal(parseFetchArgs(tokens('1:* FLAGS')).changedSince, undefined);
});

test('bad FETCH arguments are ParseErrors (BAD)', () => {
  for (const bad of [
    '1',
    '1 ()',
    '1 (ALL)',
    '1 (FLAGS FAST)',
    '1 BOGUS',
    '1 FLAGS extra',
    '1 BODY[MIME]',
    '1 BODY[0]',
    '1 RFC822[]',
    '1 BINARY',
    '1 BINARY.PEEK',
    '1 BINARY.SIZE',
    '1 BINARY[HEADER]',
    '1 BINARY[1.TEXT]',
    '1 BINARY[1.MIME]',
    '1 BINARY[0]',
    '1 BINARY[1.0]',
    '1 BINARY[01]',
    '1 BINARY[1 2]',
    '1 BINARY.SIZE[1]<0.10>',
    '1 BINARY.PEEK[1]<0.0.0>',
    '1 (FLAGS) (CHANGEDSINCE)',
    '1 (FLAGS) (VANISHED)',
    '1 "FLAGS"',
    'x FLAGS',
  ]) {
    assert.throws(() => parseFetchArgs(tokens(bad)), { name: 'ParseError' }, bad);
  }
});

test('RFC 8474/8514/8970 items: EMAILID THREADID SAVEDATE PREVIEW, PREVIEW (LAZY), duplicates folded', () => {
  assert.deepEqual(names('1 (EMAILID THREADID SAVEDATE PREVIEW)'), ['EMAILID', 'THREADID', 'SAVEDATE', 'PREVIEW']);
  assert.deepEqual(names('1 (UID PREVIEW (LAZY) FLAGS)'), ['UID', 'PREVIEW (LAZY)', 'FLAGS']);
  assert.deepEqual(names('1 (PREVIEW (lazy) PREVIEW)'), ['PREVIEW']);
  assert.deepEqual(names('1 PREVIEW'), ['PREVIEW']);
  assert.throws(() => names('1 (PREVIEW (EXACT))'), /LAZY/);
  assert.throws(() => names('1 (PREVIEW ())'), /Empty PREVIEW modifier/);
});

test('SNIPPET (draft-ietf-extra-imap-fetch-preview-00, SNIPPET=FUZZY): FUZZY, LAZY=FUZZY, apart from PREVIEW', () => {
  assert.deepEqual(names('1 SNIPPET'), ['SNIPPET']);
  assert.deepEqual(names('1 (SNIPPET (FUZZY))'), ['SNIPPET']);
  assert.deepEqual(names('1 (SNIPPET (LAZY=FUZZY) UID)'), ['SNIPPET (LAZY)', 'UID']);
  assert.deepEqual(names('1 (SNIPPET (fuzzy lazy))'), ['SNIPPET (LAZY)']);
  assert.deepEqual(names('1 (SNIPPET (LAZY=FUZZY) SNIPPET (FUZZY))'), ['SNIPPET']);
  assert.deepEqual(names('1 (SNIPPET (FUZZY) PREVIEW (LAZY))'), ['SNIPPET', 'PREVIEW (LAZY)']);
  assert.throws(() => names('1 (SNIPPET (EXACT))'), /FUZZY/);
  assert.throws(() => names('1 (SNIPPET ())'), /Empty SNIPPET modifier/);
  assert.throws(() => names('1 (PREVIEW (EXACT))'), /LAZY/);
});

test('PREVIEW=FUZZY (the later drafts, as Dovecot): PREVIEW (FUZZY) and (LAZY=FUZZY) name the algorithm', () => {
  const items = (args: string) => parseFetchArgs(tokens(args)).items;
  const [fuzzy] = items('1 (PREVIEW (FUZZY))');
  assert.deepEqual(fuzzy, { kind: 'preview', lazy: false, fuzzy: true });
  const [lazy] = items('1 (PREVIEW (LAZY=FUZZY))');
  assert.deepEqual(lazy, { kind: 'preview', lazy: true, fuzzy: true });
  const [rfc] = items('1 (PREVIEW (LAZY))');
  assert.deepEqual(rfc, { kind: 'preview', lazy: true });
  assert.equal(items('1 (PREVIEW (FUZZY) PREVIEW)').length, 1, 'one PREVIEW in the answer');
});
