/**
 * SqliteStore's SQL search must answer exactly as the reference evaluator (matchesQuery) does, for
 * random query trees mixing pushed-down keys with ones that fall back to evaluation.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { parseMessage } from '../../src/mime/index.js';
import { matchesQuery } from '../../src/store/search-eval.js';
import type { SearchQuery } from '../../src/store/search-query.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import type { MessageRecord, UserMailbox } from '../../src/store/types.js';

const SUBJECTS = ['Invoice 42', '=?utf-8?q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=', 'ÉTÉ précoce', 'meeting', ''];
const FROMS = ['Ann <ann@example.com>', '"Xavier Y" <x@corp.test>', '=?iso-8859-1?q?J=F6rg?= <joerg@example.de>'];
const DATES = ['Mon, 3 Jun 2024 23:30:00 -0700', 'Tue, 1 Jul 2003 10:52:37 +0200', 'garbage', null];
const FLAGS = [[], ['\\Seen'], ['\\Flagged', '$Work'], ['\\Deleted', '\\Seen', 'todo']];

function raw(i: number): Buffer {
  const date = DATES[i % DATES.length];
  const subject = SUBJECTS[i % SUBJECTS.length]!;
  const cc = i % 3 === 0 ? 'Cc: bob@example.org\r\n' : '';
  const subjectLine = i % 7 === 6 ? '' : `Subject: ${subject}\r\n`;
  return Buffer.from(
    `From: ${FROMS[i % FROMS.length]}\r\nTo: alice@example.com\r\n${cc}${subjectLine}${date ? `Date: ${date}\r\n` : ''}` +
      `Content-Type: text/plain; charset=utf-8\r\n\r\nBody ${i} ${i % 2 ? 'Sommer in Köln' : 'winter'} ${'x'.repeat(i * 37)}\r\n`,
  );
}

const keyArb: fc.Arbitrary<SearchQuery> = fc.oneof(
  fc.constant<SearchQuery>({ type: 'all' }),
  fc.record({ type: fc.constant('uid' as const), ranges: fc.array(fc.tuple(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 30 })), { maxLength: 2 }) }),
  fc.record({ type: fc.constant('flag' as const), flag: fc.constantFrom('\\Seen', '\\seen', '\\Flagged', '$work', 'todo', '\\Draft'), set: fc.boolean() }),
  fc.record({
    type: fc.constant('header' as const),
    name: fc.constantFrom('From', 'subject', 'CC', 'to', 'bcc', 'Date', 'X-Missing'),
    value: fc.constantFrom('', 'ann', 'X', 'jörg', 'GRÜSSE', 'grüße', 'köln', 'été', 'example', 'invoice 4'),
  }),
  fc.record({ type: fc.constant('body' as const), value: fc.constantFrom('köln', 'WINTER', 'xxxx', 'nothing') }),
  fc.record({ type: fc.constant('text' as const), value: fc.constantFrom('ann@', 'sommer', 'alice') }),
  fc.record({ type: fc.constant('internaldate' as const), op: fc.constantFrom('before' as const, 'on' as const, 'since' as const), day: fc.constantFrom('2024-01-03', '2024-01-05', '2023-12-31') }),
  fc.record({ type: fc.constant('sentdate' as const), op: fc.constantFrom('before' as const, 'on' as const, 'since' as const), day: fc.constantFrom('2024-06-03', '2003-07-01', '2010-01-01') }),
  fc.record({ type: fc.constant('size' as const), op: fc.constantFrom('larger' as const, 'smaller' as const), octets: fc.integer({ min: 100, max: 1200 }) }),
  fc.record({ type: fc.constant('modseq' as const), min: fc.integer({ min: 1, max: 40 }) }),
);

const queryArb: fc.Arbitrary<SearchQuery> = fc.letrec<{ q: SearchQuery }>((tie) => ({
  q: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    keyArb,
    fc.record({ type: fc.constant('and' as const), of: fc.array(tie('q'), { maxLength: 3 }) }),
    fc.record({ type: fc.constant('or' as const), of: fc.tuple(tie('q'), tie('q')) }),
    fc.record({ type: fc.constant('not' as const), of: tie('q') }),
  ),
})).q;

describe('SqliteStore SEARCH agrees with matchesQuery', () => {
  const dir = mkdtempSync(join(tmpdir(), 'postroom-search-'));
  let store: SqliteStore;
  let u: UserMailbox;
  let mailboxId: string;
  const messages: Array<{ record: MessageRecord; raw: Buffer }> = [];

  before(async () => {
    store = await SqliteStore.open({ directory: dir });
    u = await store.open('alice');
    mailboxId = (await u.get('INBOX')).id;
    for (let i = 0; i < 28; i++) {
      const r = await u.append(mailboxId, { content: raw(i), flags: FLAGS[i % FLAGS.length], internalDate: new Date(Date.UTC(2024, 0, 1 + (i % 6), 23, 59)) });
      if (i % 5 === 0) await u.updateFlags(mailboxId, [r.uid], 'add', ['\\Answered']);
    }
    for (const record of await u.records(mailboxId, Array.from({ length: 40 }, (_, i) => i + 1))) {
      messages.push({ record, raw: await u.read(mailboxId, record.uid) });
    }
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('for random query trees', async () => {
    assert.equal(messages.length, 28);
    await fc.assert(
      fc.asyncProperty(queryArb, async (query) => {
        const expected = messages
          .filter((m) => matchesQuery(query, { record: m.record, raw: () => m.raw, structure: () => parseMessage(m.raw) }))
          .map((m) => m.record.uid);
        assert.deepEqual(await u.search(mailboxId, query), expected, JSON.stringify(query));
      }),
      { numRuns: 400, seed: 20240603 },
    );
  });
});
