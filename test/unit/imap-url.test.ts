/**
 * IMAP URLs (RFC 5092) as CATENATE, URLFETCH and GENURLAUTH read them: a table of text → parsed
 * URL, and of texts refused (src/imap/wire/imap-url.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseImapUrl, UrlError } from '../../src/imap/wire/imap-url.js';

test('relative, absolute and URLAUTH URLs parse into their parts', () => {
  const a = parseImapUrl('/Drafts;UIDVALIDITY=385759045/;UID=20/;section=1.MIME');
  assert.deepEqual([a.mailbox, a.uidValidity, a.uid, a.section, a.server], ['Drafts', 385759045, 20, '1.MIME', undefined]);
  const b = parseImapUrl(';UID=7/;SECTION=HEADER.FIELDS%20(Subject)/;PARTIAL=10.20');
  assert.deepEqual([b.mailbox, b.uid, b.section, b.partial], [undefined, 7, 'HEADER.FIELDS (Subject)', { offset: 10, length: 20 }]);
  const c = parseImapUrl('imap://joe@example.com/INBOX/Sub%20box/;uid=20/;section=1.2;urlauth=submit+fred:internal:91354a473744909de610943775f92038');
  assert.deepEqual([c.server, c.mailbox, c.uid, c.section], [{ host: 'example.com', user: 'joe' }, 'INBOX/Sub box', 20, '1.2']);
  assert.deepEqual(c.urlauth, {
    access: { kind: 'submit', user: 'fred' },
    mechanism: 'INTERNAL',
    token: '91354a473744909de610943775f92038',
    rump: 'imap://joe@example.com/INBOX/Sub%20box/;uid=20/;section=1.2;urlauth=submit+fred',
  });
  const d = parseImapUrl('imap://joe@example.com/INBOX/;uid=1;expire=2030-01-01T00:00:00Z;urlauth=anonymous');
  assert.equal(d.expire?.toISOString(), '2030-01-01T00:00:00.000Z');
  assert.deepEqual(d.urlauth, { access: { kind: 'anonymous' }, rump: d.text });
  assert.deepEqual(parseImapUrl('/A;UIDVALIDITY=1/;UID=2/;PARTIAL=5').partial, { offset: 5 });
});

test('URLs naming no message, or malformed, are refused', () => {
  for (const text of [
    '',
    'Drafts/;UID=1',
    '/Drafts',
    '/Drafts/;UID=0',
    '/Drafts/;UID=x',
    '/;UID=1',
    'imap://joe@example.com',
    'imap://joe@example.com/INBOX',
    'imap://example.com/;UID=1',
    '/Drafts/;UID=1/;SECTION=1%5D',
    '/Drafts/;UID=1/;PARTIAL=1.0',
    '/Drafts/;PARTIAL=1/;UID=1',
    '/Drafts/;UID=1/;SECTION=%ZZ',
    '/Drafts/;UID=1;urlauth=anonymous:internal:12',
    '/Drafts/;UID=1;urlauth=nobody',
    '/Dr afts/;UID=1',
  ]) {
    assert.throws(() => parseImapUrl(text), UrlError, text);
  }
});
