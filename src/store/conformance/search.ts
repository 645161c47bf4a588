/** SEARCH over the storage-neutral query tree (RFC 3501 §6.4.4): each key and their nesting. */
import assert from 'node:assert/strict';
import type { SearchQuery, UserMailbox } from '../types.js';
import type { TestEnv, Register } from './harness.js';
import { encodedMessage, simpleMessage } from './fixtures.js';

interface Corpus {
  a: UserMailbox;
  box: string;
  /** UIDs by short name. */
  u: Record<'plain' | 'encoded' | 'flagged' | 'big' | 'late', number>;
}

/** Five messages with distinct, known properties; every search below is checked against them. */
async function corpus(env: TestEnv): Promise<Corpus> {
  const a = await env.open();
  const box = (await a.create('search')).id;
  const add = async (content: Buffer, flags: string[], iso: string) =>
    (await a.append(box, { content, flags, internalDate: new Date(iso) })).uid;
  const plain = await add(simpleMessage({ subject: 'Lunch plans', body: 'Shall we meet at noon?' }), ['\\Seen'], '2024-05-01T10:00:00Z');
  const encoded = await add(encodedMessage, ['$Important'], '2024-05-02T23:59:59Z');
  const flagged = await add(
    simpleMessage({ from: 'Carol <carol@example.com>', subject: 'Report', date: 'Wed, 1 May 2024 01:00:00 +1400', body: 'numbers' }),
    ['\\Flagged', '\\Seen'],
    '2024-05-03T00:00:00Z',
  );
  const big = await add(simpleMessage({ subject: 'Big one', body: 'x'.repeat(5000), extra: ['Cc: dave@example.com'] }), [], '2024-05-04T12:00:00Z');
  const late = await add(simpleMessage({ subject: 'Late', date: 'not a date at all' }), ['\\Deleted'], '2024-06-01T00:00:00Z');
  return { a, box, u: { plain, encoded, flagged, big, late } };
}

export function searchTests(test: Register): void {
  test.group('search', () => {
    test('each key type selects exactly the expected messages', async (env) => {
      const { a, box, u } = await corpus(env);
      const all = [u.plain, u.encoded, u.flagged, u.big, u.late];
      const cases: Array<[string, SearchQuery, number[]]> = [
        ['all', { type: 'all' }, all],
        ['uid range', { type: 'uid', ranges: [[u.encoded, u.flagged]] }, [u.encoded, u.flagged]],
        // Thousands of ranges ("UID 1,3,5,…", or an UPDATE context checking scattered changes).
        ['uid set of 5,000 ranges', { type: 'uid', ranges: Array.from({ length: 5000 }, (_, i): [number, number] => [u.plain + 3 * i, u.plain + 3 * i]) }, [u.plain, u.big]],
        ['unseen in a uid set of 5,000 ranges', { type: 'and', of: [{ type: 'flag', flag: '\\Seen', set: false }, { type: 'uid', ranges: Array.from({ length: 5000 }, (_, i): [number, number] => [u.plain + 3 * i, u.plain + 3 * i]) }] }, [u.big]],
        ['uid ranges, reversed bounds', { type: 'uid', ranges: [[u.late, u.late], [u.encoded, u.plain]] }, [u.plain, u.encoded, u.late]],
        ['uid: no ranges', { type: 'uid', ranges: [] }, []],
        ['flag set', { type: 'flag', flag: '\\Seen', set: true }, [u.plain, u.flagged]],
        ['flag unset', { type: 'flag', flag: '\\Seen', set: false }, [u.encoded, u.big, u.late]],
        ['keyword, any case', { type: 'flag', flag: '$important', set: true }, [u.encoded]],
        ['header from', { type: 'header', name: 'From', value: 'carol@EXAMPLE' }, [u.flagged]],
        ['header decoded (RFC 2047)', { type: 'header', name: 'from', value: 'jürgen müller' }, [u.encoded]],
        ['subject decoded', { type: 'header', name: 'Subject', value: 'GRÜßE AUS' }, [u.encoded]],
        ['header empty value = field exists', { type: 'header', name: 'cc', value: '' }, [u.big]],
        ['header any field', { type: 'header', name: 'X-Tracking', value: 'ALPHA' }, [u.encoded]],
        ['body quoted-printable, charset', { type: 'body', value: 'STRAßE IST' }, [u.encoded]],
        ['body base64', { type: 'body', value: 'ZEBRACORN' }, [u.encoded]],
        ['body does not search headers', { type: 'body', value: 'Lunch' }, []],
        ['body ignores the multipart preamble', { type: 'body', value: 'preamble' }, []],
        ['text: header', { type: 'text', value: 'lunch PLANS' }, [u.plain]],
        ['text: body', { type: 'text', value: 'noon' }, [u.plain]],
        ['text: header field name too', { type: 'text', value: 'x-tracking' }, [u.encoded]],
        ['internaldate before', { type: 'internaldate', op: 'before', day: '2024-05-02' }, [u.plain]],
        ['internaldate on (UTC day)', { type: 'internaldate', op: 'on', day: '2024-05-02' }, [u.encoded]],
        ['internaldate since', { type: 'internaldate', op: 'since', day: '2024-05-03' }, [u.flagged, u.big, u.late]],
        // RFC 5032 WITHIN: to the second, both ends inclusive.
        ['arrival until', { type: 'arrival', op: 'until', time: Date.parse('2024-05-02T23:59:59.999Z') }, [u.plain, u.encoded]],
        ['arrival from', { type: 'arrival', op: 'from', time: Date.parse('2024-05-02T23:59:59Z') }, [u.encoded, u.flagged, u.big, u.late]],
        ['arrival from, a second later', { type: 'arrival', op: 'from', time: Date.parse('2024-05-03T00:00:00Z') }, [u.flagged, u.big, u.late]],
        ['not arrival until', { type: 'not', of: { type: 'arrival', op: 'until', time: Date.parse('2024-05-03T00:00:00Z') } }, [u.big, u.late]],
        ['sentdate on: the Date: header own day, timezone ignored', { type: 'sentdate', op: 'on', day: '2024-05-01' }, [u.flagged]],
        ['sentdate on: -0700 late evening stays that day', { type: 'sentdate', op: 'on', day: '2003-07-01' }, [u.encoded]],
        ['sentdate before', { type: 'sentdate', op: 'before', day: '2003-07-01' }, [u.plain, u.big]],
        ['sentdate since', { type: 'sentdate', op: 'since', day: '2003-07-01' }, [u.encoded, u.flagged]],
        ['size larger', { type: 'size', op: 'larger', octets: 5000 }, [u.big]],
        ['size smaller', { type: 'size', op: 'smaller', octets: 400 }, [u.plain, u.flagged, u.late]],
      ];
      for (const [what, query, expected] of cases) {
        assert.deepEqual(await a.search(box, query), expected, what);
      }
    });

    test('and / or / not nest', async (env) => {
      const { a, box, u } = await corpus(env);
      const seen: SearchQuery = { type: 'flag', flag: '\\Seen', set: true };
      const cases: Array<[string, SearchQuery, number[]]> = [
        ['empty and = all', { type: 'and', of: [] }, [u.plain, u.encoded, u.flagged, u.big, u.late]],
        ['and', { type: 'and', of: [seen, { type: 'header', name: 'subject', value: 'report' }] }, [u.flagged]],
        ['or', { type: 'or', of: [{ type: 'body', value: 'zebracorn' }, { type: 'size', op: 'larger', octets: 5000 }] }, [u.encoded, u.big]],
        ['not', { type: 'not', of: seen }, [u.encoded, u.big, u.late]],
        [
          'not (or (and …) …)',
          {
            type: 'not',
            of: {
              type: 'or',
              of: [
                { type: 'and', of: [seen, { type: 'text', value: 'noon' }] },
                { type: 'flag', flag: '\\Deleted', set: true },
              ],
            },
          },
          [u.encoded, u.flagged, u.big],
        ],
        ['double not', { type: 'not', of: { type: 'not', of: { type: 'uid', ranges: [[u.big, u.big]] } } }, [u.big]],
      ];
      for (const [what, query, expected] of cases) assert.deepEqual(await a.search(box, query), expected, what);
    });

    test('modseq: min is inclusive', async (env) => {
      const { a, box, u } = await corpus(env);
      const { changed } = await a.updateFlags(box, [u.big], 'add', ['$Touched']);
      const modseq = changed[0]!.modseq;
      assert.deepEqual(await a.search(box, { type: 'modseq', min: modseq }), [u.big]);
      assert.deepEqual(await a.search(box, { type: 'modseq', min: modseq + 1 }), []);
      assert.ok((await a.search(box, { type: 'modseq', min: 1 })).length === 5);
    });

    test('queries of thousands of keys and long UID sets are answered, not refused', async (env) => {
      const { a, box, u } = await corpus(env);
      const all = [u.plain, u.encoded, u.flagged, u.big, u.late];
      const absent = (i: number): SearchQuery => ({ type: 'not', of: { type: 'header', name: 'Subject', value: `absent ${i}` } });
      const wide: SearchQuery = { type: 'and', of: Array.from({ length: 3000 }, (_, i) => absent(i)) };
      assert.deepEqual(await a.search(box, wide), all, '3,000 ANDed keys');
      // Nested ORs, each around a wide AND: deep and wide at once.
      let deep: SearchQuery = { type: 'flag', flag: '\\Flagged', set: true };
      for (let level = 0; level < 60; level++) deep = { type: 'or', of: [{ type: 'and', of: [absent(level), { type: 'size', op: 'smaller', octets: 1 }] }, deep] };
      assert.deepEqual(await a.search(box, deep), [u.flagged], '60 nested ORs');
      const ranges: Array<[number, number]> = Array.from({ length: 500 }, (_, i) => [u.late + 2 * i + 10, u.late + 2 * i + 10]);
      ranges.push([u.encoded, u.encoded]);
      assert.deepEqual(await a.search(box, { type: 'uid', ranges }), [u.encoded], 'a UID set of 501 ranges');
      const mixed: SearchQuery = { type: 'and', of: [...Array.from({ length: 800 }, (_, i) => absent(i)), { type: 'body', value: 'numbers' }] };
      assert.deepEqual(await a.search(box, mixed), [u.flagged], 'keys that compile and one that does not');
    });

    test('progress (optional to call): ascending UIDs of the mailbox, never past the last one; the same answer', async (env) => {
      const a = await env.open();
      const box = (await a.create('progress')).id;
      const uids: number[] = [];
      // More than a batch of 64 (search-run.ts) and a first SQLite page of 256.
      for (let i = 0; i < 300; i++) uids.push((await a.append(box, { content: simpleMessage({ subject: `m${i}`, body: i % 7 === 0 ? 'needle' : 'hay' }), flags: [] })).uid);
      const heard: number[] = [];
      const found = await a.search(box, { type: 'body', value: 'needle' }, { progress: (uid) => heard.push(uid) });
      assert.deepEqual(found, uids.filter((_, i) => i % 7 === 0));
      assert.deepEqual(heard, [...heard].sort((x, y) => x - y), 'ascending');
      for (const uid of heard) assert.ok(uids.includes(uid), `${uid} is a UID of the mailbox`);
    });

    test('results follow flag changes and expunges', async (env) => {
      const { a, box, u } = await corpus(env);
      await a.updateFlags(box, [u.big], 'add', ['\\Seen']);
      assert.deepEqual(await a.search(box, { type: 'flag', flag: '\\Seen', set: true }), [u.plain, u.flagged, u.big]);
      await a.expunge(box);
      assert.deepEqual(await a.search(box, { type: 'all' }), [u.plain, u.encoded, u.flagged, u.big]);
    });
  });
}
