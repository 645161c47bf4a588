import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { validateMailboxName, parentNames, isSameOrBelow } from '../../src/store/names.js';
import { StoreError } from '../../src/store/errors.js';

const ok: Array<[string, string]> = [
  ['INBOX', 'INBOX'],
  ['inbox', 'INBOX'],
  ['InBoX', 'INBOX'],
  ['inbox/Sub', 'INBOX/Sub'],
  ['Inboxes', 'Inboxes'],
  ['ınbox', 'ınbox'], // Turkish dotless i is not INBOX
  ['Archive/2024', 'Archive/2024'],
  ['Entwürfe', 'Entwürfe'],
  ['a.b', 'a.b'],
  ['...', '...'],
  ['x/inbox', 'x/inbox'],
  ['a'.repeat(255), 'a'.repeat(255)],
  [Array(32).fill('a').join('/'), Array(32).fill('a').join('/')],
  ['😀', '😀'],
];

const bad: Array<[string, string]> = [
  ['', 'empty'],
  ['a//b', 'empty level'],
  ['a/', 'trailing delimiter'],
  ['/a', 'leading delimiter'],
  ['~alice', 'home-directory trick'],
  ['~', 'tilde'],
  ['a\u0000b', 'NUL'],
  ['a\nb', 'LF'],
  ['a\rb', 'CR'],
  ['a\tb', 'TAB'],
  ['a\u007fb', 'DEL'],
  ['a\u001fb', 'US'],
  ['..', 'dotdot'],
  ['a/../b', 'dotdot level'],
  ['./a', 'dot level'],
  ['a/.', 'trailing dot level'],
  ['a'.repeat(256), 'too long'],
  ['é'.repeat(128), 'too long in UTF-8 bytes (256)'],
  [Array(33).fill('a').join('/'), 'too deep'],
  ['a\ud800b', 'lone surrogate'],
];

describe('validateMailboxName', () => {
  for (const [input, expected] of ok) {
    it(`accepts ${JSON.stringify(input.length > 40 ? input.slice(0, 40) + '…' : input)}`, () => {
      assert.equal(validateMailboxName(input, '/'), expected);
    });
  }
  for (const [input, why] of bad) {
    it(`rejects ${why}`, () => {
      assert.throws(
        () => validateMailboxName(input, '/'),
        (e: unknown) => e instanceof StoreError && e.kind === 'cannot',
      );
    });
  }
  it('honours another delimiter', () => {
    assert.equal(validateMailboxName('inbox.x', '.'), 'INBOX.x');
    assert.throws(() => validateMailboxName('a..b', '.'), StoreError);
  });
});

describe('name helpers', () => {
  it('parentNames lists ancestors outermost first', () => {
    assert.deepEqual(parentNames('a/b/c', '/'), ['a', 'a/b']);
    assert.deepEqual(parentNames('a', '/'), []);
  });
  it('isSameOrBelow does not confuse prefixes with ancestors', () => {
    assert.equal(isSameOrBelow('a/b', 'a', '/'), true);
    assert.equal(isSameOrBelow('a', 'a', '/'), true);
    assert.equal(isSameOrBelow('ab', 'a', '/'), false);
  });
});
