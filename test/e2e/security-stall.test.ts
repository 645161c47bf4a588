/**
 * 2,000 connections that each send one byte and stall: the line deadline closes them all while an
 * ordinary client keeps getting answers. A literal that stalls is cut off after the same deadline
 * of silence, however large it was announced. Timers are short here; the defaults are in limits.ts.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startImapServer } from '../helpers/imap-server.js';
import { RawClient, sleep } from '../helpers/raw-client.js';
import { servedClock, servedTime } from '../helpers/served-time.js';

const STALLERS = 2000;

it(`closes ${STALLERS} stalled one-byte connections by the timers while serving a normal client`, async (t) => {
  const s = await startImapServer({ limits: { lineTimeoutSeconds: 2, maxConnectionsPerIp: STALLERS + 10 } });
  t.after(() => s.close());
  const normal = new RawClient(s.port, { localAddress: '127.0.0.2' });
  await normal.expect(/^\* OK/);
  normal.send('l LOGIN alice secret\r\n');
  await normal.expect(/^l OK/);

  let closed = 0;
  const clock = servedClock();
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

  // A normal client is answered quickly all along. Times are served times (served-time.ts): less what
  // the machine's other load kept this process off the CPU, which on a loaded 2-core machine is
  // most of the wall time. The wall deadline only ends a hung wait.
  let worst = 0;
  let worstWall = 0;
  let n = 0;
  while (closed < STALLERS && Date.now() - started < 90_000) {
    const { served, wall } = await servedTime(async () => {
      normal.send(`n${n} NOOP\r\n`);
      await normal.expect(new RegExp(`^n${n} OK`));
    });
    worst = Math.max(worst, served);
    worstWall = Math.max(worstWall, wall);
    n++;
    await sleep(100);
  }
  const took = clock.served();
  const wallTook = Date.now() - started;
  assert.equal(closed, STALLERS, `only ${closed} of ${STALLERS} were closed in ${wallTook} ms`);
  assert.ok(took < 15_000, `closing took ${took.toFixed(0)} ms served (${wallTook} ms as seen)`);
  assert.ok(worst < 1000, `the normal client waited up to ${worst.toFixed(0)} ms served (${worstWall.toFixed(0)} ms as seen)`);
  assert.ok(n > 5);
  assert.equal(s.server.connections().length, 1, 'only the normal client is left');
  normal.send('z NOOP\r\n');
  await normal.expect(/^z OK/);
  console.log(`# ${STALLERS} stalled connections closed in ${took.toFixed(0)} ms served (${wallTook} ms as seen); slowest NOOP meanwhile ${worst.toFixed(0)} ms served (${worstWall.toFixed(0)} as seen) over ${n} NOOPs`);
  normal.destroy();
});

it('a literal that stalls is cut off after lineTimeoutSeconds of silence, not after its whole transfer time', async (t) => {
  const s = await startImapServer({ limits: { lineTimeoutSeconds: 2 } });
  t.after(() => s.close());
  const c = new RawClient(s.port);
  await c.login();
  // 60 MB at the slowest accepted rate (16 KiB/s) may take an hour; silence may not.
  c.send('a APPEND INBOX {60000000}\r\n');
  await c.expect(/^\+ /);
  c.send(Buffer.alloc(1000, 0x78));
  const clock = servedClock();
  assert.match(await c.expect(/^\* BYE/, 60_000), /^\* BYE Command not completed in time/);
  await c.waitClosed();
  // Not before the deadline (as seen: load only makes that later); not long after it, in served time.
  const took = clock.wall();
  const served = clock.served();
  console.log(`# a stalled 60 MB literal was cut off after ${took.toFixed(0)} ms of silence (${served.toFixed(0)} ms served)`);
  assert.ok(took >= 1500 && served < 8000, `closed after ${took.toFixed(0)} ms (${served.toFixed(0)} ms served)`);
});

it('a slow literal whose bytes keep coming completes', async (t) => {
  const s = await startImapServer({ limits: { lineTimeoutSeconds: 2 } });
  t.after(() => s.close());
  const c = new RawClient(s.port);
  await c.login();
  const message = Buffer.concat([Buffer.from('Subject: slow\r\n\r\n'), Buffer.alloc(300_000 - 17, 0x78)]);
  c.send(`a APPEND INBOX {${message.length}}\r\n`);
  await c.expect(/^\+ /);
  // Six parts, one every 800 ms: 4 s in all, twice the line deadline, never 2 s of silence.
  for (let i = 0; i < 6; i++) {
    c.send(message.subarray(i * 50_000, (i + 1) * 50_000));
    await sleep(800);
  }
  c.send('\r\n');
  assert.match(await c.expect(/^a /, 5000), /^a OK/);
  c.destroy();
});
