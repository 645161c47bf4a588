/**
 * Regression: the address lexer and its atom loop once disagreed about what white space is, so a
 * vertical tab or a no-break space (both \s in JS) produced empty atoms forever — a 71-byte From:
 * header exhausted the heap (found by the mime fast-check property in a CI run).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAddressList } from '../../src/mime/address.js';
import { parseMessage } from '../../src/mime/index.js';

test('vertical tab and no-break space in an address list end the word, they do not hang', () => {
  for (const ws of ['\u000b', '\u00a0', '\u000c', '\u2028']) {
    const list = parseAddressList(`A Group:a@b, "q\\"x" <c@d>; x${ws}y@z`);
    assert.ok(list && list.length >= 4, JSON.stringify(list));
    const last = list.at(-1)!;
    assert.equal(last.host, 'z');
    assert.match(last.mailbox ?? '', /^x ?y$/, 'the white space separated two words of the local part');
  }
  const raw = Buffer.from(' \r\nFrom: A Group:a@b, "q\\"x" <c@d>;\r\n\t\xb7n\x0b\xfbpDKL.Y$\r\n\r\n', 'latin1');
  assert.equal(parseMessage(raw).size, raw.length);
});
