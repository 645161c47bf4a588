/**
 * `npx tsx bench/lmtp-steps.ts [--mb 1] [--rounds 200]`: the CPU each step of an LMTP delivery
 * costs the event loop, per megabyte, each step alone in this process (no sockets, no other
 * sessions): smtp-server's DATA parser, the spool's CRLF/NUL/header pass, SHA-256, the copies,
 * the MIME parse for the index columns, and the file I/O calls. CPU is the main thread's own
 * (utime+stime of /proc/thread-self, 10 ms ticks, so each step runs long enough to be read),
 * which is what decides how many deliveries one event loop can take. Quiet or not, the shares
 * are what to read; absolute figures move with the machine.
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MessageSpool } from '../src/delivery/spool.js';
import { CrlfNormalizer } from '../src/store/line-ends.js';
import { deriveContent } from '../src/store/sqlite/message-writes.js';
import { installFastDataFeed } from '../src/lmtp/data-feed.js';
import { threadCpuUs } from './sieve/alternate.js';
import { BENCH_TMP } from './servers/common.js';
import { lazyRequire } from '../src/util/lazy-require.js';
import { ChunkChannel } from '../src/delivery/channel.js';
import { DeliveryPipeline } from '../src/delivery/pipeline.js';
import { SqliteStore } from '../src/store/sqlite/index.js';

const { values } = parseArgs({
  options: { mb: { type: 'string', default: '1' }, rounds: { type: 'string', default: '200' }, only: { type: 'string' } },
});
/** `--only delivery`: just the last step, a whole delivery (the one to compare before and after a change). */
const ONLY = values.only;
const SIZE = Number(values.mb) * 1024 * 1024;
const ROUNDS = Number(values.rounds);
const SOCKET_CHUNK = 64 * 1024;

/** The bench:lmtp message: plain text lines under a short header. */
function message(size: number): Buffer {
  const head = 'X-Bench: steps\r\nFrom: Bench <bench@bench.test>\r\nTo: users@bench.test\r\nSubject: delivery benchmark\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n';
  const line = 'The quick brown fox jumps over the lazy dog. 0123456789\r\n';
  return Buffer.from(head + line.repeat(Math.ceil((size - head.length) / line.length)));
}
const raw = message(SIZE);
const wire = Buffer.concat([raw, Buffer.from('.\r\n')]);
const chunksOf = (b: Buffer, n: number): Buffer[] => Array.from({ length: Math.ceil(b.length / n) }, (_, i) => b.subarray(i * n, (i + 1) * n));
const socketChunks = chunksOf(wire, SOCKET_CHUNK);
const bodyChunks = chunksOf(raw, SOCKET_CHUNK);

async function step(name: string, fn: () => unknown): Promise<void> {
  if (ONLY !== undefined && !name.includes(ONLY)) return;
  for (let i = 0; i < 5; i++) await fn(); // warm the JIT
  const cpu0 = threadCpuUs();
  const t0 = performance.now();
  for (let i = 0; i < ROUNDS; i++) await fn();
  const wall = ((performance.now() - t0) * 1000) / ROUNDS;
  const cpu = (threadCpuUs() - cpu0) / ROUNDS;
  const perMb = (us: number): string => (us / (SIZE / 2 ** 20)).toFixed(0).padStart(7);
  process.stdout.write(`${name.padEnd(58)} ${perMb(cpu)} µs/MB main-thread CPU ${perMb(wall)} µs/MB wall\n`);
}

const { SMTPStream } = lazyRequire<typeof import('smtp-server/lib/smtp-stream.js')>('smtp-server/lib/smtp-stream.js')();

/** smtp-server's DATA path: its parser fed the socket's chunks, the data stream read as the server reads it. */
async function smtpData(consume: (chunk: Buffer) => void, fast = false): Promise<void> {
  const parser = new SMTPStream();
  if (fast) installFastDataFeed(parser);
  parser.oncommand = () => undefined;
  const data = parser.startDataMode(Infinity) as NodeJS.ReadableStream;
  const reading = (async () => {
    for await (const chunk of data as AsyncIterable<Buffer>) consume(chunk);
  })();
  for (const c of socketChunks) {
    if (!parser.write(c)) await new Promise((r) => parser.once('drain', r));
  }
  await reading;
  parser.continue();
}

async function main(): Promise<void> {
  process.stdout.write(`message ${SIZE} bytes, ${ROUNDS} rounds per step, Node ${process.version}\n\n`);
  await step('smtp-server DATA parse + PassThrough, read by for-await', () => smtpData(() => undefined));
  await step('the same with data-feed.ts (indexOf scan, no join)', () => smtpData(() => undefined, true));
  await step('CrlfNormalizer.push per 64 KiB chunk (isCrlf scan)', () => {
    const n = new CrlfNormalizer();
    for (const c of bodyChunks) n.push(c);
  });
  await step('NUL check (chunk.includes(0)) per 64 KiB chunk', () => {
    for (const c of bodyChunks) c.includes(0);
  });
  await step('SHA-256 update per 64 KiB chunk', () => {
    const h = createHash('sha256');
    for (const c of bodyChunks) h.update(c);
    h.digest();
  });
  await step('Buffer.concat of the chunks (one copy of the message)', () => Buffer.concat(bodyChunks));
  await step('deriveContent: MIME parse + search + sort columns', () => deriveContent(raw));
  const dir = join(BENCH_TMP, 'lmtp-steps');
  rmSync(dir, { recursive: true, force: true });
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir, { recursive: true });
  await step('MessageSpool: write (to its file) + read back (content())', async () => {
    const spool = new MessageSpool({ memoryMax: 256 * 1024, maxSize: 64 * 2 ** 20, directory: dir });
    for (const c of bodyChunks) await spool.write(c);
    const content = spool.content(Buffer.from('Return-Path: <a@b>\r\n'));
    if (!Buffer.isBuffer(content)) for await (const _ of content) void _;
    await spool.release();
  });
  await step('temp file: open, 1 MiB writev, close, unlink', async () => {
    const path = join(dir, 'temp');
    const f = await open(path, 'w', 0o600);
    for (let i = 0; i < bodyChunks.length; i += 16) await f.writev(bodyChunks.slice(i, i + 16));
    await f.close();
    rmSync(path);
  });
  await wholeDelivery(dir);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * A whole live delivery, as src/lmtp/server.ts's receiveLive does it: the socket's chunks through
 * the DATA feed, the spool's checks, the channel, and DeliveryPipeline.startLive storing into a
 * SqliteStore (temp file, SHA-256, parse, install with its syncs, the COMMIT and its WAL sync).
 * One delivery at a time, so the CPU is this path's alone (the syncs wait, they cost no CPU).
 */
async function wholeDelivery(dir: string): Promise<void> {
  const store = await SqliteStore.open({ directory: join(dir, 'store') });
  const pipeline = new DeliveryPipeline({ store, auth: { authenticate: async () => null } });
  const recipient = await pipeline.resolve('user1@bench.test');
  let n = 0;
  await step('whole delivery: DATA feed, spool, startLive into SQLite', async () => {
    // Every message differs (its first line), as in bench:lmtp, so no body is found stored already.
    const first = Buffer.from(`X-Round: ${++n}`.padEnd(14, ' '));
    const chunks = socketChunks.map((c, i) => (i === 0 ? Buffer.concat([first, c.subarray(first.length)]) : c));
    const live = await pipeline.startLive('sender@bench.test', [recipient]);
    if (!live) throw new Error('no live delivery');
    const spool = new MessageSpool({ memoryMax: 256 * 1024, maxSize: 64 * 2 ** 20, directory: dir });
    const channel = new ChunkChannel();
    spool.forwardTo((chunk) => channel.push(chunk));
    const storing = live.store(channel, () => spool.size);
    const parser = new SMTPStream();
    installFastDataFeed(parser);
    parser.oncommand = () => undefined;
    const data = parser.startDataMode(Infinity) as NodeJS.ReadableStream;
    const reading = (async () => {
      for await (const chunk of data as AsyncIterable<Buffer>) await spool.write(chunk);
      channel.end();
    })();
    for (const c of chunks) if (!parser.write(c)) await new Promise((r) => parser.once('drain', r));
    await reading;
    parser.continue();
    const outcome = await storing;
    if (!outcome.ok) throw new Error('not delivered');
    await spool.release();
  });
  await store.close();
}

await main();
