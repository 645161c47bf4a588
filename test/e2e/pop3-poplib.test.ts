/** Python's poplib against both modes: STLS and implicit TLS, APOP, the UPDATE state, IN-USE. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bigMessage, sha256, variedMessages } from './pop3/messages.js';
import { startMode, type Mode } from './pop3/modes.js';

const SCRIPT = fileURLToPath(new URL('./pop3/poplib_client.py', import.meta.url));
const USER = 'dave';
const PASSWORD = 'correct horse';

function poplib(args: Record<string, unknown>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile('python3', [SCRIPT, JSON.stringify(args)], { timeout: 60_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${err.message}\n${stderr}`));
      resolve(JSON.parse(stdout) as Record<string, unknown>);
    });
  });
}

const big = bigMessage(3);
const messages = [...variedMessages(4), big];

// 'store' is the MemoryStore, 'sqlite' the SqliteStore: the same POP3 code over both backends.
for (const mode of ['callbacks', 'store', 'sqlite'] as Mode[]) {
  describe(`poplib, ${mode} mode`, () => {

    for (const tls of ['stls', 'implicit'] as const) {
      test(`USER/PASS over ${tls}: STAT, LIST, UIDL, TOP, RETR byte for byte`, async (t) => {
        const run = await startMode(mode, USER, PASSWORD, messages);
        t.after(() => run.close());
        const out = await poplib({ port: tls === 'stls' ? run.port : run.tlsPort, tls, user: USER, password: PASSWORD, scenario: 'read' });
        assert.equal(out.error, undefined);
        const total = messages.reduce((s, m) => s + m.length, 0);
        assert.deepEqual(out.stat, [messages.length, total]);
        assert.deepEqual(out.list, messages.map((m, i) => `${i + 1} ${m.length}`));
        const uidl = out.uidl as string[];
        assert.equal(new Set(uidl.map((l) => l.split(' ')[1])).size, messages.length, 'UIDLs are unique');
        const top = out.top as string[];
        const header = messages[0].toString('latin1').split('\r\n\r\n')[0].split('\r\n');
        const body = messages[0].toString('latin1').split('\r\n\r\n')[1].split('\r\n');
        assert.deepEqual(top, [...header, '', ...body.slice(0, 2)]);
        const got = out.messages as Array<{ resp: string; length: number; sha256: string }>;
        assert.deepEqual(got.map((m) => m.length), messages.map((m) => m.length));
        assert.deepEqual(got.map((m) => m.sha256), messages.map(sha256));
        assert.equal(got[4].resp, `+OK ${big.length} octets`);
        assert.ok(big.length > 3 * 1024 * 1024);
        assert.match(out.quit as string, /^\+OK/);
        // Both ways the CAPA was asked over TLS: USER and SASL on offer, STLS no longer.
        assert.ok((out.capa as string[]).includes('USER'));
        assert.ok((out.capa as string[]).includes('SASL'));
        assert.ok(!(out.capa as string[]).includes('STLS'));
      });
    }

    test('APOP', async (t) => {
      const run = await startMode(mode, USER, PASSWORD, messages);
      t.after(() => run.close());
      const out = await poplib({ port: run.tlsPort, tls: 'implicit', user: USER, password: PASSWORD, scenario: 'apop' });
      assert.equal(out.error, undefined);
      assert.match(out.timestamp as string, /^<.+@.+>$/);
      assert.deepEqual(out.stat, [messages.length, messages.reduce((s, m) => s + m.length, 0)]);
      assert.match(out.wrong as string, /^-ERR \[AUTH\]/);
    });

    test('DELE + RSET keeps everything', async (t) => {
      const run = await startMode(mode, USER, PASSWORD, messages);
      t.after(() => run.close());
      const out = await poplib({ port: run.port, tls: 'stls', user: USER, password: PASSWORD, scenario: 'dele_rset' });
      assert.equal(out.error, undefined);
      assert.equal((out.after_dele as number[])[0], messages.length - 1);
      assert.equal((out.after_rset as number[])[0], messages.length);
      assert.equal(await run.remaining(), messages.length);
    });

    test('DELE + QUIT removes the message', async (t) => {
      const run = await startMode(mode, USER, PASSWORD, messages);
      t.after(() => run.close());
      const out = await poplib({ port: run.tlsPort, tls: 'implicit', user: USER, password: PASSWORD, scenario: 'dele_quit' });
      assert.equal(out.error, undefined);
      assert.match(out.quit as string, /^\+OK/);
      assert.equal(await run.remaining(), messages.length - 1);
    });

    test('a dropped connection deletes nothing', async (t) => {
      const run = await startMode(mode, USER, PASSWORD, messages);
      t.after(() => run.close());
      const out = await poplib({ port: run.tlsPort, tls: 'implicit', user: USER, password: PASSWORD, scenario: 'drop' });
      assert.equal(out.error, undefined);
      assert.match(out.dele as string, /^\+OK/);
      for (let i = 0; i < 100 && run.server.connections().length > 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(await run.remaining(), messages.length);
    });

    test('a second session gets [IN-USE]', async (t) => {
      const run = await startMode(mode, USER, PASSWORD, messages);
      t.after(() => run.close());
      const out = await poplib({ port: run.port, tls: 'stls', user: USER, password: PASSWORD, scenario: 'in_use' });
      assert.equal(out.error, undefined);
      assert.match(out.second as string, /^-ERR \[IN-USE\]/);
    });
  });
}
