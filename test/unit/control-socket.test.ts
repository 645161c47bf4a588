/**
 * The control socket's framing (JSON lines with binary attachments, split anywhere), and a server
 * and client on a real UNIX socket: one reply per request, events before it, error codes, the
 * store operation moving message bytes both ways, the socket's mode and stale-socket handling.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameReader, encodeFrame } from '../../src/control/framing.js';
import { ControlServer } from '../../src/control/server.js';
import { ControlClient } from '../../src/control/client.js';
import { ControlError, operationTable } from '../../src/control/operations.js';
import { controlledStore, storeOperation } from '../../src/control/store-link.js';
import { MemoryStore } from '../../src/store/memory/index.js';

test('framing: Buffers and Dates survive, attachments split at any byte', () => {
  const frame = { id: 7, op: 'x', args: { body: Buffer.from('hello\r\nworld\n'), when: new Date('2024-05-06T07:08:09Z'), list: [Buffer.from([0, 10, 255]), 'a'] } };
  const wire = Buffer.concat(encodeFrame(frame));
  assert.match(wire.toString('latin1'), /^\{"id":7,"op":"x","args":\{"body":\{"\$bytes":0\},"when":\{"\$date":"2024-05-06T07:08:09.000Z"\},"list":\[\{"\$bytes":1\},"a"\]\},"\$att":\[13,3\]\}\n/);
  for (let cut = 0; cut <= wire.length; cut++) {
    const reader = new FrameReader();
    const frames = [...reader.push(wire.subarray(0, cut)), ...reader.push(wire.subarray(cut))];
    assert.deepEqual(frames, [frame], `cut at ${cut}`);
  }
  const two = new FrameReader().push(Buffer.concat([wire, Buffer.from('{"id":8}\n')]));
  assert.deepEqual(two.map((f) => f['id']), [7, 8]);
  assert.throws(() => new FrameReader().push(Buffer.from('not json\n')), /not valid JSON/);
  assert.throws(() => new FrameReader().push(Buffer.from('[1]\n')), /must be a JSON object/);
  assert.throws(() => new FrameReader().push(Buffer.from('{"$att":[-1]}\n')), /\$att must list attachment sizes/);
});

test('server and client: replies, events, errors, the store over the socket, mode 0600, stale sockets', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'postroom-ctl-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'control.sock');
  const store = new MemoryStore();
  const released: string[] = [];
  const table = operationTable([
    { name: 'echo', summary: 'echo', run: async (args) => args },
    {
      name: 'count',
      summary: 'events then a reply',
      run: async (args, call) => {
        call.session.onClose(() => released.push('count'));
        for (let i = 0; i < Number(args['to']); i++) await call.event('tick', { i, bytes: Buffer.alloc(i, 0x61) });
        return 'done';
      },
    },
    {
      name: 'fail',
      summary: 'fails',
      run: async () => {
        throw new ControlError('not-found', 'nothing here');
      },
    },
    storeOperation(store),
  ]);
  writeFileSync(path, 'not a socket');
  await assert.rejects(ControlServer.listen(path, table), /a file that is not a socket is in the way/);
  rmSync(path);
  const server = await ControlServer.listen(path, table);
  t.after(() => server.close());
  assert.equal(statSync(path).mode & 0o777, 0o600);
  await assert.rejects(ControlServer.listen(path, table), /is in use: another postroom serve runs on this data folder/);

  const client = await ControlClient.connect(path);
  assert.deepEqual(await client.request('echo', { a: 1, b: Buffer.from('xy') }), { a: 1, b: Buffer.from('xy') });
  const ticks: number[] = [];
  assert.equal(await client.request('count', { to: 4 }, (name, data) => void ticks.push((data as { bytes: Buffer }).bytes.length)), 'done');
  assert.deepEqual(ticks, [0, 1, 2, 3], 'events in order, before the reply');
  await assert.rejects(client.request('fail'), (err: ControlError) => err.code === 'not-found' && err.message === 'nothing here');
  await assert.rejects(client.request('nope'), (err: ControlError) => err.code === 'unknown-op' && /known: echo, count, fail, store/.test(err.message));

  // The store through the socket: bytes in, bytes out, store errors keep their kind.
  const remote = controlledStore(client);
  const mail = await remote.open('ann');
  const inbox = await mail.get('INBOX');
  const body = Buffer.from('Subject: over the socket\r\n\r\n\u00e9\u0000binary\r\n', 'latin1');
  const appended = await mail.append(inbox.id, { content: body, flags: ['\\Seen'], internalDate: new Date('2020-01-02T03:04:05Z') });
  assert.deepEqual(await mail.read(inbox.id, appended.uid), body);
  const [record] = await mail.records(inbox.id, [appended.uid]);
  assert.equal(record!.internalDate.toISOString(), '2020-01-02T03:04:05.000Z');
  await assert.rejects(mail.get('Nowhere'), (err: { kind?: string }) => err.kind === 'nonexistent');
  // ...and it is the server's store: the change is there for everyone.
  const local = await store.open('ann');
  assert.equal((await local.status((await local.get('INBOX')).id)).messages, 1);
  await local.close();

  client.close();
  const deadline = Date.now() + 5000;
  while (released.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(released, ['count'], 'per-connection state released when the client goes');

  // A malformed line ends that connection with an error frame, not the server.
  const raw = net.connect(path);
  const answer = await new Promise<string>((resolve) => {
    let got = '';
    raw.on('data', (d) => (got += d.toString()));
    raw.on('close', () => resolve(got));
    raw.write('{{{\n');
  });
  assert.match(answer, /"ok":false,"error":\{"code":"bad-request","message":"a control frame is not valid JSON"\}/);
  const again = await ControlClient.connect(path);
  assert.deepEqual(await again.request('echo', { still: 'up' }), { still: 'up' });
  again.close();
  await server.close();
  await store.close();
});
