/**
 * Address handling as clients see it (RFC 5322 §3.4 with the obsolete forms of §4.4; the one
 * convention for empty and broken addresses is docs/addresses.md): a comment stands in for a
 * missing display name, comments and folding never reach a local part or domain, a name alone is
 * not an address, and SEARCH FROM/TO/CC/BCC match what the envelope shows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAddressList } from '../../src/mime/address.js';
import { decodeHeaderText, parseMessage, searchHeaderValues } from '../../src/mime/index.js';
import { addressSearchText } from '../../src/mime/address-text.js';

const addr = (name: string | null, mailbox: string | null, host: string | null) => ({ name, adl: null, mailbox, host });
const msg = (...lines: string[]): Buffer => Buffer.from([...lines, '', 'body'].join('\r\n'));

test('a comment is the display name of an address without a phrase (what clients show, what Dovecot sends)', () => {
  assert.deepEqual(parseAddressList('user@domain.org (Real Name)'), [addr('Real Name', 'user', 'domain.org')]);
  assert.deepEqual(parseAddressList('<user@domain.org> (Real  Name)'), [addr('Real Name', 'user', 'domain.org')]);
  assert.deepEqual(parseAddressList('(Leading) user@domain.org'), [addr('Leading', 'user', 'domain.org')]);
  // A phrase wins over a comment; comments inside the address are never names.
  assert.deepEqual(parseAddressList('Pete <pete@silly.test> (his box)'), [addr('Pete', 'pete', 'silly.test')]);
  assert.deepEqual(parseAddressList('pete(his account)@silly.test'), [addr(null, 'pete', 'silly.test')]);
  assert.deepEqual(parseAddressList('a@b.test (), c@d.test (C (nested) D)'), [addr(null, 'a', 'b.test'), addr('C (nested) D', 'c', 'd.test')]);
  const e = parseMessage(msg('From: user@domain.org (Real Name)')).envelope;
  assert.deepEqual(e.from, [addr('Real Name', 'user', 'domain.org')]);
});

test('comments and folding white space inside an address are gone from local part and domain', () => {
  assert.deepEqual(parseAddressList('<user (c)@ (c) domain.org>'), [addr(null, 'user', 'domain.org')]);
  assert.deepEqual(parseAddressList('Name <user\r\n (folded) @\r\n domain.org>'), [addr('Name', 'user', 'domain.org')]);
});

test('a name with no address is not an address: a quoted-name-only Reply-To falls back to From', () => {
  assert.equal(parseAddressList('"Some Name"'), null);
  assert.equal(parseAddressList('Some Name'), null);
  assert.equal(parseAddressList('"Some Name" (comment)'), null);
  const e = parseMessage(msg('From: a@b.test', 'Reply-To: "Some Name"', 'Sender: Just Words')).envelope;
  assert.deepEqual(e.replyTo, [addr(null, 'a', 'b.test')]);
  assert.deepEqual(e.sender, [addr(null, 'a', 'b.test')]);
  // A list keeps its real addresses and drops the name-only entry.
  assert.deepEqual(parseAddressList('"Only Name", x@y.test'), [addr(null, 'x', 'y.test')]);
});

test('empty and broken addresses: <> is an empty address, a missing domain is an empty host', () => {
  assert.deepEqual(parseAddressList('<>'), [addr(null, '', '')]);
  assert.deepEqual(parseAddressList('"Mail System" <>'), [addr('Mail System', '', '')]);
  assert.deepEqual(parseAddressList('root'), [addr(null, 'root', '')]);
  assert.deepEqual(parseAddressList('<root>'), [addr(null, 'root', '')]);
  assert.deepEqual(parseAddressList('user@'), [addr(null, 'user', '')]);
  assert.deepEqual(parseAddressList('@example.org'), [addr(null, '', 'example.org')]);
  assert.equal(parseAddressList(''), null);
  assert.equal(parseAddressList('(only a comment)'), null);
});

test('SEARCH text of address fields: addresses written out, names decoded, comments and folding gone', () => {
  assert.equal(addressSearchText('<user (c)@ (c) domain.org>', decodeHeaderText), 'user@domain.org');
  assert.equal(addressSearchText('user@domain.org (Real Name)', decodeHeaderText), 'Real Name <user@domain.org>');
  assert.equal(addressSearchText('=?utf-8?q?J=C3=B6rg?= <j@x.test>, k@x.test', decodeHeaderText), 'Jörg <j@x.test>, k@x.test');
  // No address at all: the text is searched, comments removed.
  assert.equal(addressSearchText('"Some Name" (c)', decodeHeaderText), '"Some Name"');
  const raw = msg('From: <user (c)@ (c) domain.org>', 'Subject: (not an address) x', 'To: a@b.test', 'To: second@b.test');
  const s = parseMessage(raw);
  assert.deepEqual(searchHeaderValues(raw, s, 'FROM'), ['user@domain.org']);
  // Not an address field: decoded text as written.
  assert.deepEqual(searchHeaderValues(raw, s, 'subject'), ['(not an address) x']);
  // Every occurrence is searched (ENVELOPE shows the first; docs/addresses.md).
  assert.deepEqual(searchHeaderValues(raw, s, 'to'), ['a@b.test', 'second@b.test']);
});
