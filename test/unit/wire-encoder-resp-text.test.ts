import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeResponse } from '../../src/imap/wire/encoder.js';

const wire = (chunks: ReturnType<typeof encodeResponse>): string => Buffer.concat(chunks as Buffer[]).toString('latin1');

// RFC 3501 §9: text = 1*TEXT-CHAR; TEXT-CHAR = <any CHAR except CR and LF>; CHAR = %x01-7F.
test('rfc-9 resp-text: 8-bit text becomes "?" before UTF8=ACCEPT, stays UTF-8 after', () => {
  const r = { type: 'status', tag: 'A1', status: 'NO', text: 'mailbox "café😀" already exists' } as const;
  assert.equal(wire(encodeResponse(r)), 'A1 NO mailbox "caf??" already exists\r\n');
  assert.equal(Buffer.concat(encodeResponse(r, { utf8: true }) as Buffer[]).toString('utf8'), 'A1 NO mailbox "café😀" already exists\r\n');
  const plus = { type: 'continuation', text: 'naïve\r\nline' } as const;
  assert.equal(wire(encodeResponse(plus)), '+ na?ve line\r\n');
});
