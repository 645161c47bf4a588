/**
 * Issue 13: POP3 on a maildrop of 100,000 messages without long stretches on the event loop. Login
 * read the records in pages of 2,000, but each page came from a store that reads synchronously
 * (SQLite), so awaiting it never let the loop go: 200–260 ms of CPU in one stretch. QUIT after
 * deleting everything built a Set of 100,000 indexes and sorted the UIDs with a comparator before
 * its first write: 60–120 ms. Now the pages yield between them (src/util/time-slice.ts) and QUIT
 * prepares with a typed array (src/pop3/maildrop/store-maildrop.ts). The server runs in a child
 * process (test/helpers/stall-server.ts); the bound is on the main thread's CPU time of the longest
 * stretch (test/helpers/loop-stall.ts), with a bystander IMAP client's NOOP round trips printed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { RawClient } from '../helpers/raw-client.js';
import { NoopProbe } from '../helpers/latency.js';
import { startStallServer, type StallServer } from '../helpers/stall-server.js';

const MESSAGES = 100_000;
/** Main-thread CPU ms of the longest stretch: 200–260 (login) and 60–120 (QUIT) before. */
const MAX_STALL_CPU_MS = 50;

/** A POP3 client that waits for the end of what it asked for, looking only at the tail. */
class Pop3 {
  private buf = '';
  private waiting: { done: (b: string) => boolean; resolve: (s: string) => void } | null = null;
  constructor(private readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buf += d;
      const w = this.waiting;
      if (w && w.done(this.buf)) {
        const got = this.buf;
        this.buf = '';
        this.waiting = null;
        w.resolve(got);
      } else if (this.buf.length > 1 << 20) this.buf = this.buf.slice(-4096);
    });
  }
  send(text: string, done: (b: string) => boolean): Promise<string> {
    return new Promise((resolve) => {
      this.waiting = { done, resolve };
      if (text) this.socket.write(text);
    });
  }
}
const line = (b: string): boolean => b.endsWith('\r\n');

describe(`POP3 on a maildrop of ${MESSAGES} messages leaves room for other sessions (SQLite)`, () => {
  let server: StallServer;
  let pop: Pop3;
  let socket: net.Socket;
  let bystander: RawClient;

  before(async () => {
    server = await startStallServer({ store: 'sqlite', seed: { carol: MESSAGES }, pop3: true });
    bystander = new RawClient(server.port, { localAddress: '127.0.0.2' });
    await bystander.login();
    socket = net.connect(server.pop3Port!, '127.0.0.1');
    pop = new Pop3(socket);
    assert.match(await pop.send('', line), /^\+OK/);
    assert.match(await pop.send('USER carol\r\n', line), /^\+OK/);
  });

  after(async () => {
    socket.destroy();
    bystander.destroy();
    await server.close();
  });

  async function measured(label: string, text: string, done: (b: string) => boolean, bound = MAX_STALL_CPU_MS): Promise<string> {
    const probe = new NoopProbe(bystander, 5);
    await server.meter();
    const started = Date.now();
    const reply = await pop.send(text, done);
    const stall = await server.stop();
    const latency = await probe.stop();
    console.log(
      `# POP3 ${label}: ${Date.now() - started} ms; longest stall ${stall.maxCpuMs.toFixed(0)} ms CPU (${stall.maxWallMs.toFixed(0)} ms wall); ` +
        `bystander NOOP max ${latency.max.toFixed(0)} ms over ${latency.samples.length}`,
    );
    assert.ok(stall.maxCpuMs < bound, `${label} held the event loop for ${stall.maxCpuMs.toFixed(0)} ms of CPU`);
    return reply;
  }

  it('PASS opens the maildrop in slices', async () => {
    const reply = await measured('PASS', 'PASS secret\r\n', line);
    assert.match(reply, /^\+OK .*100000 messages/);
  });

  it('QUIT after DELE of every message deletes them in slices', async () => {
    const deles = Array.from({ length: MESSAGES }, (_, i) => `DELE ${i + 1}\r\n`).join('');
    // The DELEs only mark: not measured here (bench:stall has the row).
    assert.match(await pop.send(`${deles}STAT\r\n`, (b) => /\+OK 0 0\r\n$/.test(b)), /\+OK 0 0\r\n$/);
    const reply = await measured('QUIT', 'QUIT\r\n', line);
    assert.match(reply, /^\+OK Bye, 0 messages left/);
    // Gone for good: a new session finds the maildrop empty.
    const again = net.connect(server.pop3Port!, '127.0.0.1');
    try {
      const p2 = new Pop3(again);
      await p2.send('', line);
      await p2.send('USER carol\r\n', line);
      assert.match(await p2.send('PASS secret\r\n', line), /^\+OK/);
      assert.match(await p2.send('STAT\r\n', line), /^\+OK 0 0\r\n$/);
    } finally {
      again.destroy();
    }
  });
});
