/**
 * src/net/accept-handles.ts: extra descriptors for one listening socket, so that a busy event loop
 * accepts several connections per turn instead of one.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { duplicateListenHandle } from '../../src/net/accept-handles.js';

describe('accept handles', () => {
  it('gives more descriptors for the same socket, and each accepts connections from its one queue', async () => {
    const accepted = [0, 0, 0, 0];
    const sockets: net.Socket[] = [];
    const listener = (i: number) => (s: net.Socket) => {
      accepted[i]!++;
      sockets.push(s);
    };
    const first = net.createServer(listener(0));
    await new Promise<void>((r) => first.listen(0, '127.0.0.1', r));
    const port = (first.address() as net.AddressInfo).port;
    const handles = await duplicateListenHandle(first as net.Server & { _handle?: unknown }, 3);
    assert.equal(handles.length, 3);
    const extra = handles.map((h, i) => net.createServer(listener(i + 1)).listen(h as net.ListenOptions));

    // Clients queue up in the kernel while this loop is blocked; once it turns again, every handle
    // takes one per turn, so all four listeners get some of them.
    const clients: net.Socket[] = [];
    for (let i = 0; i < 40; i++) clients.push(net.connect(port, '127.0.0.1').on('error', () => undefined));
    const until = Date.now() + 150;
    while (Date.now() < until) {
      /* block the loop */
    }
    const deadline = Date.now() + 5000;
    while (accepted.reduce((a, b) => a + b, 0) < 40 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(accepted.reduce((a, b) => a + b, 0), 40);
    assert.ok(accepted.every((n) => n > 0), `every handle accepted some: ${accepted.join(', ')}`);

    for (const c of [...clients, ...sockets]) c.destroy();
    await Promise.all([first, ...extra].map((s) => new Promise((r) => s.close(r))));
  });

  it('gives none when there is nothing to duplicate', async () => {
    assert.deepEqual(await duplicateListenHandle({}, 3), []);
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    assert.deepEqual(await duplicateListenHandle(server as net.Server & { _handle?: unknown }, 0), []);
    await new Promise((r) => server.close(r));
  });
});
