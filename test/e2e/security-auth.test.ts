/**
 * Password guessing and the authentication audit log, over real sockets: the guessing address is
 * slowed and then locked out while the real user logs in at once from elsewhere; every login
 * outcome leaves one log line with user, remote address, mechanism and result, and no secret.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { startImapServer } from '../helpers/imap-server.js';
import { createPop3Server } from '../../src/pop3/server.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import { StaticAuthenticator } from '../../src/auth/static-users.js';
import { LoginGuard } from '../../src/auth/login-guard.js';
import { RawClient } from '../helpers/raw-client.js';
import { duplicateTopLevelKeys } from '../helpers/json-keys.js';
import { servedTime } from '../helpers/served-time.js';

function captureLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  const logger = pino(
    { level: 'info' },
    {
      write(s: string) {
        raw.push(s);
        lines.push(JSON.parse(s) as Record<string, unknown>);
      },
    },
  );
  return { logger, lines, raw };
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('brute force', () => {
  it('IMAP: 50 wrong passwords from one address slow down, then lock it out; another address logs in at once', async (t) => {
    const s = await startImapServer({ loginGuard: { baseDelayMs: 20, maxDelayMs: 400 }, unauthCommands: 100 });
    t.after(() => s.close());
    const attacker = new RawClient(s.port);
    await attacker.expect(/^\* OK/);
    const answers: string[] = [];
    const times: number[] = [];
    const served: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t = await servedTime(async () => {
        attacker.send(`g${i} LOGIN alice wrong${i}\r\n`);
        answers.push(await attacker.expect(new RegExp(`^g${i} `)));
      });
      times.push(t.wall);
      served.push(t.served);
    }
    assert.ok(answers.slice(0, 10).every((a) => /NO \[AUTHENTICATIONFAILED\]/.test(a)), answers.slice(0, 10).join('\n'));
    assert.ok(answers.slice(10).every((a) => /NO \[UNAVAILABLE\]/.test(a)), answers.slice(10).join('\n'));
    // Growing delays: the 6th failure waits far longer than the 1st. The 6th waits at least its
    // delay (20 ms doubled five times, capped at 400) however loaded the machine — load only adds;
    // the 1st is compared in served time (served-time.ts), which load does not inflate.
    const show = `times ${times.slice(0, 10).map((x) => x.toFixed(0)).join(',')} (served ${served.slice(0, 10).map((x) => x.toFixed(0)).join(',')})`;
    assert.ok(times[5]! >= 390, show);
    assert.ok(times[5]! > served[0]! * 4, show);
    // Locked: even the right password is refused from this address.
    attacker.send('r LOGIN alice secret\r\n');
    assert.match(await attacker.expect(/^r /), /^r NO \[UNAVAILABLE\]/);

    const user = new RawClient(s.port, { localAddress: '127.0.0.2' });
    await user.expect(/^\* OK/);
    const login = await servedTime(async () => {
      user.send('u LOGIN alice secret\r\n');
      assert.match(await user.expect(/^u /), /^u OK/);
    });
    assert.ok(login.served < 300, `the real user waited ${login.served.toFixed(0)} ms served (${login.wall.toFixed(0)} ms as seen)`);
    attacker.destroy();
    user.destroy();
  });

  it('IMAP behind one shared address (NAT): one person locked out by their typos does not lock out the others', async (t) => {
    const s = await startImapServer({ loginGuard: { baseDelayMs: 1, maxDelayMs: 5 }, unauthCommands: 100 });
    t.after(() => s.close());
    const office = new RawClient(s.port);
    await office.expect(/^\* OK/);
    for (let i = 0; i < 12; i++) {
      office.send(`g${i} LOGIN alice typo${i}\r\n`);
      await office.expect(new RegExp(`^g${i} NO`));
    }
    office.send('r LOGIN alice secret\r\n');
    assert.match(await office.expect(/^r /), /^r NO \[UNAVAILABLE\]/, 'alice is locked out from this address');
    // bob, from the same address, is not.
    const colleague = new RawClient(s.port);
    await colleague.expect(/^\* OK/);
    colleague.send('b LOGIN bob hunter2\r\n');
    assert.match(await colleague.expect(/^b /), /^b OK/);
    // Nor does AUTHENTICATE, which names the user only inside the exchange, get alice past it.
    const sasl = new RawClient(s.port);
    await sasl.expect(/^\* OK/);
    sasl.send(`c AUTHENTICATE PLAIN ${b64('\0alice\0secret')}\r\n`);
    assert.match(await sasl.expect(/^c /), /^c NO \[UNAVAILABLE\]/);
    for (const x of [office, colleague, sasl]) x.destroy();
  });

  it('POP3 shares the guard: a lockout earned over IMAP holds for POP3 from that address', async (t) => {
    const guard = new LoginGuard({ baseDelayMs: 1, maxDelayMs: 5, maxFailures: 3 });
    const imap = await startImapServer({ loginGuard: guard });
    t.after(() => imap.close());
    const store = new MemoryStore();
    const pop3 = createPop3Server({
      store,
      auth: new StaticAuthenticator({ alice: 'secret' }),
      port: 0,
      tlsPort: null,
      allowInsecureAuth: true,
      loginGuard: guard,
      limits: { authFailureDelaySeconds: 0, maxAuthFailures: 10 },
    });
    const { port } = await pop3.listen();
    t.after(async () => {
      await pop3.close();
      await store.close();
    });
    const c = new RawClient(imap.port);
    await c.expect(/^\* OK/);
    for (let i = 0; i < 3; i++) {
      c.send(`g${i} LOGIN alice bad\r\n`);
      await c.expect(new RegExp(`^g${i} NO`));
    }
    const p = new RawClient(port!);
    await p.expect(/^\+OK/);
    p.send('USER alice\r\nPASS secret\r\n');
    await p.expect(/^\+OK/);
    assert.match(await p.expect(/^[-+]/), /^-ERR \[AUTH\]/, 'locked out although the password is right');
    const q = new RawClient(port!, { localAddress: '127.0.0.2' });
    await q.expect(/^\+OK/);
    q.send('USER alice\r\nPASS secret\r\n');
    await q.expect(/^\+OK/);
    assert.match(await q.expect(/^[-+]/), /^\+OK alice's maildrop/);
    for (const x of [c, p, q]) x.destroy();
  });
});

describe('audit log', () => {
  function authLines(lines: Array<Record<string, unknown>>) {
    return lines.filter((l) => l['result'] !== undefined && l['mechanism'] !== undefined);
  }

  /** Every audit line: no key twice, the same fields and messages in both protocols. */
  function assertConsistent(raw: string[], protocol: string): void {
    const audit = raw.filter((r) => r.includes('"mechanism"'));
    assert.ok(audit.length >= 4, raw.join(''));
    for (const line of audit) {
      assert.deepEqual(duplicateTopLevelKeys(line), [], `duplicate keys in ${line}`);
      const l = JSON.parse(line) as Record<string, unknown>;
      for (const key of ['protocol', 'conn', 'remote', 'mechanism', 'user', 'result']) assert.ok(l[key] !== undefined, `${key} missing in ${line}`);
      assert.equal(l['protocol'], protocol);
      const expected = { success: 'authenticated', failure: 'authentication failed', locked: 'authentication refused: locked out' }[String(l['result'])];
      assert.equal(l['msg'], expected, line);
    }
  }

  it('IMAP: LOGIN and AUTHENTICATE PLAIN, success and failure, without passwords', async (t) => {
    const log = captureLogger();
    const s = await startImapServer({ logger: log.logger, loginGuard: { baseDelayMs: 1 } });
    t.after(() => s.close());
    const c = new RawClient(s.port);
    await c.expect(/^\* OK/);
    c.send('a LOGIN alice Wr0ngPassw0rd\r\n');
    await c.expect(/^a NO/);
    c.send(`b AUTHENTICATE PLAIN ${b64('\0bob\0An0therWrong')}\r\n`);
    await c.expect(/^b NO/);
    c.send('c LOGIN alice secret\r\n');
    await c.expect(/^c OK/);
    const d = new RawClient(s.port, { localAddress: '127.0.0.3' });
    await d.expect(/^\* OK/);
    d.send(`e AUTHENTICATE PLAIN ${b64('\0bob\0hunter2')}\r\n`);
    await d.expect(/^e OK/);
    c.destroy();
    d.destroy();

    const lines = authLines(log.lines);
    const pick = (mechanism: string, result: string) => lines.find((l) => l['mechanism'] === mechanism && l['result'] === result);
    assert.deepEqual(
      { user: pick('LOGIN', 'failure')?.['user'], remote: pick('LOGIN', 'failure')?.['remote'] },
      { user: 'alice', remote: '127.0.0.1' },
    );
    assert.equal(pick('LOGIN', 'success')?.['user'], 'alice');
    assert.ok(pick('PLAIN', 'failure'), JSON.stringify(lines));
    assert.deepEqual({ user: pick('PLAIN', 'success')?.['user'], remote: pick('PLAIN', 'success')?.['remote'] }, { user: 'bob', remote: '127.0.0.3' });
    assert.equal(pick('PLAIN', 'failure')?.['user'], 'bob', 'the SASL exchange names the user it failed for');
    assertConsistent(log.raw, 'imap');
    const all = log.raw.join('');
    for (const secret of ['Wr0ngPassw0rd', 'An0therWrong', 'secret', 'hunter2', b64('\0bob\0hunter2')]) {
      assert.ok(!all.includes(secret), `log contains ${secret}`);
    }
  });

  it('POP3: USER/PASS and AUTH PLAIN, success and failure, without passwords', async (t) => {
    const log = captureLogger();
    const store = new MemoryStore();
    const pop3 = createPop3Server({
      store,
      auth: new StaticAuthenticator({ alice: 'secret', bob: 'hunter2' }),
      port: 0,
      tlsPort: null,
      allowInsecureAuth: true,
      logger: log.logger,
      loginGuard: { baseDelayMs: 1 },
      limits: { authFailureDelaySeconds: 0 },
    });
    const { port } = await pop3.listen();
    t.after(async () => {
      await pop3.close();
      await store.close();
    });
    const c = new RawClient(port!);
    await c.expect(/^\+OK/);
    c.send('USER alice\r\nPASS Wr0ngPassw0rd\r\n');
    await c.expect(/^\+OK/);
    await c.expect(/^-ERR/);
    c.send(`AUTH PLAIN ${b64('\0bob\0An0therWrong')}\r\n`);
    await c.expect(/^-ERR/);
    c.send(`AUTH PLAIN ${b64('\0bob\0hunter2')}\r\n`);
    await c.expect(/^\+OK/);
    const d = new RawClient(port!, { localAddress: '127.0.0.4' });
    await d.expect(/^\+OK/);
    d.send('USER alice\r\nPASS secret\r\n');
    await d.expect(/^\+OK/);
    await d.expect(/^\+OK alice/);
    c.destroy();
    d.destroy();

    const lines = authLines(log.lines);
    const pick = (mechanism: string, result: string) => lines.find((l) => l['mechanism'] === mechanism && l['result'] === result);
    assert.deepEqual(
      { user: pick('USER', 'failure')?.['user'], remote: pick('USER', 'failure')?.['remote'], protocol: pick('USER', 'failure')?.['protocol'] },
      { user: 'alice', remote: '127.0.0.1', protocol: 'pop3' },
    );
    assert.deepEqual({ user: pick('USER', 'success')?.['user'], remote: pick('USER', 'success')?.['remote'] }, { user: 'alice', remote: '127.0.0.4' });
    assert.ok(pick('PLAIN', 'failure'), JSON.stringify(lines));
    assert.equal(pick('PLAIN', 'success')?.['user'], 'bob');
    assert.equal(pick('PLAIN', 'failure')?.['user'], 'bob', 'the SASL exchange names the user it failed for');
    assertConsistent(log.raw, 'pop3');
    const all = log.raw.join('');
    for (const secret of ['Wr0ngPassw0rd', 'An0therWrong', 'secret', 'hunter2', b64('\0bob\0hunter2')]) {
      assert.ok(!all.includes(secret), `log contains ${secret}`);
    }
  });
});
