/**
 * `postroom serve --workers 2` on PostgreSQL: shared listeners, each worker with its own store (pool and
 * LISTEN feed), IDLE hears changes (and RESETKEY's URLMECH) from any worker; ManageSieve served by the workers; on the
 * memory store --workers is refused. SQLite workers (store calls forwarded to the primary): cli-cluster-sqlite.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { UserFile } from '../../src/auth/user-file.js';
import { WireClient } from '../../bench/load/wire-client.js';
import { processTree } from '../../bench/servers/memory.js';
import { testDatabaseUrl } from '../helpers/postgres.js';
import { postroom } from '../helpers/cli.js';
import { LmtpClient } from '../../src/lmtp/client.js';
import { RawSieveClient, plain } from '../managesieve/client.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

test('serve --workers 2 on PostgreSQL serves IMAP from worker processes, each on its own store, and IDLE hears every worker', { timeout: 150_000 }, async (t) => {
  const data = await mkdtemp(join(tmpdir(), 'postroom-cluster-'));
  t.after(() => rm(data, { recursive: true, force: true }));
  await UserFile.inDataDir(data, { scrypt: { log2N: 10, r: 8, p: 1 } }).add('alice', 'pw-alice');

  const child = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, 'serve', '--workers', '2', '--data', data, '--store', 'postgres', '--database-url', await testDatabaseUrl(), '--imap-port', 'auto', '--imaps-port', 'off',
      '--pop3-port', 'off', '--pop3s-port', 'off', '--allow-insecure-auth', '--log-level', 'error'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const listening = await new Promise<{ imapPort: number; workers: number; pid: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no listening line')), 90_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const m = JSON.parse(line) as { msg?: string; imapPort: number; workers: number; pid: number };
      if (m.msg === 'listening') (clearTimeout(timer), resolve(m));
    });
  });
  assert.equal(listening.workers, 2);
  assert.ok(processTree(listening.pid).length >= 3, 'a primary and two worker processes');

  const clients: WireClient[] = [];
  t.after(() => clients.forEach((c) => c.close()));
  const heard: Promise<void>[] = [];
  for (let i = 0; i < 8; i++) {
    const { client, greeting } = await WireClient.connect('127.0.0.1', listening.imapPort);
    clients.push(client);
    assert.match(greeting.text, /^\* OK/);
    assert.equal((await client.command('LOGIN alice pw-alice')).status, 'OK');
    assert.equal((await client.command('SELECT INBOX')).status, 'OK');
    client.write('i1 IDLE\r\n');
    assert.match((await client.next()).text, /^\+/);
    heard.push(
      new Promise((resolve) => {
        client.onUntagged = (r) => r.text === '* 1 EXISTS' && resolve();
      }),
    );
  }
  const { client: writer } = await WireClient.connect('127.0.0.1', listening.imapPort);
  clients.push(writer);
  await writer.command('LOGIN alice pw-alice');
  const msg = Buffer.from('From: a@example.com\r\nSubject: hello\r\n\r\nbody\r\n');
  const appended = await writer.append('INBOX', '', msg);
  assert.match(appended.tagged, /OK \[APPENDUID \d+ 1\]/);
  // Eight sessions over two workers: every one must hear the new message, whichever worker it is on.
  await Promise.race([Promise.all(heard), new Promise((_, reject) => setTimeout(() => reject(new Error('IDLE sessions not notified')), 10_000))]);

  // RESETKEY on one worker: every session with INBOX selected, on either worker, is told URLMECH
  // (RFC 4467 §7) — the change travels like EXISTS does.
  const urlmech = clients.slice(0, 8).map(
    (client) =>
      new Promise<void>((resolve) => {
        client.onUntagged = (r) => r.text.startsWith('* OK [URLMECH INTERNAL]') && resolve();
      }),
  );
  assert.match((await writer.command('RESETKEY INBOX')).tagged, /OK \[URLMECH INTERNAL\]/);
  await Promise.race([Promise.all(urlmech), new Promise((_, reject) => setTimeout(() => reject(new Error('URLMECH not heard by every worker')), 10_000))]);

  // A store error in a worker is the same NO [code] as in a single process.
  const missing = await writer.command('SELECT Nowhere');
  assert.equal(missing.status, 'NO');
  assert.match(missing.tagged, /\[NONEXISTENT\]/);
  const fetched = await writer.command('SELECT INBOX').then(() => writer.command('UID FETCH 1 (BODY.PEEK[])'));
  assert.ok(fetched.untagged.some((r) => r.literals.some((l) => l.equals(msg))), 'the body comes back byte for byte');

  for (const c of clients) c.close();
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});

test('serve --workers 2 survives SIGHUP and reloads every worker; who, reload and /metrics see the workers', { timeout: 200_000 }, async (t) => {
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const tls = await import('node:tls');
  const { generate } = await import('selfsigned');
  const { startServe } = await import('../helpers/serve.js');
  const { postroom } = await import('../helpers/cli.js');
  const work = mkdtempSync(join(tmpdir(), 'postroom-cluster-hup-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const data = join(work, 'data');
  await UserFile.inDataDir(data, { scrypt: { log2N: 10, r: 8, p: 1 } }).add('alice', 'pw-alice');
  const cert = async (cn: string): Promise<void> => {
    const pems = await generate([{ name: 'commonName', value: cn }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' } as never);
    writeFileSync(join(work, 'key.pem'), pems.private);
    writeFileSync(join(work, 'cert.pem'), pems.cert);
  };
  const served = (port: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const c = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
        resolve(String(c.getPeerCertificate().subject?.CN));
        c.end();
      });
      c.on('error', reject);
    });
  await cert('before.example');
  const s = await startServe([
    '--workers', '2', '--store', 'postgres', '--database-url', await testDatabaseUrl(), '--data', data, '--ephemeral-ports', '--allow-insecure-auth', '--metrics-port', 'auto', '--log-level', 'info',
    '--tls-key', join(work, 'key.pem'), '--tls-cert', join(work, 'cert.pem'),
  ]);
  t.after(() => s.stop());
  assert.equal(s.listening.workers, 2);
  const { client } = await WireClient.connect('127.0.0.1', s.listening.imapPort!);
  t.after(() => client.close());
  assert.equal((await client.command('LOGIN alice pw-alice')).status, 'OK');
  assert.equal((await client.command('SELECT INBOX')).status, 'OK');
  // Handshakes land on either worker: several, so both must have reloaded.
  for (let i = 0; i < 4; i++) assert.equal(await served(s.listening.imapsPort!), 'before.example');

  await cert('after-hup.example');
  s.child.kill('SIGHUP');
  const deadline = Date.now() + 15_000;
  while (!s.lines.some((l) => l.includes('TLS certificate and key reloaded in every worker')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(s.child.exitCode, null, 'the cluster is still running after SIGHUP');
  for (let i = 0; i < 4; i++) assert.equal(await served(s.listening.imapsPort!), 'after-hup.example');
  assert.equal((await client.command('NOOP')).status, 'OK', 'the open session survived');

  await cert('after-reload.example');
  const reload = await postroom(['reload', '--data', data]);
  assert.equal(reload.stdout, 'TLS certificate and key: reloaded (2 workers)\n', reload.stderr);
  for (let i = 0; i < 4; i++) assert.equal(await served(s.listening.imapsPort!), 'after-reload.example');

  const who = await postroom(['who', '--data', data, '--json']);
  const sessions = who.stdout.trim().split('\n').map((l) => JSON.parse(l) as { user?: string; worker?: number; state: string });
  const alice = sessions.find((x) => x.user === 'alice');
  assert.equal(alice?.state, 'selected');
  assert.ok(alice?.worker === 1 || alice?.worker === 2, who.stdout);

  const text = await (await fetch(`http://127.0.0.1:${s.listening.metricsPort}/metrics`)).text();
  assert.match(text, /^postroom_commands_total\{protocol="imap",command="SELECT",result="ok"\} 1$/m, 'counted in a worker, seen through the primary');
  assert.match(text, /^postroom_sessions\{protocol="imap",state="selected"\} 1$/m);
  assert.match(text, /^postroom_store_operation_duration_seconds_count\{operation="snapshot"\} [1-9]/m, 'store timings from the workers, summed by the primary');
  assert.match(text, /^postroom_build_info\{version="0\.1\.0"\} 1$/m);
  assert.equal((await fetch(`http://127.0.0.1:${s.listening.metricsPort}/readyz`)).status, 200);
  client.close();
  assert.equal(await s.stop(), 0);
});

test('serve --workers 2 is refused on the memory store, which lives inside one process', { timeout: 60_000 }, async (t) => {
  const data = await mkdtemp(join(tmpdir(), 'postroom-cluster-memory-'));
  t.after(() => rm(data, { recursive: true, force: true }));
  const r = await postroom(['serve', '--workers', '2', '--store', 'memory', '--data', data, '--ephemeral-ports', '--log-level', 'error']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^postroom: --workers 2 needs --store sqlite or postgres: the memory store lives inside one process\. /);
  assert.equal(r.stdout, '', 'nothing listened');
});

test('serve --workers 2 serves ManageSieve from the workers: scripts stored through any worker drive delivery in the primary', { timeout: 150_000 }, async (t) => {
  const data = await mkdtemp(join(tmpdir(), 'postroom-cluster-sieve-'));
  t.after(() => rm(data, { recursive: true, force: true }));
  await UserFile.inDataDir(data, { scrypt: { log2N: 10, r: 8, p: 1 } }).add('alice', 'pw-alice');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, 'serve', '--workers', '2', '--data', data, '--store', 'postgres', '--database-url', await testDatabaseUrl(), '--imap-port', 'auto', '--imaps-port', 'off',
      '--pop3-port', 'off', '--pop3s-port', 'off', '--managesieve-port', 'auto', '--lmtp-port', 'auto', '--allow-insecure-auth', '--log-level', 'error'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  type Ports = { msg?: string; imapPort: number; managesievePort: number | null; lmtpPort: number; workers: number; pid: number };
  const listening = await new Promise<Ports>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no listening line')), 90_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const m = JSON.parse(line) as Ports;
      if (m.msg === 'listening') (clearTimeout(timer), resolve(m));
    });
  });
  assert.equal(listening.workers, 2);
  assert.ok(typeof listening.managesievePort === 'number' && listening.managesievePort > 0, 'the workers\' ManageSieve port is in the listening line');

  // Several sessions at once (spread over both workers, --worker-accept); each stores a script.
  // Five, the per-user limit of one process (maxConnectionsPerUser): all may land on one worker.
  const sessions: RawSieveClient[] = [];
  t.after(() => sessions.forEach((c) => c.close()));
  for (let i = 0; i < 5; i++) {
    const c = await RawSieveClient.connect(listening.managesievePort);
    sessions.push(c);
    assert.match(await c.response(), /"SIEVE" "[^"]*fileinto/i);
    assert.match(await c.command(`AUTHENTICATE "PLAIN" "${plain('alice', 'pw-alice')}"`), /^OK/);
  }
  for (const [i, c] of sessions.entries()) {
    const script = `require ["fileinto", "mailbox", "imap4flags"];\r\nif header :contains "subject" "report ${i}" { fileinto :create :flags "\\\\Flagged" "Reports"; }\r\n`;
    assert.match(await c.command(`PUTSCRIPT "s${i}" {${Buffer.byteLength(script)}+}\r\n${script}`), /^OK/);
  }
  assert.match(await sessions[4]!.command('SETACTIVE "s4"'), /^OK/);
  // Every session, whichever worker it is on, sees every script and the active one (one database).
  for (const c of sessions) {
    const list = await c.command('LISTSCRIPTS');
    assert.equal((list.match(/^"s\d"/gm) ?? []).length, 5, list);
    assert.match(list, /^"s4" ACTIVE\r$/m);
  }
  // The server side of every ManageSieve session is in a worker process, none in the primary (ss shows the owner).
  const owners = new Set(
    execFileSync('ss', ['-tnpH', 'state', 'established', `( sport = :${listening.managesievePort} )`], { encoding: 'utf8' })
      .split('\n')
      .flatMap((l) => [...l.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]))),
  );
  assert.ok(owners.size >= 1, 'ss sees the sessions');
  assert.ok(!owners.has(listening.pid), 'the primary holds no ManageSieve session');
  const workerPids = processTree(listening.pid).filter((p) => p !== listening.pid);
  for (const pid of owners) assert.ok(workerPids.includes(pid), `session owner ${pid} is a worker (${workerPids.join(', ')})`);
  // A bad script is refused with its position, in a worker as in one process.
  assert.match(await sessions[0]!.command('CHECKSCRIPT {9+}\r\nfrobnic;'), /^NO .*line 1/);

  // Delivery runs in the primary, on its own store: it reads the script the workers stored.
  const lmtp = await LmtpClient.connect({ host: '127.0.0.1', port: listening.lmtpPort });
  const r = await lmtp.send('x@remote.test', [{ address: 'alice@mx.test' }], Buffer.from('From: x@remote.test\r\nSubject: monthly report 4\r\n\r\nbody\r\n'));
  assert.equal(r.delivery[0]?.code, 250, JSON.stringify(r));
  const { client: imap } = await WireClient.connect('127.0.0.1', listening.imapPort);
  await imap.command('LOGIN alice pw-alice');
  assert.equal((await imap.command('SELECT Reports')).status, 'OK');
  const flags = await imap.command('FETCH 1 (FLAGS)');
  assert.ok(flags.untagged.some((u) => /\\Flagged/.test(u.text)), JSON.stringify(flags.untagged.map((u) => u.text)));

  // The primary now keeps s4 compiled; a worker replaces its text. The primary hears it through
  // PostgreSQL's notification (asynchronous across processes: milliseconds), so a bounded number
  // of deliveries may still use the old text; then every one uses the new.
  const other = 'require ["fileinto", "mailbox"];\r\nfileinto :create "Other";\r\n';
  assert.match(await sessions[2]!.command(`PUTSCRIPT "s4" {${Buffer.byteLength(other)}+}\r\n${other}`), /^OK/);
  const deliverOne = async (): Promise<void> => {
    const r2 = await lmtp.send('x@remote.test', [{ address: 'alice@mx.test' }], Buffer.from('From: x@remote.test\r\nSubject: monthly report 4\r\n\r\nbody\r\n'));
    assert.equal(r2.delivery[0]?.code, 250, JSON.stringify(r2));
  };
  const messagesIn = async (box: string): Promise<number> => {
    const status = await imap.command(`STATUS ${box} (MESSAGES)`);
    return Number(/MESSAGES (\d+)/.exec(status.untagged.map((u) => u.text).join(' '))?.[1] ?? 0);
  };
  let heard = false;
  for (let attempt = 0; attempt < 50 && !heard; attempt++) {
    await deliverOne();
    heard = (await messagesIn('Other')) > 0;
    if (!heard) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok(heard, 'the replaced script drives delivery in the primary');
  const reports = await messagesIn('Reports');
  await deliverOne();
  assert.equal(await messagesIn('Reports'), reports, 'once heard, never the old text again');
  assert.equal(await messagesIn('Other'), 2);
  await lmtp.quit();
  imap.close();

  for (const c of sessions) c.close();
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});
