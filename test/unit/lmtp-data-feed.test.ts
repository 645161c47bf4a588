/**
 * src/lmtp/data-feed.ts against smtp-server's own DATA parser: the same bytes, cut into chunks
 * every way, must give the same message content, byte count, end of data and following commands.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type { SMTPStream as SMTPStreamType } from 'smtp-server/lib/smtp-stream.js';
import { installFastDataFeed } from '../../src/lmtp/data-feed.js';

const { SMTPStream } = createRequire(import.meta.url)('smtp-server/lib/smtp-stream.js') as { SMTPStream: typeof SMTPStreamType };

interface Seen {
  data: string;
  dataBytes: number;
  ended: boolean;
  commands: string[];
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

async function run(fast: boolean, chunks: Buffer[]): Promise<Seen> {
  const parser = new SMTPStream();
  if (fast) assert.equal(installFastDataFeed(parser), true, 'the parser has what the fast feed needs');
  const commands: string[] = [];
  parser.oncommand = (command: Buffer, callback?: () => void) => {
    commands.push(command.toString('latin1'));
    callback?.();
  };
  const stream = parser.startDataMode();
  const parts: Buffer[] = [];
  let ended = false;
  stream.on('data', (c: Buffer) => parts.push(c));
  stream.on('end', () => {
    ended = true;
    parser.continue();
  });
  for (const chunk of chunks) {
    await new Promise<void>((resolve, reject) => parser.write(chunk, (err) => (err ? reject(err) : resolve())));
    await settle();
  }
  await settle();
  return { data: Buffer.concat(parts).toString('latin1'), dataBytes: parser.dataBytes, ended, commands };
}

async function same(bytes: Buffer, cuts: number[], what: string): Promise<void> {
  const chunks: Buffer[] = [];
  let from = 0;
  for (const c of [...cuts, bytes.length]) {
    if (c > from) chunks.push(bytes.subarray(from, c));
    from = Math.max(from, c);
  }
  const want = await run(false, chunks);
  const got = await run(true, chunks);
  assert.deepEqual(got, want, `${what} cut at ${cuts.join(',')}`);
}

const SAMPLES = [
  'a\r\n.\r\nNOOP\r\n',
  '.\r\nNOOP\r\n',
  '..\r\n.\r\nNOOP\r\n',
  '..a\r\n..\r\n.\r\nNOOP\r\n',
  'a\r\n.b\r\n..c\r\n...\r\n.\r\nNOOP\r\n',
  'a\n..b\n.\n.\r\n.\r\nNOOP\r\n',
  '\r\n.\r\nNOOP\r\n',
  'x\r\n..\r\n..\r\n.\r\nRSET\r\nNOOP\r\n',
  'line one\r\nline two\r\n\r\n..dots\r\n.\r\n',
  'abcd\r\n.\r',
  'x\r.\r\n\n.\r\n\r\n.\r\nNOOP\r\n',
  // Four or more content bytes before a bare LF and a dot: a cut there carries nothing (data-feed.ts).
  'abcdefg\n..x\r\n.\r\nNOOP\r\n',
  'first\r\nabcdef\n.\r\n.\r\nNOOP\r\n',
  'line\r\nwxyz\n..\r\n.\r\nNOOP\r\n',
];

test('every two- and three-way cut of tricky DATA gives what smtp-server gives', async () => {
  for (const text of SAMPLES) {
    const bytes = Buffer.from(text, 'latin1');
    for (let i = 0; i <= bytes.length; i++) {
      await same(bytes, [i], JSON.stringify(text));
      for (let j = i + 1; j < bytes.length; j += 2) await same(bytes, [i, j], JSON.stringify(text));
    }
  }
});

test('random DATA of lines, dots and bare line ends, cut at random, gives what smtp-server gives', async () => {
  // A fixed generator, so a failure can be repeated.
  let seed = 15;
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pieces = ['a', 'bc', '.', '..', '\r', '\n', '\r\n', '\r\n.', '\r\n..', '\r\n.\r', 'xyz\r\n', 'abcd', '\n..', '\n.'];
  for (let round = 0; round < 1000; round++) {
    let text = '';
    for (let k = 0, n = 1 + next(30); k < n; k++) text += pieces[next(pieces.length)];
    const bytes = Buffer.from(`${text}\r\n.\r\nNOOP\r\n`, 'latin1');
    const cuts = Array.from({ length: 1 + next(12) }, () => next(bytes.length + 1)).sort((a, b) => a - b);
    await same(bytes, cuts, JSON.stringify(text));
  }
});

test('a large message in socket-sized chunks: the content, dot-unstuffed, and the bytes counted', async () => {
  const line = 'The quick brown fox jumps over the lazy dog.\r\n';
  const body = `${line.repeat(3000)}.leading dot\r\n${line.repeat(3000)}`;
  const wire = Buffer.from(`${body.replace(/\r\n\./g, '\r\n..')}.\r\nNOOP\r\n`, 'latin1');
  const chunks: number[] = [];
  for (let at = 65_536; at < wire.length; at += 65_536) chunks.push(at);
  await same(wire, chunks, 'large');
  const got = await run(true, [wire]);
  assert.equal(got.data, body);
  assert.equal(got.dataBytes, Buffer.byteLength(body, 'latin1'));
  assert.deepEqual(got.commands, ['NOOP']);
});
