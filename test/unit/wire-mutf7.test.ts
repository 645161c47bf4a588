import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeMailboxName, decodeMailboxName } from '../../src/imap/wire/mutf7.js';
import { ParseError } from '../../src/imap/wire/args.js';

const PAIRS: Array<[string, string]> = [
  ['INBOX', 'INBOX'],
  ['~peter/mail/台北/日本語', '~peter/mail/&U,BTFw-/&ZeVnLIqe-'], // RFC 3501 §5.1.3 example
  ['Entwürfe', 'Entw&APw-rfe'],
  ['Tom & Jerry', 'Tom &- Jerry'],
  ['&', '&-'],
  ['日本語', '&ZeVnLIqe-'],
  ['😀 emoji', '&2D3eAA- emoji'],
  ['Ünïcödé', '&ANw-n&AO8-c&APY-d&AOk-'],
  ['tab\there', 'tab&AAk-here'],
];

test('known encodings (both directions)', () => {
  for (const [name, wire] of PAIRS) {
    assert.equal(encodeMailboxName(name), wire, name);
    assert.equal(decodeMailboxName(wire), name, wire);
  }
});

test('round trip of arbitrary well-formed names', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), (name) => {
      const wire = encodeMailboxName(name);
      assert.match(wire, /^[\x20-\x7e]*$/);
      assert.equal(decodeMailboxName(wire), name);
    }),
    { numRuns: 500 },
  );
});

test('invalid wire names are rejected', () => {
  const bad = [
    '&Jjo', // not closed by "-"
    '&Jjo!-', // bad base64 char
    '&AGE-', // encodes "a", which must be written directly
    '&AGEAYg-', // "ab"
    '&AGE-&AGE-', // adjacent runs
    '&APw-&APw-',
    '&AP-', // leftover bits / odd byte count
    '&APx-', // non-zero padding bits
    '&A-', // one char: 6 bits, no whole byte
    '&2D0-', // lone high surrogate
    '&3gA-', // lone low surrogate
    'Entwürfe', // raw 8-bit
    'a\x01b', // control char
    '&ZeVnLIqe', // unterminated after a valid run
  ];
  for (const wire of bad) assert.throws(() => decodeMailboxName(wire), ParseError, JSON.stringify(wire));
});

test('"&-" directly after an encoded run is fine (it is not another run)', () => {
  assert.equal(decodeMailboxName('&APw-&-'), 'ü&');
  assert.equal(encodeMailboxName('ü&'), '&APw-&-');
});
