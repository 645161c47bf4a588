import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage } from '../../src/mime/index.js';

const msg = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'));

// RFC 3501 §7.4.2: "If the Date, Subject, In-Reply-To, and Message-ID header lines are absent in the
// [RFC-2822] header, the corresponding member of the envelope is NIL; if these header lines are
// present but empty the corresponding member of the envelope is the empty string."
test('rfc-7.4.2 envelope: present but empty Date/Subject/In-Reply-To/Message-ID are "", absent are NIL', () => {
  const e = parseMessage(msg('From: a@b.test', 'Subject:', 'Date: ', 'In-Reply-To:', 'Message-ID:  ', '', 'x')).envelope;
  assert.equal(e.subject, '');
  assert.equal(e.date, '');
  assert.equal(e.inReplyTo, '');
  assert.equal(e.messageId, '');
  const absent = parseMessage(msg('From: a@b.test', '', 'x')).envelope;
  assert.equal(absent.subject, null);
  assert.equal(absent.date, null);
  assert.equal(absent.inReplyTo, null);
  assert.equal(absent.messageId, null);
});
