/** The literal gate's decisions and the framing bounds, as a table (src/imap/session/input-rules.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frameBounds, judgeLiteral, readAheadLimit, streamsLiteral } from '../../src/imap/session/input-rules.js';
import type { LiteralRequest } from '../../src/imap/wire/framer.js';
import { DEFAULT_IMAP_LIMITS as limits } from '../../src/imap/limits.js';
import { CommandRegistry } from '../../src/imap/commands/registry.js';
import type { StateKind } from '../../src/imap/commands/types.js';

const registry = new CommandRegistry();
const request = (firstLine: string, over: Partial<LiteralRequest> = {}): LiteralRequest => ({
  firstLine,
  line: firstLine,
  size: 10,
  nonSync: false,
  binary: false,
  index: 0,
  commandSize: firstLine.length + 2,
  exceeds: null,
  ...over,
});
const judge = (req: LiteralRequest, state: StateKind = 'authenticated', enabled: string[] = []) =>
  judgeLiteral(req, { limits, registry, state, enabled: new Set(enabled) });

test('literal decisions', () => {
  const table: Array<[LiteralRequest, StateKind, string[], string]> = [
    [request('a LOGIN {5}'), 'notAuthenticated', [], 'accept'],
    [request('a APPEND INBOX {10}', { size: 50_000_000 }), 'authenticated', [], 'accept'],
    [request('a APPEND INBOX {10}', { size: 70_000_000 }), 'authenticated', [], 'NO TOOBIG Literal too large (limit 67108864 octets)'],
    [request('a LIST {10}', { size: 70_000 }), 'authenticated', [], 'NO TOOBIG Literal too large (limit 65536 octets)'],
    [request('a FROB {3}'), 'authenticated', [], 'BAD Unknown command'],
    [request('a SELECT {5}'), 'notAuthenticated', [], 'BAD SELECT is not allowed in this state'],
    [request('a APPEND INBOX ~{5}', { binary: true }), 'authenticated', [], 'accept'],
    [request('a LIST "" ~{5}', { binary: true }), 'authenticated', [], 'BAD literal8 (~{n}) is allowed only in APPEND (RFC 3516)'],
    [request('a APPEND INBOX UTF8 (~{5}', { binary: true }), 'authenticated', ['UTF8=ACCEPT'], 'accept'],
    [request('a SEARCH {1}', { exceeds: 'literals' }), 'selected', [], 'BAD Too many literals in one command (limit 1000)'],
    [request('a LOGIN {1}', { exceeds: 'commandSize' }), 'notAuthenticated', [], 'NO TOOBIG Command too large before authentication (limit 16384 octets)'],
    [request('a APPEND x {1}', { exceeds: 'commandSize' }), 'authenticated', [], 'NO TOOBIG Command too large (limit 83886080 octets)'],
  ];
  for (const [req, state, enabled, expected] of table) {
    const v = judge(req, state, enabled);
    const got = v.accept ? 'accept' : [v.status, v.code?.name, v.text].filter(Boolean).join(' ');
    assert.equal(got, expected, req.firstLine);
    if (!v.accept) assert.equal(v.tag, 'a');
  }
});

test('bounds before and after authentication', () => {
  assert.deepEqual(frameBounds(limits, 'notAuthenticated'), { maxLineLength: 16_384, maxCommandSize: 16_384, maxLiterals: 1000 });
  assert.deepEqual(frameBounds(limits, 'selected'), { maxLineLength: 65_536, maxCommandSize: 80 * 1024 * 1024, maxLiterals: 1000 });
  assert.equal(readAheadLimit(limits, 'notAuthenticated'), 2 * 16_384 + 2);
  assert.equal(readAheadLimit(limits, 'authenticated'), 1024 * 1024);
});

test('which literals are streamed: every APPEND message above 64 KiB, not literal8 nor inside UTF8 (...)', () => {
  const big = { size: 70_000 };
  const table: Array<[LiteralRequest, boolean]> = [
    [request('a APPEND INBOX {70000}', big), true],
    [request('a APPEND INBOX {1000}', { size: 1000 }), false],
    // RFC 3502: the second message of a MULTIAPPEND, on its own line.
    [request('a APPEND INBOX {10}', { ...big, index: 1, line: ' (\\Seen) {70000}' }), true],
    [request('a APPEND INBOX {10}', { ...big, index: 1, line: ' UTF8 ({70000}' }), false],
    [request('a APPEND INBOX ~{70000}', { ...big, binary: true }), false],
    [request('a APPEND INBOX UTF8 ({70000}', big), false],
    [request('a SEARCH TEXT {70000}', big), false],
    // RFC 4469 CATENATE: TEXT and URL literals sit inside the list and are read whole.
    [request('a APPEND Drafts (\\Seen) CATENATE (TEXT {70000}', big), false],
    [request('a APPEND Drafts {10}', { ...big, index: 1, line: ' URL "/Drafts/;UID=1" TEXT {70000}' }), false],
    [request('a APPEND Drafts {10}', { ...big, index: 1, line: ') CATENATE (URL {70000}' }), false],
    [request('a UID REPLACE 1 Drafts CATENATE (TEXT {70000}', big), false],
    // A mailbox named TEXT in a plain APPEND still streams.
    [request('a APPEND TEXT {70000}', big), true],
  ];
  for (const [req, expected] of table) assert.equal(streamsLiteral(req), expected, `${req.firstLine} / ${req.line}`);
});
