/** Which scripts can run from the header section alone (delivery then stores the body as it arrives). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { needsWholeMessage } from '../../src/sieve/index.js';
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
