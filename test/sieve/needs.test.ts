/** Which scripts can run from the header section alone (delivery then stores the body as it arrives). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keepsOnly, needsWholeMessage } from '../../src/sieve/index.js';
import { compile } from './helpers.js';
import { FIFTY_RULE_SCRIPT } from '../../bench/sieve/fifty-rules.js';

test('header, address, envelope, flags, fileinto, reject, vacation, date: the header section is enough', () => {
  for (const source of [
    'keep;',
    FIFTY_RULE_SCRIPT,
    'require ["reject", "ereject"]; if header :contains "subject" "x" { reject "no"; } elsif exists "x-spam" { ereject "no"; }',
    'require "vacation"; vacation :days 3 "away";',
    'require ["date", "relational"]; if currentdate :value "ge" "hour" "09" { keep; }',
    'require ["fileinto", "copy", "mailbox"]; if mailboxexists "Lists" { fileinto :copy "Lists"; }',
  ]) {
    assert.equal(needsWholeMessage(compile(source)), false, source);
  }
});

test('body, size, redirect and editheader need the whole message, however deep they are', () => {
  for (const source of [
    'require "body"; if body :contains "x" { discard; }',
    'if size :over 100K { discard; }',
    'if anyof (false, not size :under 1) { keep; }',
    'if true { if header :is "x" "y" { redirect "a@example.org"; } }',
    'require "editheader"; addheader "X-A" "b";',
    'require "editheader"; if true { deleteheader "X-A"; }',
    'require ["ihave"]; if ihave "body" { if body :contains "x" { discard; } }',
  ]) {
    assert.equal(needsWholeMessage(compile(source)), true, source);
  }
});

test('a script object not made by compileSieve counts as needing the whole message', () => {
  assert.equal(needsWholeMessage(Object.freeze({ requires: [] })), true);
});

test('keepsOnly: only scripts whose every run is a plain keep (delivery then stores as without a script)', () => {
  for (const source of ['keep;', '', '# nothing\r\n', 'require "fileinto"; keep;', 'keep; stop;', 'stop;', 'require "imap4flags"; keep; keep;']) {
    assert.equal(keepsOnly(compile(source)), true, JSON.stringify(source));
  }
  for (const source of [
    'discard;',
    'require "imap4flags"; keep :flags "\\\\Seen";',
    'require "imap4flags"; addflag "$x"; keep;',
    'require "fileinto"; fileinto "INBOX";',
    'if true { keep; }',
    'if false { discard; }',
    'require "vacation"; vacation "away";',
    'require "editheader"; addheader "X-A" "b"; keep;',
    'require ["reject"]; reject "no";',
    'redirect "a@example.org";',
    FIFTY_RULE_SCRIPT,
  ]) {
    assert.equal(keepsOnly(compile(source)), false, source);
  }
  assert.equal(keepsOnly(Object.freeze({ requires: [] })), false, 'a script object not made by compileSieve');
});
