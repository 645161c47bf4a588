import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandFramer, FrameTooLongError, type FrameResult, type LiteralGate, type LiteralRequest } from '../../src/imap/wire/framer.js';
import { DEFAULT_IMAP_LIMITS, type ImapLimits } from '../../src/imap/limits.js';
import { servedClock } from '../helpers/served-time.js';

const limits = (over: Partial<ImapLimits> = {}): ImapLimits => ({ ...DEFAULT_IMAP_LIMITS, ...over });
const accept: LiteralGate = () => null;
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function literalText(r: FrameResult | null): { text: string[]; literals: string[] } {
  assert.ok(r && r.type === 'command', `expected a command, got ${JSON.stringify(r)}`);
  return { text: r.command.text, literals: r.command.literals.map((l) => Buffer.concat(l).toString('latin1')) };
}

test('one line, CRLF and bare LF', async () => {
  const f = new CommandFramer(limits());
  f.push(Buffer.from('a1 NOOP\r\na2 CAPABILITY\nrest'));
  assert.deepEqual(literalText(await f.nextCommand(accept)), { text: ['a1 NOOP'], literals: [] });
  assert.deepEqual(literalText(await f.nextCommand(accept)), { text: ['a2 CAPABILITY'], literals: [] });
  assert.equal(f.buffered, 4);
  const pending = f.nextCommand(accept);
  f.end();
  assert.equal(await pending, null);
});

test('command size counts line ends and literal bytes', async () => {
  const f = new CommandFramer(limits());
  f.push(Buffer.from('a LOGIN {3}\r\nbob pw\r\n'));
  const r = await f.nextCommand(accept);
  assert.ok(r && r.type === 'command');
  assert.equal(r.command.size, 'a LOGIN {3}\r\nbob pw\r\n'.length);
});

const WIRE = 'A003 APPEND saved-messages (\\Seen) {10}\r\n0123456789 {3+}\r\nabc ~{2}\r\n\r\n "{5}"\r\nA004 NOOP\r\n';
const EXPECTED = {
  text: ['A003 APPEND saved-messages (\\Seen) {10}', ' {3+}', ' ~{2}', ' "{5}"'],
  literals: ['0123456789', 'abc', '\r\n'],
};

test('literals split at every byte position', async () => {
  const bytes = Buffer.from(WIRE, 'latin1');
  for (let cut = 0; cut <= bytes.length; cut++) {
    const f = new CommandFramer(limits());
    const requests: LiteralRequest[] = [];
    const first = f.nextCommand((req) => {
      requests.push(req);
      return null;
    });
    f.push(bytes.subarray(0, cut));
    await tick();
    f.push(bytes.subarray(cut));
    assert.deepEqual(literalText(await first), EXPECTED, `cut at ${cut}`);
    assert.deepEqual(literalText(await f.nextCommand(accept)), { text: ['A004 NOOP'], literals: [] });
    assert.deepEqual(
      requests.map((r) => [r.size, r.nonSync, r.binary]),
      [[10, false, false], [3, true, false], [2, false, true]],
    );
    assert.ok(requests[0]!.firstLine.startsWith('A003 APPEND'));
  }
});

test('every byte in its own chunk: the literal comes out whole, its bytes copied together (not a Buffer per byte)', async () => {
  const f = new CommandFramer(limits());
  for (const b of Buffer.from(WIRE, 'latin1')) f.push(Buffer.from([b]));
  const r = await f.nextCommand(accept);
  assert.deepEqual(literalText(r), EXPECTED);
  assert.ok(r?.type === 'command' && r.command.literals[0]!.length === 1);
});

test('gate is consulted before the literal bytes are read; the gate sees the state lazily', async () => {
  const f = new CommandFramer(limits());
  const order: string[] = [];
  f.push(Buffer.from('a APPEND x {4}\r\n'));
  const r = f.nextCommand(async (req) => {
    order.push(`gate ${req.size} buffered=${f.buffered}`);
    f.push(Buffer.from('body\r\n'));
    return null;
  });
  assert.deepEqual(literalText(await r), { text: ['a APPEND x {4}', ''], literals: ['body'] });
  assert.deepEqual(order, ['gate 4 buffered=0']);
});

test('rejected synchronising literal abandons the command; the next one is read normally', async () => {
  const f = new CommandFramer(limits());
  f.push(Buffer.from('a APPEND x {99999}\r\nb NOOP\r\n'));
  assert.deepEqual(await f.nextCommand(() => ({ reject: true })), { type: 'rejected' });
  assert.deepEqual(literalText(await f.nextCommand(accept)), { text: ['b NOOP'], literals: [] });
});

test('rejected non-synchronising literal is fatal (RFC 7888 §4)', async () => {
  const f = new CommandFramer(limits());
  f.push(Buffer.from('a APPEND x {5+}\r\nhello\r\n'));
  const r = await f.nextCommand(() => ({ reject: true }));
  assert.equal(r?.type, 'fatal');
  assert.equal(f.buffered, 0);
});

test('10 MB without a line end is fatal without being buffered', async () => {
  const max = 64 * 1024;
  const f = new CommandFramer(limits({ maxLineLength: max }));
  const result = f.nextCommand(accept);
  let settled: FrameResult | null | undefined;
  void result.then((r) => (settled = r));
  const chunk = Buffer.alloc(16 * 1024, 0x61);
  let pushed = 0;
  let peak = 0;
  for (let i = 0; i < 640 && settled === undefined; i++) {
    f.push(chunk);
    pushed += chunk.length;
    peak = Math.max(peak, f.buffered);
    await tick();
  }
  const r = await result;
  assert.equal(r?.type, 'fatal');
  assert.ok(pushed < 10 * 1024 * 1024, `stopped early (pushed ${pushed})`);
  assert.ok(peak <= max + 2 * chunk.length, `peak ${peak}`);
  f.push(Buffer.alloc(1024 * 1024));
  assert.equal(f.buffered, 0, 'nothing is kept after a fatal error');
});

test('a line of exactly maxLineLength is fine; one more byte is fatal', async () => {
  const f = new CommandFramer(limits({ maxLineLength: 10 }));
  f.push(Buffer.from('a NOOP xyz\r\n'));
  assert.deepEqual(literalText(await f.nextCommand(accept)), { text: ['a NOOP xyz'], literals: [] });
  f.push(Buffer.from('a NOOP xyzw\r\n'));
  assert.equal((await f.nextCommand(accept))?.type, 'fatal');
});

test('command larger than maxCommandSize is fatal', async () => {
  const f = new CommandFramer(limits({ maxCommandSize: 100 }));
  f.push(Buffer.from('a APPEND x {200}\r\n'));
  const r = await f.nextCommand(accept);
  assert.deepEqual(r, { type: 'fatal', reason: 'Command too large' });
});

test('a quoted "{5}" at the end of a line is not a literal', async () => {
  const f = new CommandFramer(limits());
  f.push(Buffer.from('a SELECT "x {5}"\r\n'));
  let asked = false;
  const r = await f.nextCommand(() => ((asked = true), null));
  assert.deepEqual(literalText(r), { text: ['a SELECT "x {5}"'], literals: [] });
  assert.equal(asked, false);
});

test('end of input inside a literal resolves null', async () => {
  const f = new CommandFramer(limits());
  f.push(Buffer.from('a LOGIN {10}\r\nabc'));
  const r = f.nextCommand(accept);
  await tick();
  f.end();
  assert.equal(await r, null);
});

test('nextLine reads raw lines and throws FrameTooLongError', async () => {
  const f = new CommandFramer(limits());
  f.push(Buffer.from('dGVzdA==\r\nDONE\n'));
  assert.equal(await f.nextLine(100), 'dGVzdA==');
  assert.equal(await f.nextLine(100), 'DONE');
  f.push(Buffer.from('x'.repeat(50)));
  await assert.rejects(f.nextLine(10), FrameTooLongError);
});

test('discardBuffered drops pipelined bytes (STARTTLS)', async () => {
  const f = new CommandFramer(limits());
  f.push(Buffer.from('a STARTTLS\r\nb LOGIN evil pw\r\n'));
  assert.deepEqual(literalText(await f.nextCommand(accept)), { text: ['a STARTTLS'], literals: [] });
  f.discardBuffered();
  assert.equal(f.buffered, 0);
  f.push(Buffer.from('c CAPABILITY\r\n'));
  assert.deepEqual(literalText(await f.nextCommand(accept)), { text: ['c CAPABILITY'], literals: [] });
});

test('concurrent reads are refused', async () => {
  const f = new CommandFramer(limits());
  const first = f.nextCommand(accept);
  await assert.rejects(f.nextCommand(accept), /concurrent/);
  f.end();
  assert.equal(await first, null);
});

test('a long line sent one byte per chunk is read in linear time', async () => {
  const f = new CommandFramer(limits());
  const body = `a LOGIN ${'x'.repeat(60_000)} y`;
  // Served time: less what the machine's other load kept this process off the CPU (served-time.ts).
  const clock = servedClock();
  const r = f.nextCommand(accept);
  let n = 0;
  for (const b of Buffer.from(`${body}\r\n`)) {
    f.push(Buffer.from([b]));
    // Let the framer scan between pushes, as it would between packets.
    if (++n % 4 === 0) await Promise.resolve().then(() => undefined);
  }
  assert.deepEqual(literalText(await r), { text: [body], literals: [] });
  const ms = clock.served();
  assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms served (${clock.wall().toFixed(0)} ms as seen)`);
});

test('commandBytes counts a literal read so far, byte by byte, and is zero between commands', async () => {
  const f = new CommandFramer(limits());
  const pending = f.nextCommand(accept);
  f.push(Buffer.from('a LOGIN {10}\r\n01234'));
  await tick();
  const afterFive = f.commandBytes;
  assert.ok(afterFive >= 5, `${afterFive}`);
  f.push(Buffer.from('567'));
  await tick();
  assert.equal(f.commandBytes, afterFive + 3, 'the literal bytes as they come');
  f.push(Buffer.from('89 pw\r\n'));
  assert.deepEqual(literalText(await pending), { text: ['a LOGIN {10}', ' pw'], literals: ['0123456789'] });
  assert.equal(f.commandBytes, 0);
});

test('a literal read whole and trickled a byte per turn comes out in a few slices, not a Buffer per byte', async () => {
  const f = new CommandFramer(limits());
  const body = Buffer.alloc(20_000);
  for (let i = 0; i < body.length; i++) body[i] = 0x41 + (i % 26);
  f.push(Buffer.from('a APPEND INBOX {20000}\r\n'));
  const result = f.nextCommand(accept);
  // As a socket delivers it: each byte in a turn of its own, read by the framer before the next comes.
  for (const b of body) {
    f.push(Buffer.from([b]));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  f.push(Buffer.from('\r\n'));
  const r = await result;
  assert.ok(r?.type === 'command');
  const parts = r.command.literals[0]!;
  assert.ok(parts.length <= 10, `${parts.length} slices held for a 20,000-byte literal`);
  assert.ok(Buffer.concat(parts).equals(body));
});
