/**
 * The connection's output queue: a streamed literal whose source fails after its size went out
 * must end the connection (the client's parser waits for the announced octets), never leave it
 * open and silent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { OutputQueue } from '../../src/imap/session/output.js';

test('a literal whose source fails mid-stream drops the connection and reports why', async () => {
  const socket = new PassThrough();
  const received: Buffer[] = [];
  socket.on('data', (d: Buffer) => received.push(d));
  let failure: unknown;
  const out = new OutputQueue(socket, 1 << 20, (err) => (failure = err));
  async function* failing(): AsyncIterable<Buffer> {
    yield Buffer.from('first part ');
    throw new Error('message body vanished');
  }
  out.push([Buffer.from('* 1 FETCH (BODY[] {100}\r\n'), { size: 100, stream: failing }, Buffer.from(')\r\nA1 OK done\r\n')]);
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('the connection was left open')), 2_000))]);
  assert.ok(socket.destroyed);
  assert.match(String((failure as Error).message), /vanished/);
  assert.ok(!Buffer.concat(received).toString().includes('A1 OK'), 'no tagged OK after a broken literal');
});

test('responses pushed in one turn of the event loop leave in one write, in order', async () => {
  const socket = new PassThrough();
  const writes: string[] = [];
  const write = socket.write.bind(socket);
  socket.write = ((chunk: Buffer, ...rest: never[]) => {
    writes.push(chunk.toString());
    return write(chunk, ...rest);
  }) as typeof socket.write;
  const out = new OutputQueue(socket, 1 << 20);
  out.push([Buffer.from('* 1 EXISTS\r\n')]);
  await Promise.resolve();
  out.push([Buffer.from('A1 OK done\r\n')]);
  await out.idle();
  assert.deepEqual(writes, ['* 1 EXISTS\r\nA1 OK done\r\n']);
  out.push([Buffer.from('+ go ahead\r\n')], true);
  assert.deepEqual(writes.at(-1), '+ go ahead\r\n', 'a continuation is written at once');
});
