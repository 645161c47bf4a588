/**
 * Real clients over TLS against both modes, 50 varied messages each: curl's pop3 client (implicit
 * TLS and STLS) and fetchmail from Debian (implicit TLS, deleting what it fetched).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256, variedMessages } from './pop3/messages.js';
import { startMode, type Mode } from './pop3/modes.js';

const USER = 'erin';
const PASSWORD = 'pw-123';
const messages = variedMessages(50);

function have(program: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function run(program: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(program, args, { timeout: 120_000, maxBuffer: 64 << 20, encoding: 'buffer', env }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${program} failed: ${err.message}\n${stderr.toString()}`));
      resolve({ stdout, stderr: stderr.toString() });
    });
  });
}

for (const mode of ['callbacks', 'store'] as Mode[]) {
  describe(`real clients, ${mode} mode`, () => {
    test('curl: LIST over implicit TLS, then all 50 messages byte for byte; RETR over STLS', { skip: !have('curl') && !process.env.CI && 'curl is not installed (scripts/install-test-deps.sh installs it as root)' }, async (t) => {
      const server = await startMode(mode, USER, PASSWORD, messages);
      t.after(() => server.close());
      const dir = mkdtempSync(join(tmpdir(), 'pop3-curl-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const base = `pop3s://127.0.0.1:${server.tlsPort}`;
      const list = await run('curl', ['-sS', '-k', '-u', `${USER}:${PASSWORD}`, `${base}/`]);
      assert.equal(list.stdout.toString(), messages.map((m, i) => `${i + 1} ${m.length}\r\n`).join(''));
      // One curl, one connection reused for every RETR (a second connection would meet [IN-USE]).
      const args = ['-sS', '-k', '-u', `${USER}:${PASSWORD}`];
      messages.forEach((_, i) => args.push(`${base}/${i + 1}`, '-o', join(dir, `${i + 1}.eml`)));
      await run('curl', args);
      for (let i = 0; i < messages.length; i++) {
        const got = readFileSync(join(dir, `${i + 1}.eml`));
        assert.equal(got.length, messages[i].length, `message ${i + 1} length`);
        assert.equal(sha256(got), sha256(messages[i]), `message ${i + 1} bytes`);
      }
      const stls = await run('curl', ['-sS', '-k', '--ssl-reqd', '-u', `${USER}:${PASSWORD}`, `pop3://127.0.0.1:${server.port}/50`]);
      assert.equal(sha256(stls.stdout), sha256(messages[49]));
      assert.equal(await server.remaining(), 50);
    });

    test('fetchmail: fetches and deletes all 50 messages over TLS', { skip: !have('fetchmail') && !process.env.CI && 'fetchmail is not installed (scripts/install-test-deps.sh installs it as root)' }, async (t) => {
      const server = await startMode(mode, USER, PASSWORD, messages);
      t.after(() => server.close());
      const dir = mkdtempSync(join(tmpdir(), 'pop3-fetchmail-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const out = join(dir, 'out');
      mkdirSync(out);
      const rc = join(dir, 'fetchmailrc');
      writeFileSync(
        rc,
        [
          'set no bouncemail',
          'set no syslog',
          `poll 127.0.0.1 with proto POP3 port ${server.tlsPort} auth password`,
          `  user "${USER}" there with password "${PASSWORD}" is "${USER}" here`,
          '  options ssl no sslcertck',
          `  mda "cat > ${out}/$(date +%s%N)-$$.eml"`,
          '',
        ].join('\n'),
      );
      chmodSync(rc, 0o600); // fetchmail refuses a run-control file others can read
      const result = await run('fetchmail', ['-f', rc, '--idfile', join(dir, 'ids'), '-N', '-v'], { ...process.env, HOME: dir });
      assert.match(result.stdout.toString() + result.stderr, /reading message .*:50 of 50/);
      const files = readdirSync(out);
      assert.equal(files.length, 50);
      // fetchmail hands the MDA LF line ends and a Received: line of its own; undo both and compare.
      const delivered = new Set(
        files.map((f) => {
          const text = readFileSync(join(out, f), 'latin1');
          return sha256(Buffer.from(text.replace(/^Received:.*\n(?:[ \t].*\n)*/, ''), 'latin1'));
        }),
      );
      const expected = new Set(messages.map((m) => sha256(Buffer.from(m.toString('latin1').replace(/\r\n/g, '\n'), 'latin1'))));
      assert.deepEqual(delivered, expected);
      assert.equal(await server.remaining(), 0, 'fetchmail deleted what it fetched (DELE, then QUIT)');
    });
  });
}
