/**
 * bench:vs-dovecot's login-rate scenario runs against Postroom over implicit TLS and reports every
 * login, cold and warm (counts, not timing: the machine running the tests is no bench).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startPostroom } from '../../bench/servers/postroom.js';
import { BENCH_TMP, mixedUsers } from '../../bench/servers/common.js';
import { loginRate, loginReport, loginUsers } from '../../bench/login-rate.js';
import { runLoginRate } from '../../bench/login/run.js';
import { testCertificateFiles } from '../helpers/certs.js';

test('login-rate: every cold and warm login over TLS is counted and reported; a refused one is an error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'postroom-login-rate-'));
  const tls = await testCertificateFiles(dir);
  // Two rounds of three users, at the default hash cost (as the scenario runs).
  const users = loginUsers(3, 2);
  assert.equal(new Set(users.flat().map((u) => u.user)).size, 6, 'every login of every round is a user of its own');
  assert.equal(new Set(users.flat().map((u) => u.password)).size, 6, 'with a password of its own');
  const running = await startPostroom({ runDir: join(BENCH_TMP, 'run', 'login-rate-test'), spec: mixedUsers(1, 5), maxConnections: 20, tls, extraUsers: users.flat() });
  try {
    const rows = await loginRate({ servers: [{ label: 'Postroom', scheme: 'scrypt', cache: 'default', running }], users, concurrency: 2, workers: 1 });
    assert.equal(rows.length, 1);
    for (const phase of ['cold', 'warm'] as const) {
      const t = rows[0]![phase].table;
      for (const step of ['login', 'CONNECT', 'LOGIN', 'LOGOUT']) {
        assert.equal(t[step]?.ok, 6, `${phase} ${step}: ${JSON.stringify(t[step]?.samples)}`);
        assert.equal(t[step]?.errors, 0, `${phase} ${step} errors`);
      }
      assert.ok(rows[0]![phase].seconds > 0);
    }
    const report = loginReport(rows, 'Postroom');
    assert.match(report, /^\| Postroom \| scrypt \| default \| [\d.]+ \| [\d.]+ \| [\d.]+ \| 1\.00 \| 1\.00 \|.*\| 6 \+ 6 \| 0 \|$/m);
    assert.doesNotMatch(report, /first errors/);

    // A wrong password is a failed login, counted as an error and named in the report.
    const wrong = await runLoginRate({ host: '127.0.0.1', port: running.tlsPort!, tls: true, logins: [{ user: users[0]![0]!.user, password: 'not-it' }], concurrency: 1, workers: 1 });
    assert.equal(wrong.table['login']?.ok ?? 0, 0);
    assert.equal(wrong.table['LOGIN']?.errors, 1);
    assert.match(loginReport([{ label: 'X', scheme: 's', cache: 'c', cold: wrong, warm: wrong }], 'X'), /first errors:\n {2}X cold LOGIN: /);
  } finally {
    await running.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
