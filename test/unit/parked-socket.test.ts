/**
 * src/net/parked-socket.ts leans on Node's stream internals; these tests pin down what it needs of
 * them, so a Node.js upgrade that changes them fails here rather than in a user's IDLE session.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { parkRefusal, parkSocket, wakeParked, writeParked, type ParkedSocketOwner } from '../../src/net/parked-socket.js';
import { until } from '../helpers/raw-client.js';

interface Pair {
  server: net.Server;
  serverSide: net.Socket;
  client: net.Socket;
  received: string[];
}

async function pair(): Promise<Pair> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const received: string[] = [];
  client.setEncoding('latin1');
  client.on('data', (d: string) => received.push(d));
  const serverSide = await accepted;
  return { server, serverSide, client, received };
}

function owner(onRevived: (s: net.Socket) => void): ParkedSocketOwner {
  return { revived: onRevived };
}

/** Parks the server side; the revived socket, once there is one, records what it reads. */
function parkRecording(p: Pair): { handle: ReturnType<typeof parkSocket>; got: string[]; revived: () => net.Socket | undefined } {
  let revived: net.Socket | undefined;
  const got: string[] = [];
  const handle = parkSocket(
    p.serverSide,
    owner((s) => {
      revived = s;
      s.setEncoding('latin1');
      s.on('data', (d: string) => got.push(d));
    }),
  );
  return { handle, got, revived: () => revived };
}


describe('parked sockets', () => {
  it('writeParked: the client gets the bytes, the connection stays parked (same handle), and still wakes on input', async () => {
    const p = await pair();
    const { handle, got, revived } = parkRecording(p);
    assert.ok(handle);
    let asked = 0;
    assert.equal(writeParked(handle, '* 4 EXISTS\r\n', () => (asked++, false)), true);
    await until('received', () => p.received.join('') === '* 4 EXISTS\r\n');
    await until('write done', () => asked === 1);
    assert.equal(revived(), undefined, 'not woken by its own write');
    assert.equal(writeParked(handle, '* 5 EXISTS\r\n', () => false), true, 'parked again, on the same handle');
    await until('received', () => p.received.join('') === '* 4 EXISTS\r\n* 5 EXISTS\r\n');
    p.client.write('DONE\r\n');
    await until('woken with the bytes', () => got.join('') === 'DONE\r\n');
    assert.equal(writeParked(handle, 'x', () => false), false, 'not parked any more');
    revived()!.destroy();
    p.client.destroy();
    p.server.close();
  });

  it('writeParked: wakeAfter() true hands the socket to the owner once the bytes are out', async () => {
    const p = await pair();
    const { handle, revived } = parkRecording(p);
    assert.ok(handle);
    assert.equal(writeParked(handle, '* 1 EXISTS\r\n', () => true), true);
    await until('woken', () => revived() !== undefined);
    await until('received', () => p.received.join('') === '* 1 EXISTS\r\n');
    revived()!.write('I1 OK\r\n');
    await until('the revived socket writes', () => p.received.join('') === '* 1 EXISTS\r\nI1 OK\r\n');
    revived()!.destroy();
    p.client.destroy();
    p.server.close();
  });

  it('wakes on client bytes and hands them, whole, to the revived socket', async () => {
    const p = await pair();
    const { handle, got, revived } = parkRecording(p);
    assert.ok(handle);
    assert.equal(p.serverSide.destroyed, true, 'the old socket object is let go');
    assert.equal(revived(), undefined, 'parked until something happens');
    p.client.write('DONE\r\nA2 NOOP\r\n');
    await until('received', () => got.join('') === 'DONE\r\nA2 NOOP\r\n');
    revived()!.write('A2 OK\r\n');
    await until('received', () => p.received.join('') === 'A2 OK\r\n');
    // Reading goes on after the bytes that woke it.
    p.client.write('more\r\n');
    await until('received', () => got.join('').endsWith('more\r\n'));
    p.client.destroy();
    revived()!.destroy();
    await new Promise((r) => p.server.close(r));
  });

  it('lets the server close while a connection is parked, and wakes on the end of the stream', async () => {
    const p = await pair();
    let ended = false;
    parkSocket(
      p.serverSide,
      owner((s) => {
        s.on('end', () => {
          ended = true;
          s.end();
        });
      }),
    );
    // The server no longer counts the parked connection.
    const closed = new Promise((r) => p.server.close(r));
    p.client.end();
    await until('the end of the stream arrived', () => ended);
    await closed;
  });

  it('wakes on the server side with nothing read, and the socket still works both ways', async () => {
    const p = await pair();
    const { handle, got, revived: current } = parkRecording(p);
    wakeParked(handle!);
    const revived = current();
    assert.ok(revived);
    wakeParked(handle!); // a second wake is ignored
    assert.equal(current(), revived);
    revived.write('* 3 EXISTS\r\n');
    await until('received', () => p.received.join('') === '* 3 EXISTS\r\n');
    p.client.write('DONE\r\n');
    await until('received', () => got.join('') === 'DONE\r\n');
    p.client.destroy();
    revived.destroy();
    await new Promise((r) => p.server.close(r));
  });

  it('refuses sockets with output still buffered', async () => {
    const p = await pair();
    p.serverSide.cork();
    p.serverSide.write('unsent');
    assert.match(parkRefusal(p.serverSide) ?? '', /buffered/);
    assert.equal(parkSocket(p.serverSide, owner(() => assert.fail('never parked'))), null);
    p.serverSide.uncork();
    p.client.destroy();
    p.serverSide.destroy();
    await new Promise((r) => p.server.close(r));
  });
});
