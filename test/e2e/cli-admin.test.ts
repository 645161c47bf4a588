/**
 * The admin commands against a running `postroom serve` (a real child process), through its
 * control socket: who, kick, mailbox list/status/create/rename/delete/expunge, import and export
 * while it runs (its IDLE sessions hear the changes), reload (a replaced certificate is served) —
 * and what they say when no server runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { generate } from 'selfsigned';
import { UserFile } from '../../src/auth/user-file.js';
import { WireClient } from '../../bench/load/wire-client.js';
import { postroom } from '../helpers/cli.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServe, waitForLog } from '../helpers/serve.js';

const FAST = { scrypt: { log2N: 10, r: 8, p: 1 } };

async function certificate(cn: string): Promise<{ key: string; cert: string }> {
  const pems = await generate([{ name: 'commonName', value: cn }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' } as never);
  return { key: pems.private, cert: pems.cert };
}

function peerCommonName(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const cn = c.getPeerCertificate().subject?.CN;
      c.end();
      resolve(String(cn));
    });
    c.on('error', reject);
  });
}

/** Waits for an untagged response during IDLE that matches. */
function heard(client: WireClient, match: RegExp): Promise<string> {
  return new Promise((resolve) => {
    client.onUntagged = (r) => {
      if (match.test(r.text)) resolve(r.text);
    };
  });
}

test('admin commands against a running server', { timeout: 400_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'postroom-admin-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const data = join(work, 'data');
  const users = UserFile.inDataDir(data, FAST);
  await users.add('ann', 'pw-ann');
  await users.add('bob', 'pw-bob');
  const keyFile = join(work, 'key.pem');
  const certFile = join(work, 'cert.pem');
  const first = await certificate('first.example');
  writeFileSync(keyFile, first.key);
  writeFileSync(certFile, first.cert);

  // No server yet: the commands that need one say so.
  const none = await postroom(['who', '--data', data]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no server is running on .*data \(nothing answers on .*control\.sock\)/);

  const s = await startServe(['--data', data, '--ephemeral-ports', '--allow-insecure-auth', '--tls-key', keyFile, '--tls-cert', certFile, '--log-level', 'info']);
  t.after(() => s.stop());
  const { imapPort, pop3Port, imapsPort } = s.listening;
  assert.equal(s.listening.controlSocket, join(data, 'control.sock'));
  assert.equal(statSync(s.listening.controlSocket).mode & 0o777, 0o600, 'control socket mode');

  // --- who -------------------------------------------------------------------------------
  const { client: ann } = await WireClient.connect('127.0.0.1', imapPort!);
  t.after(() => ann.close());
  assert.equal((await ann.command('LOGIN ann pw-ann')).status, 'OK');
  assert.equal((await ann.command('SELECT INBOX')).status, 'OK');
  const { client: bob } = await WireClient.connect('127.0.0.1', imapPort!);
  t.after(() => bob.close());
  assert.equal((await bob.command('LOGIN bob pw-bob')).status, 'OK');
  const pop = new RawClient(pop3Port!);
  t.after(() => pop.destroy());
  await pop.expect(/^\+OK/);
  const who = await postroom(['who', '--data', data, '--json']);
  assert.equal(who.code, 0, who.stderr);
  const sessions = who.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const annSession = sessions.find((x) => x['user'] === 'ann')!;
  assert.deepEqual(
    { protocol: annSession['protocol'], state: annSession['state'], mailbox: annSession['mailbox'], remoteAddress: annSession['remoteAddress'] },
    { protocol: 'imap', state: 'selected', mailbox: 'INBOX', remoteAddress: '127.0.0.1' },
  );
  assert.equal(sessions.find((x) => x['user'] === 'bob')?.['state'], 'authenticated');
  assert.ok(sessions.some((x) => x['protocol'] === 'pop3' && x['state'] === 'authorization'), who.stdout);
  const table = await postroom(['who', '--data', data]);
  assert.match(table.stdout, /^ID +PROTO +USER +ADDRESS +TLS +STATE +MAILBOX +IDLE/);
  assert.match(table.stdout, /imap +ann +127\.0\.0\.1 +no +selected +INBOX/);

  // --- mailbox commands; changes reach ann's IDLE -----------------------------------------
  const mb = (...args: string[]) => postroom(['mailbox', ...args, '--user', 'ann', '--data', data]);
  let r = await mb('create', 'Projects/2026');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'created Projects/2026\n');
  assert.equal((await mb('create', 'Old')).code, 0);
  r = await mb('rename', 'Projects/2026', 'Archive/2026');
  assert.equal(r.code, 0, r.stderr);
  r = await mb('delete', 'Old');
  assert.equal(r.code, 0, r.stderr);
  r = await mb('list');
  assert.match(r.stdout, /^INBOX\t\(subscribed\)$/m);
  assert.match(r.stdout, /^Archive\/2026\t\(subscribed\)$/m, 'renamed');
  assert.doesNotMatch(r.stdout, /^Projects\/2026|^Old/m, 'renamed away and deleted');
  r = await mb('delete', 'Nope');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /postroom: .*(no such|nonexistent|does not exist)/i);
  r = await postroom(['mailbox', 'list', '--user', 'nobody-here', '--data', data]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no user "nobody-here": not in .*users, and the store has no mail for "nobody-here"/);

  // import while the server runs: ann's IDLE hears the new messages.
  const mbox = join(work, 'in.mbox');
  const old = 'From a@example.org Mon Jan  1 10:00:00 2001\nSubject: very old\n\nold\n\n';
  const recent = `From b@example.org ${new Date().toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+) ([\d:]+) GMT$/, '$1 $3 $2 $5 $4')}\nSubject: recent\n\nnew\n`;
  writeFileSync(mbox, old + recent);
  ann.write('i1 IDLE\r\n');
  assert.match((await ann.next()).text, /^\+/);
  const exists = heard(ann, /^\* 2 EXISTS$/);
  r = await postroom(['import', '--user', 'ann', '--mbox', mbox, '--data', data, '--no-progress']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /imported 2 messages .* 0 already there \(through the running server\)/);
  await exists;
  r = await postroom(['import', '--user', 'ann', '--mbox', mbox, '--data', data, '--no-progress']);
  assert.match(r.stdout, /imported 0 messages .* 2 already there/);

  r = await mb('status');
  assert.match(r.stdout, /^INBOX\tmessages 2\tunseen 2\t/m);
  r = await mb('expunge', 'INBOX', '--older-than', '30d', '--dry-run');
  assert.equal(r.stdout.trim(), `INBOX: 1 message older than ${r.stdout.match(/older than (\S+)/)![1]} (dry run: nothing removed)`);
  const expunged = heard(ann, /^\* 1 EXPUNGE$/);
  r = await mb('expunge', 'INBOX', '--older-than', '30d');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^INBOX: removed 1 message older than /);
  await expunged;
  ann.write('DONE\r\n');
  await ann.next();

  // export while the server runs.
  const out = join(work, 'exported');
  r = await postroom(['export', '--user', 'ann', '--maildir', out, '--data', data, '--no-progress']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /exported 1 messages/);
  assert.equal(readdirSync(join(out, 'cur')).length, 1);

  // --- reload: the replaced certificate is served to new connections -------------------------
  assert.equal(await peerCommonName(imapsPort!), 'first.example');
  const second = await certificate('second.example');
  writeFileSync(keyFile, second.key);
  writeFileSync(certFile, second.cert);
  r = await postroom(['reload', '--data', data]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'TLS certificate and key: reloaded\n');
  assert.equal(await peerCommonName(imapsPort!), 'second.example');
  // SIGHUP does the same.
  const third = await certificate('third.example');
  writeFileSync(keyFile, third.key);
  writeFileSync(certFile, third.cert);
  s.child.kill('SIGHUP');
  await waitForLog(s, (l) => l['msg'] === 'TLS certificate and key reloaded' && s.lines.filter((x) => x.includes('TLS certificate and key reloaded')).length >= 2);
  assert.equal(await peerCommonName(imapsPort!), 'third.example');
  assert.equal(s.child.exitCode, null, 'SIGHUP did not end the server');

  // --- kick ---------------------------------------------------------------------------------
  const bye = new Promise<string>((resolve) => {
    ann.onUntagged = (x) => {
      if (x.text.startsWith('* BYE')) resolve(x.text);
    };
  });
  r = await postroom(['kick', '--user', 'ann', '--data', data]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ended 1 session:\n/);
  assert.match(await bye, /^\* BYE Disconnected by the administrator/);
  assert.equal((await bob.command('NOOP')).status, 'OK', 'bob stays');
  const bobId = (JSON.parse((await postroom(['who', '--data', data, '--json'])).stdout.trim().split('\n').find((l) => l.includes('"bob"'))!) as { id: string }).id;
  r = await postroom(['kick', '--id', bobId, '--data', data]);
  assert.match(r.stdout, /^ended 1 session:/);
  r = await postroom(['kick', '--data', data]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /give exactly one of --user NAME or --id ID/);

  assert.equal(await s.stop(), 0);
  r = await postroom(['reload', '--data', data]);
  assert.match(r.stderr, /no server is running/);
});
