import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeResponse, encodeValue, astring, keptEncoding, viewFetchLine, FetchLineWriter, type EncodedChunk } from '../../src/imap/wire/encoder.js';
import { atom, literal, type ImapValue, type Token } from '../../src/imap/wire/types.js';
import { parseCommand } from '../../src/imap/wire/tokenizer.js';
import { CommandFramer } from '../../src/imap/wire/framer.js';
import { DEFAULT_IMAP_LIMITS } from '../../src/imap/limits.js';

async function bytes(chunks: EncodedChunk[]): Promise<Buffer> {
  const out: Buffer[] = [];
  for (const c of chunks) {
    if (Buffer.isBuffer(c)) out.push(c);
    else {
      let n = 0;
      for await (const b of c.stream()) {
        out.push(b);
        n += b.length;
      }
      assert.equal(n, c.size, 'stream delivers its announced size');
    }
  }
  return Buffer.concat(out);
}
const text = (chunks: EncodedChunk[]): string => {
  assert.ok(chunks.every((c) => Buffer.isBuffer(c)));
  return Buffer.concat(chunks as Buffer[]).toString('latin1');
};

test('values', () => {
  const table: Array<[ImapValue, string]> = [
    [null, 'NIL'],
    [0, '0'],
    [4294967295, '4294967295'],
    [12345678901234567890n, '12345678901234567890'],
    [atom('\\Seen'), '\\Seen'],
    ['INBOX', '"INBOX"'],
    ['', '""'],
    ['say "hi" \\o/', '"say \\"hi\\" \\\\o/"'],
    ['two\r\nlines', '{10}\r\ntwo\r\nlines'],
    ['nul\0', '{4}\r\nnul\0'],
    ['Entwürfe', `{9}\r\n${Buffer.from('Entwürfe').toString('latin1')}`],
    [Buffer.from([0x41, 0xff]), '{2}\r\nA\xff'],
    ['x'.repeat(1025), `{1025}\r\n${'x'.repeat(1025)}`],
    ['x'.repeat(1024), `"${'x'.repeat(1024)}"`],
    [literal(Buffer.from('abc')), '{3}\r\nabc'],
    [literal(Buffer.from('a\0c'), undefined, true), '~{3}\r\na\0c'],
    [[atom('FLAGS'), [atom('\\Seen'), atom('\\Answered')], atom('UID'), 7], '(FLAGS (\\Seen \\Answered) UID 7)'],
    [[], '()'],
    [[null, [null, []]], '(NIL (NIL ()))'],
  ];
  for (const [v, want] of table) assert.equal(text(encodeValue(v)), want, String(v));
});

test('UTF8=ACCEPT lets valid UTF-8 go quoted, but not invalid bytes', () => {
  assert.equal(Buffer.concat(encodeValue('Entwürfe', { utf8: true }) as Buffer[]).toString('utf8'), '"Entwürfe"');
  assert.equal(text(encodeValue(Buffer.from([0x41, 0xff]), { utf8: true })), '{2}\r\nA\xff');
});

test('responses', () => {
  assert.equal(text(encodeResponse({ type: 'data', values: [3, atom('EXISTS')] })), '* 3 EXISTS\r\n');
  assert.equal(
    text(encodeResponse({ type: 'data', values: [atom('LIST'), [atom('\\Noselect')], '/', astring('foo bar')] })),
    '* LIST (\\Noselect) "/" "foo bar"\r\n',
  );
  assert.equal(
    text(encodeResponse({ type: 'status', tag: '*', status: 'OK', code: { name: 'UIDVALIDITY', args: [3857529045] }, text: 'UIDs valid' })),
    '* OK [UIDVALIDITY 3857529045] UIDs valid\r\n',
  );
  assert.equal(
    text(encodeResponse({ type: 'status', tag: '*', status: 'OK', code: { name: 'PERMANENTFLAGS', args: [[atom('\\Deleted'), atom('\\Seen'), atom('\\*')]] }, text: 'Limited' })),
    '* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n',
  );
  assert.equal(text(encodeResponse({ type: 'status', tag: 'A142', status: 'OK', code: { name: 'READ-WRITE' }, text: 'SELECT completed' })), 'A142 OK [READ-WRITE] SELECT completed\r\n');
  assert.equal(text(encodeResponse({ type: 'status', tag: 'a', status: 'NO', text: 'bad\r\n* injected' })), 'a NO bad * injected\r\n');
  assert.equal(text(encodeResponse({ type: 'continuation', text: 'Ready for additional command text' })), '+ Ready for additional command text\r\n');
  assert.equal(text(encodeResponse({ type: 'continuation', text: '' })), '+ \r\n');
});

test('small pieces merge into one buffer; streams and big buffers stay separate', async () => {
  const big = Buffer.alloc(100_000, 0x62);
  async function* gen(): AsyncIterable<Buffer> {
    yield Buffer.from('hello ');
    yield Buffer.from('world');
  }
  const chunks = encodeResponse({
    type: 'data',
    values: [1, atom('FETCH'), [atom('UID'), 9, atom('BODY[]'), literal(gen, 11), atom('BODY[1]'), literal(big)]],
  });
  assert.equal(chunks.length, 5);
  assert.equal((chunks[0] as Buffer).toString(), '* 1 FETCH (UID 9 BODY[] {11}\r\n');
  assert.ok(!Buffer.isBuffer(chunks[1]) && chunks[1]!.size === 11);
  assert.equal(chunks[3], big, 'the large buffer itself, not a copy');
  const all = await bytes(chunks);
  assert.equal(all.toString('latin1'), `* 1 FETCH (UID 9 BODY[] {11}\r\nhello world BODY[1] {100000}\r\n${'b'.repeat(100_000)})\r\n`);
});

test('astring picks atom or string', () => {
  assert.deepEqual(astring('INBOX'), atom('INBOX'));
  assert.deepEqual(astring('a/b.c-d'), atom('a/b.c-d'));
  for (const s of ['', 'NIL', 'nil', 'a b', 'a*', 'a%', 'a]', 'a(', 'q"', 'b\\', 'Entwürfe', 'x{1}']) {
    assert.equal(astring(s), s, s);
  }
});

/** Encodes values as the arguments of a command and reads them back through framer + tokenizer. */
async function roundTrip(values: ImapValue[]): Promise<Token[]> {
  const wire = await bytes(encodeValue([atom('X'), ...values]));
  // Drop the list's parentheses: "(X a b)" → "t X a b".
  const body = Buffer.concat([Buffer.from('t '), wire.subarray(1, wire.length - 1), Buffer.from('\r\n')]);
  const framer = new CommandFramer(DEFAULT_IMAP_LIMITS);
  framer.push(body);
  const r = await framer.nextCommand(() => null);
  assert.ok(r?.type === 'command');
  const parsed = parseCommand(r.command, DEFAULT_IMAP_LIMITS);
  assert.equal(parsed.name, 'X');
  return parsed.args;
}

test('round trip: encode values, frame and tokenize them back', async () => {
  const samples = ['plain', 'with space', 'q"uote\\', 'multi\r\nline', 'Entwürfe', '', 'x'.repeat(3000), 'NIL'];
  const tokens = await roundTrip(samples);
  assert.deepEqual(tokens.map((t) => (t.type === 'string' ? t.value.toString('utf8') : null)), samples);
  const nested = await roundTrip([[atom('\\Seen'), [1, 'two', null]], literal(Buffer.from([0, 1, 2]), undefined, true)]);
  assert.deepEqual(nested, [
    { type: 'list', items: [{ type: 'atom', value: '\\Seen' }, { type: 'list', items: [{ type: 'atom', value: '1' }, { type: 'string', value: Buffer.from('two'), literal: false }, { type: 'atom', value: 'NIL' }] }] },
    { type: 'string', value: Buffer.from([0, 1, 2]), literal: true, binary: true },
  ]);
});

test('viewFetchLine writes the same bytes as encodeResponse for UID/FLAGS/MODSEQ fetch responses', async () => {
  const fc = (await import('fast-check')).default;
  const flagAtom = fc.oneof(
    fc.constantFrom('\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft', '\\Recent'),
    fc.stringMatching(/^[A-Za-z0-9$_.,+-]{1,12}$/),
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 2 ** 32 - 1 }),
      fc.integer({ min: 1, max: 2 ** 32 - 1 }),
      fc.array(flagAtom, { maxLength: 6 }),
      fc.option(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), { nil: undefined }),
      fc.constantFrom<Array<'UID' | 'FLAGS'>>(['UID', 'FLAGS'], ['FLAGS', 'UID'], ['FLAGS']),
      (seq, uid, flags, modseq, order) => {
        const values: ImapValue[] = [];
        for (const item of order) values.push(atom(item), item === 'UID' ? uid : flags.map((f) => atom(f)));
        if (modseq !== undefined) values.push(atom('MODSEQ'), [modseq]);
        const expected = Buffer.concat(encodeResponse({ type: 'data', values: [seq, atom('FETCH'), values] }) as Buffer[]).toString('utf8');
        assert.equal(viewFetchLine(seq, order, uid, flags, modseq), expected);
      },
    ),
    { numRuns: 2000 },
  );
});

test('FetchLineWriter writes, for a run of messages, exactly the bytes of viewFetchLine for each', async () => {
  const fc = (await import('fast-check')).default;
  // 8-bit keywords too: a store may hold whatever it was given, and both must write its UTF-8.
  const flagAtom = fc.oneof(
    fc.constantFrom('\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft', '\\Recent', 'k\u00e9y', 'x'.repeat(40)),
    fc.stringMatching(/^[A-Za-z0-9$_.,+-]{1,12}$/),
  );
  const line = fc.record({
    seq: fc.integer({ min: 1, max: 2 ** 32 - 1 }),
    uid: fc.integer({ min: 1, max: 2 ** 32 - 1 }),
    flags: fc.array(flagAtom, { maxLength: 6 }),
    modseq: fc.option(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), { nil: undefined }),
    order: fc.constantFrom<Array<'UID' | 'FLAGS'>>(['UID', 'FLAGS'], ['FLAGS', 'UID'], ['FLAGS'], ['UID']),
    uidOnly: fc.boolean(),
  });
  fc.assert(
    // Up to 600 lines: past the 16 KB the scratch space starts with, so its growth is covered.
    fc.property(fc.array(line, { maxLength: 600 }), (lines) => {
      const w = new FetchLineWriter();
      let expected = '';
      for (const l of lines) {
        w.line(l.seq, l.order, l.uid, l.flags, l.modseq, l.uidOnly);
        expected += viewFetchLine(l.seq, l.order, l.uid, l.flags, l.modseq, l.uidOnly);
      }
      const chunks = w.done();
      assert.ok(chunks.length <= 1, 'one Buffer for the run');
      assert.equal(Buffer.concat(chunks).toString('utf8'), expected);
      assert.deepEqual(Buffer.concat(chunks), Buffer.from(expected, 'utf8'));
    }),
    { numRuns: 300 },
  );
});

test('a string encodes to the same bytes as its UTF-8 Buffer, with and without UTF8=ACCEPT', async () => {
  const fc = (await import('fast-check')).default;
  // Mostly the 7-bit text the fast path takes, with quotes, backslashes, CR/LF/NUL, 8-bit
  // characters and lengths around the quoted limit mixed in.
  const piece = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom('"', '\\', '\r', '\n', '\0', 'é', '日本', '\u{1F600}', '\x7f', '\x01'),
    fc.constantFrom('a'.repeat(1023), 'a'.repeat(1024), 'a'.repeat(1025)),
  );
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 6 }).map((parts) => parts.join('')), fc.boolean(), (s, utf8) => {
      const viaString = Buffer.concat(encodeValue([s, 1, s], { utf8 }) as Buffer[]);
      const viaBytes = Buffer.concat(encodeValue([Buffer.from(s, 'utf8'), 1, Buffer.from(s, 'utf8')], { utf8 }) as Buffer[]);
      assert.deepEqual(viaString, viaBytes);
    }),
    { numRuns: 3000 },
  );
});

test('a kept value of 7-bit bytes keeps them for both UTF-8 forms and lets its tree go; one with 8-bit bytes keeps its tree for the other form', async () => {
  const ascii: ImapValue = ['Sat, 5 Dec 2026', 'plain "quoted"', [[null, null, 'a', 'example.com']], null, 42, atom('NIL'), Buffer.from('x\r\ny')];
  const eight: ImapValue = ['Grüße', Buffer.from([0x61, 0xe9])];
  for (const [tree, dropped] of [
    [ascii, true],
    [eight, false],
  ] as const) {
    for (const first of [false, true]) {
      const kept = keptEncoding(tree);
      const direct = (utf8: boolean): string => text(encodeValue(tree, { utf8 }));
      assert.equal(text(encodeValue(kept, { utf8: first })), direct(first));
      assert.equal(kept.items.length === 0, dropped, `tree ${dropped ? 'dropped' : 'kept'} after the first write`);
      for (const utf8 of [!first, first, !first]) assert.equal(text(encodeValue(kept, { utf8 })), direct(utf8), `utf8=${utf8} after utf8=${first}`);
    }
  }
});

test('a kept value writes the bytes of its tree, in each UTF-8 form, again and again, and inside a large answer', async () => {
  const tree: ImapValue = ['Sat, 5 Dec 2026', 'Grüße "quoted"', [[null, null, 'a', 'example.com']], null, literal(Buffer.from('x\r\ny')), 42, atom('NIL')];
  const kept = keptEncoding(tree);
  for (const utf8 of [false, true, false, true]) {
    const plainly = await bytes(encodeResponse({ type: 'data', values: [1, atom('FETCH'), [atom('ENVELOPE'), tree]] }, { utf8 }));
    for (let i = 0; i < 2; i++) {
      const got = await bytes(encodeResponse({ type: 'data', values: [1, atom('FETCH'), [atom('ENVELOPE'), kept]] }, { utf8 }));
      assert.equal(got.toString('latin1'), plainly.toString('latin1'), `utf8=${utf8}, write ${i + 1}`);
    }
  }
  // First written behind a large Buffer (which goes out as a chunk of its own) and then alone.
  const fresh = keptEncoding(tree);
  const big = Buffer.alloc(20_000, 0x61);
  const withBig = await bytes(encodeResponse({ type: 'data', values: [literal(big), fresh, fresh] }));
  const expected = await bytes(encodeResponse({ type: 'data', values: [literal(big), tree, tree] }));
  assert.equal(withBig.toString('latin1'), expected.toString('latin1'));
  assert.equal(text(encodeValue(fresh)), text(encodeValue(tree)));
  // A tree that goes out in pieces (a large literal inside) is written the long way every time.
  const pieces = keptEncoding(['a', literal(big), 'b']);
  for (let i = 0; i < 2; i++) assert.equal((await bytes(encodeValue(pieces))).toString('latin1'), (await bytes(encodeValue(['a', literal(big), 'b']))).toString('latin1'));
});

test('FetchLineWriter refuses a number that is not a safe non-negative integer, as the general encoder does', () => {
  for (const bad of [2 ** 60, 1e21, -1, 1.5]) {
    assert.throws(() => new FetchLineWriter().line(1, ['FLAGS'], 7, ['\\Seen'], bad), RangeError, String(bad));
  }
  // The writer after a refused number starts clean.
  const w = new FetchLineWriter();
  w.line(2, ['UID', 'FLAGS'], 9, ['\\Seen'], 2 ** 53 - 1);
  assert.equal(Buffer.concat(w.done()).toString('utf8'), viewFetchLine(2, ['UID', 'FLAGS'], 9, ['\\Seen'], 2 ** 53 - 1));
});
