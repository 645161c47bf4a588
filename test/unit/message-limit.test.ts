/**
 * RFC 9738 MESSAGELIMIT/SAVELIMIT pieces without a server: which UIDs a limited command keeps,
 * the codes, the limits' validation, and where the capabilities are advertised. The wire forms
 * are in test/transcripts/messagelimit.txt, real clients in test/e2e/messagelimit.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { keepHighest, processingOrder, refuseAppendCount, refuseOverMessageLimit, refuseOverSaveLimit } from '../../src/imap/commands/message-limit.js';
import { ImapError } from '../../src/imap/errors.js';
import { resolveLimits } from '../../src/imap/limits.js';
import { computeCapabilities } from '../../src/imap/capabilities.js';
import { parseSearchArgs } from '../../src/imap/search/parse.js';
import { DEFAULT_IMAP_LIMITS } from '../../src/imap/limits.js';
import { parseCommand } from '../../src/imap/wire/tokenizer.js';

/** The search key of `SEARCH text`, with the extensions `enabled`. */
function searchKey(text: string, enabled: string[] = []): unknown {
  const cmd = parseCommand({ text: [`t SEARCH ${text}`], literals: [], size: 0 }, DEFAULT_IMAP_LIMITS);
  return parseSearchArgs(cmd.args, { enabled: new Set(enabled), limits: DEFAULT_IMAP_LIMITS }).key;
}

describe('keepHighest', () => {
  it('keeps everything up to the limit, ascending, with no code', () => {
    assert.deepEqual(keepHighest([1, 2, 3], 3), { uids: [1, 2, 3] });
    assert.deepEqual(keepHighest([], 3), { uids: [] });
  });
  it('past the limit keeps the highest UIDs and names the lowest kept', () => {
    const r = keepHighest([4, 9, 1, 7, 9, 2], 3);
    assert.deepEqual(r.uids, [4, 7, 9]);
    assert.deepEqual(r.code, { name: 'MESSAGELIMIT', args: [3, 4] });
  });
});

describe('processingOrder', () => {
  it('within the limit: ascending, the same array; cut at the limit: from the highest down (RFC 9738 §3.1)', () => {
    const whole = keepHighest([3, 1, 2], 3);
    assert.equal(processingOrder(whole.uids, whole.code), whole.uids);
    const cut = keepHighest([5, 1, 4, 2, 3], 3);
    assert.deepEqual(processingOrder(cut.uids, cut.code), [5, 4, 3]);
    assert.deepEqual(cut.uids, [3, 4, 5], 'the kept list itself is left ascending');
  });
});

describe('SORT and THREAD past MESSAGELIMIT', () => {
  it('are refused whole, NO [MESSAGELIMIT n] without a UID; at the limit nothing happens', () => {
    refuseOverMessageLimit(3, 3, 'SORT');
    assert.throws(
      () => refuseOverMessageLimit(4, 3, 'UID THREAD'),
      (e: unknown) => e instanceof ImapError && e.status === 'NO' && e.code?.name === 'MESSAGELIMIT' && e.code.args?.join(' ') === '3' && /UID THREAD/.test(e.message),
    );
  });
});

describe('SAVELIMIT refusals', () => {
  it('COPY past it: NO [MESSAGELIMIT n uid]; at it: nothing', () => {
    refuseOverSaveLimit([1, 2], 2);
    assert.throws(() => refuseOverSaveLimit([5, 6, 7], 2), (e: unknown) => e instanceof ImapError && e.status === 'NO' && e.code?.name === 'MESSAGELIMIT' && e.code.args?.join(' ') === '2 6');
  });
  it('APPEND past it: NO [MESSAGELIMIT n]', () => {
    refuseAppendCount(2, 2);
    assert.throws(() => refuseAppendCount(3, 2), (e: unknown) => e instanceof ImapError && e.code?.args?.join(' ') === '2');
  });
});

describe('the limits', () => {
  it('default to 1,000,000 and must be positive whole numbers', () => {
    const d = resolveLimits();
    assert.equal(d.maxMessagesPerCommand, 1_000_000);
    assert.equal(d.maxMessagesPerSave, 1_000_000);
    assert.throws(() => resolveLimits({ maxMessagesPerCommand: 0 }), RangeError);
    assert.throws(() => resolveLimits({ maxMessagesPerSave: 2.5 }), RangeError);
  });
  it('are advertised once logged in, not before', () => {
    const base = {
      conn: { secure: true, canStartTls: false } as never,
      allowInsecureAuth: false,
      saslMechanisms: () => ['PLAIN'],
      commandCapabilities: [],
      maxMessageSize: 1000,
      messageLimit: 7,
      saveLimit: 8,
    };
    assert.ok(!computeCapabilities({ ...base, state: 'notAuthenticated' }).some((c) => /LIMIT=/.test(c) && !c.startsWith('APPENDLIMIT')));
    const after = computeCapabilities({ ...base, state: 'authenticated' });
    assert.ok(after.includes('MESSAGELIMIT=7') && after.includes('SAVELIMIT=8'), after.join(' '));
  });
});

describe('UIDAFTER and UIDBEFORE', () => {
  const key = (text: string): unknown => searchKey(text);
  it('are UID ranges with explicit bounds, and match nothing at the ends', () => {
    assert.deepEqual(key('UIDAFTER 5'), { type: 'uidset', set: { saved: false, ranges: [{ start: 6, end: 0xffffffff }] } });
    assert.deepEqual(key('UIDBEFORE 5'), { type: 'uidset', set: { saved: false, ranges: [{ start: 1, end: 4 }] } });
    assert.deepEqual(key('UIDBEFORE 1'), { type: 'not', of: { type: 'all' } });
    assert.deepEqual(key('UIDAFTER 4294967295'), { type: 'not', of: { type: 'all' } });
  });
  it('refuse 0 and numbers past 32 bits', () => {
    assert.throws(() => key('UIDAFTER 0'));
    assert.throws(() => key('UIDBEFORE 4294967296'));
  });
  it('a sequence-set key is BAD [UIDREQUIRED] once UIDONLY is on; "$" is not', () => {
    assert.throws(() => searchKey('1:*', ['UIDONLY']), (e: unknown) => e instanceof ImapError && e.status === 'BAD' && e.code?.name === 'UIDREQUIRED');
    assert.deepEqual(searchKey('$', ['UIDONLY']), { type: 'seqset', set: { saved: true } });
    assert.equal((searchKey('UID 1:*', ['UIDONLY']) as { type: string }).type, 'uidset');
  });
});
