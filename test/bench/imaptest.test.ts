/**
 * bench/imaptest.ts without imaptest: it refuses clearly when no binary is given, an early failure
 * ends it at once with its servers stopped, the `postroom serve` it runs for an A/B serves TLS too,
 * and its reading of imaptest's `output=` rows and its mbox are right (no imaptest is needed for any
 * of this).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { checkBinary, imaptestArgs, parseOutput } from '../../bench/imaptest/run.js';
import { writeBenchMbox } from '../../bench/imaptest/mbox.js';
import { BENCH_TMP, PASSWORD, mixedUsers } from '../../bench/servers/common.js';
import { startPostroom } from '../../bench/servers/postroom.js';
import { testCertificateFiles } from '../helpers/certs.js';

/** Pids of the processes whose command line names `text` (a run's folder: the servers it started). */
function processesNaming(text: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

test('without --imaptest, or with a path that is no executable, the bench stops with exit code 2 and says why', () => {
  const none = spawnSync(process.execPath, ['--import', 'tsx', 'bench/imaptest.ts'], { encoding: 'utf8' });
  assert.equal(none.status, 2);
  assert.match(none.stderr, /--imaptest PATH is required/);
  const dir = mkdtempSync(join(tmpdir(), 'imaptest-'));
  try {
    const notExec = join(dir, 'imaptest');
    writeFileSync(notExec, 'not a program', { mode: 0o644 });
    const bad = spawnSync(process.execPath, ['--import', 'tsx', 'bench/imaptest.ts', '--imaptest', notExec], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /no executable file there/);
    assert.throws(() => checkBinary(join(dir, 'missing')), /no executable file there/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a server that fails to start after another one started: the bench stops the one running and exits 1 at once', () => {
  // Postroom starts; Postroom-base, from a folder holding no checkout, exits before listening. The
  // bench used to set its exit code and then wait on the running Postroom for ever.
  const empty = mkdtempSync(join(tmpdir(), 'imaptest-no-checkout-'));
  const runName = `test-early-failure-${process.pid}`;
  const runDir = join(BENCH_TMP, 'run', runName);
  try {
    const args = ['--imaptest', '/bin/true', '--servers', 'postroom', '--users', '2', '--messages', '5', '--run-name', runName,
      '--postroom-runtime', 'tsx', '--postroom-base', empty, '--postroom-base-runtime', 'tsx'];
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/imaptest.ts', ...args], { encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL' });
    assert.equal(r.status, 1, `exit ${r.status} signal ${r.signal}: ${r.stderr.slice(-2000)}`);
    assert.match(r.stderr, /bench\/imaptest\.ts failed: .*exited with 1 before listening/);
    assert.deepEqual(processesNaming(runDir), [], 'no server of the run is left running');
  } finally {
    for (const pid of processesNaming(runDir)) process.kill(pid, 'SIGKILL');
    rmSync(empty, { recursive: true, force: true });
    rmSync(runDir, { recursive: true, force: true });
  }
});

test('--postroom-serve-args over --tls: the serve (own-store workers) listens on implicit TLS with the given certificate and logs a bench user in', async () => {
  const runDir = join(BENCH_TMP, 'run', `test-serve-tls-${process.pid}`);
  mkdirSync(runDir, { recursive: true });
  const tls = await testCertificateFiles(runDir);
  const running = await startPostroom({ runDir, spec: mixedUsers(2, 5), serveArgs: ['--workers', '2', '--sqlite-workers', 'own-store'], runtime: 'tsx', tls });
  try {
    assert.ok(running.tlsPort, 'the serve reports its implicit-TLS port');
    const socket = connect({ host: '127.0.0.1', port: running.tlsPort, ca: readFileSync(tls.cert), servername: 'localhost' });
    const transcript = await new Promise<string>((resolve, reject) => {
      let text = '';
      let sent = false;
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        text += chunk;
        if (!sent && /^\* OK/m.test(text)) {
          sent = true;
          socket.write(`a1 LOGIN user1 ${PASSWORD}\r\n`);
        }
        if (/^a1 (OK|NO|BAD)/m.test(text)) resolve(text);
      });
      socket.on('error', reject);
      socket.setTimeout(30_000, () => reject(new Error(`no answer over TLS: ${text}`)));
    });
    socket.destroy();
    assert.match(transcript, /^a1 OK/m);
  } finally {
    await running.stop();
    rmSync(runDir, { recursive: true, force: true });
  }
});

test('output= rows: three numbers per state are summed over the measured seconds only; a header that does not match the rows is refused', () => {
  const text = ['LOGIN count\tLOGIN msecs\tFETCH count\tFETCH msecs', '1\t1\t5\t10\t9\t30', '0\t0\t0\t20\t19\t40', '7\t7\t7\t7\t7\t7', ''].join('\n');
  const r = parseOutput(text, 2);
  assert.equal(r.seconds, 2);
  assert.deepEqual(r.states['LOGIN'], { count: 1, timed: 1, ms: 5 });
  assert.deepEqual(r.states['FETCH'], { count: 30, timed: 28, ms: 70 });
  // imaptest writes the header before it drops COPY (no copybox): the columns then shift.
  const shifted = ['COPY count\tCOPY msecs\tFETCH count\tFETCH msecs', '1\t1\t5', ''].join('\n');
  assert.throws(() => parseOutput(shifted, 1), /values in a row for 2 states/);
  // checkpoint= turns CHECKPOINT! on after the header: its three values trail every row.
  const trailing = ['LOGIN count\tLOGIN msecs', '2\t2\t8\t1\t1\t0', ''].join('\n');
  assert.deepEqual(parseOutput(trailing, 1).states['LOGIN'], { count: 2, timed: 2, ms: 8 });
});

test('persistent cells add logout=0, TLS ssl=any-cert, and COPY is always named 0', () => {
  const base = { binary: 'x', host: '127.0.0.1', port: 143, userTemplate: 'user%d', users: 100, password: 'p', clients: 1, seconds: 5, mbox: 'm', messages: 400, outputFile: 'o' };
  const plain = imaptestArgs({ ...base, tls: false, persistent: false });
  assert.ok(plain.includes('copy=0') && !plain.includes('logout=0') && !plain.includes('ssl=any-cert'));
  const both = imaptestArgs({ ...base, tls: true, persistent: true });
  assert.ok(both.includes('logout=0') && both.includes('ssl=any-cert') && both.includes('msgs=400') && both.includes('secs=5,10'));
});

test('the APPEND mbox: one From_ line per message, body lines starting with "From " quoted', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imaptest-mbox-'));
  try {
    const file = join(dir, 'm.mbox');
    writeBenchMbox(file, 5);
    const text = readFileSync(file, 'latin1');
    assert.equal(text.match(/^From imaptest@bench /gm)?.length, 5);
    assert.equal(/^From (?!imaptest@bench )/m.test(text), false);
    assert.equal(text.includes('\r\n'), false, 'LF line ends (imaptest sends CRLF itself)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
