import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage } from '../../src/mime/index.js';

const msg = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'));

test('rfc-7.4.2 envelope: raw strings, sender and reply-to default to from', () => {
  const s = parseMessage(
    msg(
      'Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)',
      'From: Terry Gray <gray@cac.washington.edu>',
      'Subject: =?utf-8?Q?IMAP4rev1_WG_mtg_summary?=',
      'To: imap@cac.washington.edu',
      'cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>',
      'Message-Id: <B27397-0100000@cac.washington.edu>',
      '',
      'body',
    ),
  );
  const e = s.envelope;
  assert.equal(e.date, 'Wed, 17 Jul 1996 02:23:25 -0700 (PDT)');
  assert.equal(e.subject, '=?utf-8?Q?IMAP4rev1_WG_mtg_summary?=');
  assert.deepEqual(e.from, [{ name: 'Terry Gray', adl: null, mailbox: 'gray', host: 'cac.washington.edu' }]);
  assert.deepEqual(e.sender, e.from);
  assert.deepEqual(e.replyTo, e.from);
  assert.deepEqual(e.to, [{ name: null, adl: null, mailbox: 'imap', host: 'cac.washington.edu' }]);
  assert.deepEqual(e.cc, [
    { name: null, adl: null, mailbox: 'minutes', host: 'CNRI.Reston.VA.US' },
    { name: 'John Klensin', adl: null, mailbox: 'KLENSIN', host: 'MIT.EDU' },
  ]);
  assert.equal(e.bcc, null);
  assert.equal(e.inReplyTo, null);
  assert.equal(e.messageId, '<B27397-0100000@cac.washington.edu>');
});

test('explicit empty Reply-To still defaults to from; explicit Sender is kept', () => {
  const e = parseMessage(msg('From: a@b.test', 'Sender: s@b.test', 'Reply-To:', '', '')).envelope;
  assert.deepEqual(e.sender, [{ name: null, adl: null, mailbox: 's', host: 'b.test' }]);
  assert.deepEqual(e.replyTo, [{ name: null, adl: null, mailbox: 'a', host: 'b.test' }]);
});

test('groups: start marker has group name and NIL host, end marker is all NIL', () => {
  const e = parseMessage(
    msg('To: A Group:Ed Jones <c@a.test>,joe@where.test;, solo@x.test', 'Cc: undisclosed-recipients:;', '', ''),
  ).envelope;
  assert.deepEqual(e.to, [
    { name: null, adl: null, mailbox: 'A Group', host: null },
    { name: 'Ed Jones', adl: null, mailbox: 'c', host: 'a.test' },
    { name: null, adl: null, mailbox: 'joe', host: 'where.test' },
    { name: null, adl: null, mailbox: null, host: null },
    { name: null, adl: null, mailbox: 'solo', host: 'x.test' },
  ]);
  assert.deepEqual(e.cc, [
    { name: null, adl: null, mailbox: 'undisclosed-recipients', host: null },
    { name: null, adl: null, mailbox: null, host: null },
  ]);
});

test('quoted-pairs, comments, source routes and quoted local parts', () => {
  const e = parseMessage(
    msg(
      'From: "Giant; \\"Big\\" Box" <sysservices@example.net> (the box)',
      'To: (lead) Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>',
      'Cc: <@relay.test,@other.test:user@host.test>, "john doe"@example.com',
      '',
      '',
    ),
  ).envelope;
  assert.deepEqual(e.from, [{ name: 'Giant; "Big" Box', adl: null, mailbox: 'sysservices', host: 'example.net' }]);
  assert.deepEqual(e.to, [{ name: 'Pete', adl: null, mailbox: 'pete', host: 'silly.test' }]);
  assert.deepEqual(e.cc, [
    { name: null, adl: '@relay.test,@other.test', mailbox: 'user', host: 'host.test' },
    { name: null, adl: null, mailbox: '"john doe"', host: 'example.com' },
  ]);
});

test('folded headers are unfolded and the first occurrence wins', () => {
  const e = parseMessage(msg('Subject: one', '  two', 'Subject: second', 'To: a@b.test,', '\tc@d.test', '', '')).envelope;
  assert.equal(e.subject, 'one  two');
  assert.equal(e.to?.length, 2);
});

test('envelope with no header at all is all NIL', () => {
  const e = parseMessage(Buffer.from('\r\nbody only\r\n')).envelope;
  assert.deepEqual(Object.values(e), Array(10).fill(null));
});
