/**
 * SIGTERM to `postroom serve` (issue 13, item 7): every session ends with `* BYE` before the close
 * (RFC 3501 §7.1.5) — idle ones at once, and ones with a command running after that command's
 * tagged reply.
 *
 * Eight sessions are caught mid-command deterministically: each FETCHes a 4 MB body and does not
 * read, so its FETCH waits on the socket (backpressure) when the signal comes; they read again
 * afterwards. Six more pipeline STORE/NOOP without pause, and three are idle.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveProcess } from '../helpers/serve-process.js';
import { RawClient, sleep, until } from '../helpers/raw-client.js';

const BODY_SIZE = 4 * 1024 * 1024;

/** A client that keeps only the tail of what it receives (the bodies are large) and can stop reading. */
class TailClient {
  readonly socket: net.Socket;
  tail = '';
  received = 0;
  closed = false;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.setEncoding('latin1');
    this.socket.on('data', (d: string) => {
      this.received += d.length;
      this.tail = (this.tail + d).slice(-8192);
    });
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => (this.closed = true));
  }

  async until(re: RegExp, ms = 10_000): Promise<void> {
    await until(`${re} arrived`, () => re.test(this.tail) || this.closed, ms);
    if (!re.test(this.tail)) throw new Error(`closed before ${re}: ${JSON.stringify(this.tail.slice(-300))}`);
  }

  send(text: string): void {
    this.socket.write(text);
  }
}

it('SIGTERM: sessions running a command get its tagged reply and then * BYE; idle ones BYE at once', async (t) => {
  const data = await mkdtemp(join(tmpdir(), 'postroom-sigterm-'));
  t.after(() => rm(data, { recursive: true, force: true }));
  const config = join(data, 'config.json');
  // A small output buffer, so a FETCH that is not read waits on the socket early.
  await writeFile(config, JSON.stringify({ imapLimits: { maxOutputBuffer: 64 * 1024 } }));
  const s = await serveProcess(t, ['--config', config, '--data', data, '--store', 'memory', '--ephemeral-ports', '--log-level', 'silent', '--allow-insecure-auth', '--demo']);
  const demo = s.lines.find((l) => l['msg'] === 'demo user created') ?? (await until('the demo user line', () => s.lines.some((l) => l['msg'] === 'demo user created')), s.lines.find((l) => l['msg'] === 'demo user created'));
  const login = `L LOGIN ${String(demo!['user'])} ${String(demo!['password'])}\r\n`;

  const setup = new RawClient(s.imapPort);
  await setup.expect(/^\* OK/);
  setup.send(login);
  await setup.expect(/^L OK/);
  const body = `Subject: big\r\n\r\n${'x'.repeat(76)}\r\n`.repeat(Math.ceil(BODY_SIZE / 94));
  setup.send(`A APPEND INBOX {${body.length}+}\r\n${body}\r\n`);
  await setup.expect(/^A OK/, 30_000);
  setup.send('Q LOGOUT\r\n');
  await setup.waitClosed();

  // FETCHes that stall on backpressure.
  const fetchers = Array.from({ length: 8 }, () => new TailClient(s.imapPort));
  await Promise.all(
    fetchers.map(async (f) => {
      await f.until(/^\* OK/m);
      f.send(`${login}S SELECT INBOX\r\n`);
      await f.until(/^S OK/m);
      f.socket.pause();
      f.send('F FETCH 1 BODY[]\r\n');
    }),
  );
  // Sessions busy with a stream of small commands.
  const busy = Array.from({ length: 6 }, () => new TailClient(s.imapPort));
  let pumping = true;
  await Promise.all(
    busy.map(async (b, i) => {
      await b.until(/^\* OK/m);
      b.send(`${login}S SELECT INBOX\r\n`);
      await b.until(/^S OK/m);
      void (async () => {
        for (let n = 0; pumping && !b.closed; n++) {
          b.send(`b${i}x${n} STORE 1 FLAGS (\\Seen)\r\nn${i}x${n} NOOP\r\n`);
          await sleep(2);
        }
      })();
    }),
  );
  // Idle ones.
  const idle = Array.from({ length: 3 }, () => new TailClient(s.imapPort));
  await Promise.all(
    idle.map(async (c) => {
      await c.until(/^\* OK/m);
      c.send(login);
      await c.until(/^L OK/m);
    }),
  );
  await sleep(500);

  s.child.kill('SIGTERM');
  await sleep(300);
  for (const f of fetchers) f.socket.resume();
  const t1 = Date.now();
  const exit = await Promise.race([s.exited, sleep(20_000).then(() => 'timeout' as const)]);
  pumping = false;
  console.log(`# serve exited ${Date.now() - t1} ms after SIGTERM`);
  assert.equal(exit, 0, `serve exited with ${String(exit)}; stderr: ${s.stderr()}`);
  await until('every client saw the close', () => [...fetchers, ...busy, ...idle].every((c) => c.closed), 5_000);

  for (const [i, f] of fetchers.entries()) {
    assert.ok(f.received > BODY_SIZE, `fetcher ${i} received the whole body (${f.received} bytes)`);
    assert.match(f.tail, /\r\nF OK [^\r\n]*\r\n\* BYE [^\r\n]*\r\n$/, `fetcher ${i}: ${JSON.stringify(f.tail.slice(-200))}`);
  }
  for (const [i, b] of busy.entries()) assert.match(b.tail, /\r\n\* BYE [^\r\n]*\r\n$/, `busy session ${i}: ${JSON.stringify(b.tail.slice(-200))}`);
  for (const [i, c] of idle.entries()) assert.match(c.tail, /\r\n\* BYE [^\r\n]*\r\n$/, `idle session ${i}: ${JSON.stringify(c.tail.slice(-200))}`);
});
