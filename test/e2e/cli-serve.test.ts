import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { serveProcess } from '../helpers/serve-process.js';
import { CLI_MAIN } from '../helpers/cli.js';


/** Starts `postroom serve ARGS` and resolves at its `{"msg":"listening"}` line. */
const serve = serveProcess;

function spawnCli(args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', CLI_MAIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
}

/** The first line a server sends on a fresh connection. */
function greeting(socket: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    socket.setTimeout(10_000, () => reject(new Error('no greeting')));
    socket.on('data', (d: Buffer) => {
      data += d.toString('latin1');
      if (data.includes('\r\n')) {
        socket.destroy();
        resolve(data.slice(0, data.indexOf('\r\n')));
      }
    });
    socket.on('error', reject);
  });
}

const plainGreeting = (port: number): Promise<string> => greeting(net.connect(port, '127.0.0.1'));

async function tlsGreeting(port: number, options: tls.ConnectionOptions): Promise<string> {
  const socket = tls.connect({ host: '127.0.0.1', port, ...options });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  return greeting(socket);
}

async function imapLogin(port: number, user: string, pass: string, ca: string): Promise<string[]> {
  const client = new ImapFlow({
    host: '127.0.0.1',
    port,
    secure: false,
    doSTARTTLS: true,
    servername: 'localhost',
    tls: { ca },
    auth: { user, pass },
    logger: false,
  });
  try {
    await client.connect();
    const paths = (await client.list()).map((m) => m.path);
    await client.logout();
    return paths;
  } finally {
    // A failed login leaves the socket open; an open client would delay the server's shutdown.
    client.close();
  }
}

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-serve-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('serve --demo: listening line, greetings, STARTTLS login, live user add, SIGTERM exits 0', async (t) => {
  const data = await tempDir(t);
  const s = await serve(t, ['--data', data, '--store', 'memory', '--ephemeral-ports', '--demo']);
  const { listening } = s;
  for (const key of ['imapPort', 'imapsPort', 'pop3Port', 'pop3sPort'] as const) {
    assert.equal(typeof listening[key], 'number', key);
    assert.ok((listening[key] ?? 0) > 1024, key);
  }
  assert.equal(listening.host, '127.0.0.1');

  assert.match(await plainGreeting(listening.imapPort!), /^\* OK /);
  assert.match(await plainGreeting(listening.pop3Port!), /^\+OK/);

  const ca = await readFile(join(data, 'tls', 'cert.pem'), 'utf8');
  assert.match(await tlsGreeting(listening.imapsPort!, { ca, servername: 'localhost' }), /^\* OK /);
  assert.match(await tlsGreeting(listening.pop3sPort!, { ca, servername: 'localhost' }), /^\+OK/);

  // The demo line follows the listening line.
  const deadline = Date.now() + 5_000;
  while (!s.lines.some((l) => l['msg'] === 'demo user created') && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const demo = s.lines.find((l) => l['msg'] === 'demo user created');
  assert.ok(demo, 'demo line printed');
  assert.equal(demo['user'], 'demo');
  const password = String(demo['password']);
  assert.ok(password.length >= 12);
  assert.ok((await imapLogin(listening.imapPort!, 'demo', password, ca)).includes('INBOX'));

  // A user added by the CLI while the server runs can log in without a restart.
  const add = spawnCli(['user', 'add', 'ann', '--password-stdin', '--data', data]);
  add.stdin.end('ann-secret\n');
  assert.equal(await new Promise((r) => add.on('exit', r)), 0);
  assert.ok((await imapLogin(listening.imapPort!, 'ann', 'ann-secret', ca)).includes('INBOX'));
  await assert.rejects(imapLogin(listening.imapPort!, 'ann', 'wrong', ca));

  s.child.kill('SIGTERM');
  assert.equal(await s.exited, 0, s.stderr());
});

test('implicit TLS works for clients that send no SNI (connecting by IP address)', async (t) => {
  const data = await tempDir(t);
  const s = await serve(t, ['--data', data, '--store', 'memory', '--ephemeral-ports']);
  const ca = await readFile(join(data, 'tls', 'cert.pem'), 'utf8');
  try {
    assert.match(await tlsGreeting(s.listening.pop3sPort!, { ca, checkServerIdentity: () => undefined }), /^\+OK/);
    assert.match(await tlsGreeting(s.listening.imapsPort!, { ca, checkServerIdentity: () => undefined }), /^\* OK /);
  } finally {
    s.child.kill('SIGTERM');
    await s.exited;
  }
});

test('serve with a config file: off listeners are reported as null; flags override the file', async (t) => {
  const dir = await tempDir(t);
  const config = join(dir, 'postroom.json');
  await writeFile(config, JSON.stringify({ data: 'data', store: 'memory', imapPort: 'auto', imapsPort: 0, pop3Port: 'off', pop3sPort: 'off', logLevel: 'silent' }));
  const s = await serve(t, ['--config', config, '--pop3-port', 'auto']);
  assert.equal(typeof s.listening.imapPort, 'number');
  assert.equal(s.listening.imapsPort, null);
  assert.equal(typeof s.listening.pop3Port, 'number');
  assert.equal(s.listening.pop3sPort, null);
  assert.match(await plainGreeting(s.listening.pop3Port!), /^\+OK/);
  // logLevel "silent" from the file: only the listening line on stdout.
  assert.deepEqual(s.lines.map((l) => l['msg']), ['listening']);
  s.child.kill('SIGINT');
  assert.equal(await s.exited, 0);
});

test('serve fails with exit 1 and a message when a port is taken or a flag is wrong', async (t) => {
  const data = await tempDir(t);
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
  const taken = (blocker.address() as net.AddressInfo).port;

  const run = async (args: string[]): Promise<{ code: number | null; stderr: string }> => {
    const child = spawnCli(['serve', '--data', data, '--store', 'memory', ...args]);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    clearTimeout(timer);
    return { code, stderr };
  };

  const busy = await run(['--imap-port', String(taken), '--imaps-port', 'off', '--pop3-port', 'off', '--pop3s-port', 'off']);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /EADDRINUSE/);

  const bad = await run(['--imap-port', 'http']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /imapPort: expected a port/);
});

test('SIGTERM with an idle client still connected exits 0 within seconds', async (t) => {
  const data = await tempDir(t);
  const s = await serve(t, ['--data', data, '--store', 'memory', '--ephemeral-ports', '--log-level', 'silent']);
  const idle = net.connect(s.listening.imapPort!, '127.0.0.1');
  idle.on('error', () => undefined);
  t.after(() => idle.destroy());
  await new Promise<void>((resolve) => idle.once('data', () => resolve()));
  s.child.kill('SIGTERM');
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 8_000).unref());
  assert.equal(await Promise.race([s.exited, timeout]), 0);
});
