/**
 * The start-up warm-up (src/cli/warm-up.ts): `serve` runs its burst of IMAP commands against a
 * throwaway store before the listeners open, leaves nothing behind (no temporary folder, nothing in
 * the real store), and serves clients as before; the bounds hold, a bad bound is refused at start,
 * and a warm-up that fails never stops the server from starting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { postroom } from '../helpers/cli.js';
import { testCertificate, testCertificateFiles } from '../helpers/certs.js';
import { startServe } from '../helpers/serve.js';
import { warmUp, resolveWarmUp, warmUpMessage, DEFAULT_WARM_UP } from '../../src/cli/warm-up.js';
import type { Logger } from '../../src/util/logger.js';
import { SILENT_LOGGER } from '../../src/util/logger.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';

/** A logger that keeps its warn lines (what warmUp reports a failure with). */
function recordingLogger(): { logger: Logger; warnings: Array<{ obj: unknown; msg: unknown }> } {
  const warnings: Array<{ obj: unknown; msg: unknown }> = [];
  const logger: Logger = {
    ...SILENT_LOGGER,
    warn: (obj, msg) => void warnings.push({ obj, msg }),
    child: () => logger,
  };
  return { logger, warnings };
}

test('serve warms up over implicit TLS before listening, leaves no folder and nothing in the real store', { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-wu-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const data = join(dir, 'data');
  // The child's own temporary folder: what the warm-up leaves there is this test's to see.
  const tmp = join(dir, 'tmp');
  await mkdir(tmp);
  const add = await postroom(['user', 'add', 'ann', '--password-stdin', '--data', data], 'ann-secret-1\n');
  assert.equal(add.code, 0, add.stderr);
  const files = await testCertificateFiles(dir);
  const server = await startServe(
    ['--data', data, '--warm-up', '--ephemeral-ports', '--imap-port', 'off', '--pop3-port', 'off', '--pop3s-port', 'off', '--tls-cert', files.cert, '--tls-key', files.key, '--log-level', 'debug'],
    { env: { ...process.env, TMPDIR: tmp }, timeoutMs: 60_000 },
  );
  t.after(() => server.stop());
  const done = server.logLines().find((l) => l['msg'] === 'start-up warm-up done');
  assert.ok(done, `no warm-up line in ${server.stdout().slice(0, 2000)}`);
  assert.ok(Number(done['appends']) > 0 && Number(done['appends']) <= DEFAULT_WARM_UP.appends, `appends ${String(done['appends'])}`);
  // The reads and flag changes between the APPENDs ran too, all answered OK.
  assert.ok(Number(done['commands']) > Number(done['appends']), `commands ${String(done['commands'])}`);
  // Before the listening line: the warm-up's line comes first in stdout.
  const order = server.lines.findIndex((l) => l.includes('start-up warm-up done'));
  const listening = server.lines.findIndex((l) => l.includes('"msg":"listening"'));
  assert.ok(order >= 0 && order < listening, `warm-up line ${order}, listening line ${listening}`);
  // (tsx keeps its own cache there too.)
  assert.deepEqual((await readdir(tmp)).filter((n) => n.startsWith('postroom-warm-up-')), [], 'the warm-up removed its folder');

  // The real store: ann's mailbox has nothing of the warm-up's (no Saved folder, an empty INBOX).
  const client = new ImapFlow({ host: '127.0.0.1', port: server.listening.imapsPort!, secure: true, tls: { rejectUnauthorized: false }, auth: { user: 'ann', pass: 'ann-secret-1' }, logger: false });
  await client.connect();
  try {
    const names = (await client.list()).map((m) => m.path);
    assert.ok(!names.includes('Saved'), `mailboxes: ${names.join(', ')}`);
    const inbox = await client.mailboxOpen('INBOX');
    assert.equal(inbox.exists, 0);
    const appended = await client.append('INBOX', warmUpMessage(3), ['\\Seen']);
    assert.equal(appended && appended.uid, 1);
  } finally {
    await client.logout();
  }
  assert.equal(await server.stop(), 0);
});

test('warmUp: stops at its APPEND bound, answers every command, removes its store', { timeout: 60_000 }, async () => {
  const cert = await testCertificate();
  // The warm-up makes its folder in os.tmpdir(), which follows TMPDIR: a folder of this test's own,
  // so that another process's warm-up in the shared /tmp meanwhile (a concurrent test file's
  // server, a bench) is not taken for one this warm-up left (seen beside a load of other tests).
  const ownTmp = await mkdtemp(join(tmpdir(), 'postroom-wu-tmp-'));
  const savedTmp = process.env['TMPDIR'];
  const { logger, warnings } = recordingLogger();
  let report: Awaited<ReturnType<typeof warmUp>>;
  try {
    process.env['TMPDIR'] = ownTmp;
    report = await warmUp({ appends: 24, ms: 60_000 }, { tls: cert, implicitTls: true, literalMinus: false }, logger);
  } finally {
    if (savedTmp === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = savedTmp;
  }
  const left = await readdir(ownTmp);
  await rm(ownTmp, { recursive: true, force: true });
  assert.deepEqual(warnings, []);
  assert.equal(report?.appends, 24);
  // 24 APPENDs and what comes between them: LOGIN, CREATE, SELECT, 6 × 3 after every 4th, 3 × 4 after every 8th, 1 × 2 after the 16th, LOGOUT.
  assert.equal(report?.commands, 24 + 3 + 18 + 12 + 2 + 1);
  assert.deepEqual(left, [], 'the warm-up removed its folder');
  // What its store prepared, prepared ahead in another store; a text that does not prepare is skipped.
  assert.ok(report!.statements.some((sql) => /^INSERT INTO messages/.test(sql)), report!.statements.join('\n'));
  const dir = await mkdtemp(join(tmpdir(), 'postroom-wu-test-'));
  const other = await SqliteStore.open({ directory: dir });
  try {
    const fresh = other.preparedSql().length;
    const missing = report!.statements.filter((sql) => !other.preparedSql().includes(sql)).length;
    assert.equal(other.prepareAhead([...report!.statements, 'SELECT nonsense FROM nowhere']), missing);
    assert.ok(other.preparedSql().length > fresh + 10, `${other.preparedSql().length} prepared, ${fresh} before`);
    assert.ok(!other.preparedSql().includes('SELECT nonsense FROM nowhere'));
    assert.equal(other.prepareAhead(report!.statements), 0);
  } finally {
    await other.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('warmUp: the time bound stops it early; plaintext when there is no implicit TLS', { timeout: 60_000 }, async () => {
  const { logger, warnings } = recordingLogger();
  // The time bound: checked between commands, so the one in flight (at most a few ms here) may overrun it.
  const bounded = await warmUp({ appends: 10_000, ms: 1_000 }, { implicitTls: false, literalMinus: true }, logger);
  assert.ok(bounded && bounded.appends < 10_000 && bounded.ms < 1_000 + 5_000, JSON.stringify({ ...bounded, statements: undefined }));
  // Plaintext (no implicit TLS listener): the same script, every command OK.
  const plain = await warmUp({ appends: 5, ms: 60_000 }, { implicitTls: false, literalMinus: true }, logger);
  assert.equal(plain?.appends, 5);
  assert.deepEqual(warnings, []);
  assert.equal(await warmUp({ appends: 0, ms: 2_000 }, { implicitTls: false, literalMinus: false }, logger), null);
});

test('warmUp: a failure is logged and the warm-up resolves (the server starts anyway)', { timeout: 60_000 }, async () => {
  const { logger, warnings } = recordingLogger();
  // An IMAP limit the server refuses: creating the warm-up's server throws.
  const report = await warmUp({ appends: 10, ms: 5_000 }, { implicitTls: false, literalMinus: false, imapLimits: { noSuchLimit: 1 } }, logger);
  assert.equal(report?.appends, 0);
  assert.equal(warnings.length, 1);
  assert.match(String(warnings[0]!.msg), /warm-up stopped early/);
});

test('warmUpLimits: defaults, overrides, and bad values refused by serve at start', { timeout: 60_000 }, async (t) => {
  assert.deepEqual(resolveWarmUp(undefined), { appends: 300, ms: 5_000 });
  assert.deepEqual(resolveWarmUp({ appends: 50 }), { appends: 50, ms: 5_000 });
  assert.throws(() => resolveWarmUp({ appends: -1 }), /warmUpLimits.appends must be a whole number from 0 to 10000/);
  assert.throws(() => resolveWarmUp({ ms: 1.5 }), /warmUpLimits.ms/);
  assert.throws(() => resolveWarmUp({ rounds: 3 }), /unknown setting rounds/);
  const dir = await mkdtemp(join(tmpdir(), 'postroom-wu-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const config = join(dir, 'config.json');
  await writeFile(config, JSON.stringify({ warmUpLimits: { appends: 20_000 } }));
  const r = await postroom(['serve', '--config', config, '--data', join(dir, 'data'), '--ephemeral-ports', '--log-level', 'error']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /warmUpLimits.appends must be a whole number from 0 to 10000/);
});
