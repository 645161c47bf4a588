/**
 * 2,000 connections that each send one byte and stall: the line deadline closes them all while an
 * ordinary client keeps getting answers. Timers are short here; the defaults are in limits.ts.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startImapServer } from '../helpers/imap-server.js';
import { RawClient, sleep } from '../helpers/raw-client.js';

const STALLERS = 2000;

it(`closes ${STALLERS} stalled one-byte connections by the timers while serving a normal client`, async (t) => {
  const s = await startImapServer({ limits: { lineTimeoutSeconds: 2, maxConnectionsPerIp: STALLERS + 10 } });
  t.after(() => s.close());
  const normal = new RawClient(s.port, { localAddress: '127.0.0.2' });
  await normal.expect(/^\* OK/);
  normal.send('l LOGIN alice secret\r\n');
  await normal.expect(/^l OK/);

  let closed = 0;
  const started = Date.now();
  const sockets: net.Socket[] = [];
  for (let i = 0; i < STALLERS; i++) {
    const sock = net.connect({ port: s.port, host: '127.0.0.1' });
    sock.on('error', () => undefined);
    sock.once('connect', () => sock.write('a'));
    sock.once('close', () => closed++);
    sock.resume(); // read (and drop) what the server says, so its FIN is noticed
    sockets.push(sock);
    if (i % 200 === 199) await sleep(10);
  }
  t.after(() => sockets.forEach((x) => x.destroy()));

  // A normal client is answered quickly all along.
  let worst = 0;
  let n = 0;
  while (closed < STALLERS && Date.now() - started < 20_000) {
    const t0 = Date.now();
    normal.send(`n${n} NOOP\r\n`);
    await normal.expect(new RegExp(`^n${n} OK`));
    worst = Math.max(worst, Date.now() - t0);
    n++;
    await sleep(100);
  }
  const took = Date.now() - started;
  assert.equal(closed, STALLERS, `only ${closed} of ${STALLERS} were closed in ${took} ms`);
  assert.ok(took < 15_000, `closing took ${took} ms`);
  assert.ok(worst < 1000, `the normal client waited up to ${worst} ms`);
  assert.ok(n > 5);
  assert.equal(s.server.connections().length, 1, 'only the normal client is left');
  normal.send('z NOOP\r\n');
  await normal.expect(/^z OK/);
  console.log(`# ${STALLERS} stalled connections closed in ${took} ms; slowest NOOP meanwhile ${worst} ms over ${n} NOOPs`);
  normal.destroy();
});
