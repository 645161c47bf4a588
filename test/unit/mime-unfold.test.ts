/**
 * unfold (src/mime/header.ts) answers a value of one line with trim() alone; it must give what
 * the two regular expressions give, for every string over the characters that matter (line ends,
 * blanks, other white space), up to six characters long.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unfold } from '../../src/mime/header.js';

const reference = (text: string): string => text.replace(/\r?\n(?=[ \t])/g, '').replace(/\r?\n$/, '').trim();

test('unfold gives what the regular expressions give, for every short string of line ends and blanks', () => {
  const alphabet = ['a', ' ', '\t', '\r', '\n', '\u00a0'];
  let strings = [''];
  let checked = 0;
  for (let len = 0; len <= 6; len++) {
    for (const s of strings) {
      assert.equal(unfold(s), reference(s), JSON.stringify(s));
      checked++;
    }
    strings = strings.flatMap((s) => alphabet.map((c) => s + c));
  }
  assert.ok(checked > 50_000);
  assert.equal(unfold(' Subject line \r\n'), 'Subject line');
  assert.equal(unfold(' folded\r\n line\r\n'), 'folded line');
});
