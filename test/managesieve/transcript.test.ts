/**
 * ManageSieve (RFC 5804) over a raw socket: every command, its answers and response codes, the
 * string forms (quoted, {n+} and {n} literals), the input bounds and STARTTLS.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { StaticAuthenticator } from '../../src/auth/static-users.js';
import { createManageSieveServer, type ManageSieveServer } from '../../src/managesieve/server.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import { sieveStorage } from '../../src/store/sieve-storage.js';
import { testCertificate } from '../helpers/certs.js';
import { RawSieveClient, plain } from './client.js';

const USERS = { ann: 'secret', bob: 'other' };

describe('ManageSieve transcripts', () => {
  let store: MemoryStore;
  let server: ManageSieveServer;
  let port: number;

  before(async () => {
    store = new MemoryStore();
    server = createManageSieveServer({
      store,
      auth: new StaticAuthenticator(USERS),
      port: 0,
      hostname: 'sieve.test',
      tls: await testCertificate(),
      limits: { maxScripts: 3, maxScriptBytes: 2000, authFailureDelaySeconds: 1, maxUnauthLiteralBytes: 1024 },
      loginGuard: { baseDelayMs: 0 },
    });
    port = (await server.listen()).port;
  });
  after(async () => {
    await server.close();
    await store.close();
  });

  /** Connected, greeted, through STARTTLS and logged in as `user`. */
  async function loggedIn(user = 'ann'): Promise<RawSieveClient> {
    const c = await RawSieveClient.connect(port);
    await c.response();
    assert.match(await c.command('STARTTLS'), /^OK/m);
    await c.startTls();
    await c.response();
    assert.match(await c.command(`AUTHENTICATE "PLAIN" "${plain(user, USERS[user as keyof typeof USERS])}"`), /^OK/);
    return c;
  }

  it('greets with the capabilities; PLAIN only after STARTTLS, which re-issues them', async () => {
    const c = await RawSieveClient.connect(port);
    const greeting = await c.response();
    assert.match(greeting, /^"IMPLEMENTATION" "Postroom"\r\n/);
    assert.match(greeting, /^"SIEVE" "[^"]*fileinto[^"]*vacation[^"]*"\r\n/m);
    assert.match(greeting, /^"STARTTLS"\r\n/m);
    assert.match(greeting, /^"VERSION" "1.0"\r\n/m);
    assert.match(greeting, /^"MAXREDIRECTS" "\d+"\r\n/m);
    assert.doesNotMatch(greeting, /^"NOTIFY"/m);
    const sasl = /^"SASL" "([^"]*)"/m.exec(greeting)![1]!;
    assert.ok(!sasl.split(' ').includes('PLAIN'), `PLAIN offered in the clear: ${sasl}`);
    assert.match(greeting, /^OK /m);
    assert.match(await c.command(`AUTHENTICATE "PLAIN" "${plain('ann', 'secret')}"`), /^NO \(ENCRYPT-NEEDED\)/);
    assert.match(await c.command('STARTTLS'), /^OK/);
    await c.startTls();
    const after = await c.response();
    assert.match(after, /^"SASL" "[^"]*PLAIN[^"]*"/m);
    assert.doesNotMatch(after, /^"STARTTLS"/m);
    assert.match(after, /^OK/m);
    assert.match(await c.command('STARTTLS'), /^NO/);
    assert.match(await c.command('CAPABILITY'), /^"SASL" "[^"]*PLAIN/m);
    c.close();
  });

  it('AUTHENTICATE: initial response, challenge and answer as a literal, cancel, wrong password, then OWNER', async () => {
    const c = await RawSieveClient.connect(port);
    await c.response();
    await c.command('STARTTLS');
    await c.startTls();
    await c.response();
    assert.match(await c.command('LISTSCRIPTS'), /^NO .*before login/);
    // No initial response: an empty challenge, answered with a literal.
    c.send('AUTHENTICATE "PLAIN"\r\n');
    assert.equal(await c.line(), '""\r\n');
    const bad = plain('ann', 'wrong');
    assert.match(await c.command(`{${bad.length}+}\r\n${bad}`), /^NO /);
    c.send('Authenticate "PLAIN"\r\n');
    await c.line();
    assert.match(await c.command('"*"'), /^NO "Authentication cancelled"/);
    assert.match(await c.command('AUTHENTICATE "NOSUCH"'), /^NO /);
    const good = plain('ann', 'secret');
    assert.match(await c.command(`AUTHENTICATE "PLAIN" {${good.length}+}\r\n${good}`), /^OK/);
    assert.match(await c.command('AUTHENTICATE "PLAIN" ""'), /^NO .*after login/);
    assert.match(await c.command('CAPABILITY'), /^"OWNER" "ann"/m);
    c.close();
  });

  it('PUTSCRIPT/CHECKSCRIPT with quoted, {n+} and {n} strings; errors give line and column', async () => {
    const c = await loggedIn();
    const script = 'require ["fileinto"];\r\nif header :contains "subject" "x" { fileinto "X"; }\r\n';
    assert.match(await c.command(`PUTSCRIPT "one" {${Buffer.byteLength(script)}+}\r\n${script}`), /^OK/);
    assert.match(await c.command(`PUTSCRIPT "two" {${Buffer.byteLength(script)}}\r\n${script}`), /^OK/);
    assert.match(await c.command('PUTSCRIPT "three" "keep;"'), /^OK/);
    const broken = '# comment\r\nkeep;\r\n  fileinto "x";\r\n';
    const reply = await c.command(`CHECKSCRIPT {${broken.length}+}\r\n${broken}`);
    assert.match(reply, /^NO "line 3, column \d+: .*fileinto/);
    assert.match(await c.command(`PUTSCRIPT "four" {${broken.length}+}\r\n${broken}`), /^NO "line 3/);
    const unknown = 'require "nosuchextension";\r\n';
    assert.match(await c.command(`CHECKSCRIPT {${unknown.length}+}\r\n${unknown}`), /^NO "line 1, column \d+: .*nosuchextension/);
    assert.match(await c.command('CHECKSCRIPT "keep;"'), /^OK/);
    assert.match(await c.command('PUTSCRIPT "empty" ""'), /^NO "Script is empty"/);
    // The failed PUTSCRIPT stored nothing.
    assert.equal(await c.command('LISTSCRIPTS'), '"one"\r\n"three"\r\n"two"\r\nOK "Listscripts completed"\r\n');
    c.close();
  });

  it('limits: HAVESPACE and PUTSCRIPT say QUOTA/MAXSIZE and QUOTA/MAXSCRIPTS; bad names', async () => {
    const c = await loggedIn('bob');
    assert.match(await c.command('HAVESPACE "a" 100'), /^OK/);
    assert.match(await c.command('HAVESPACE "a" 2001'), /^NO \(QUOTA\/MAXSIZE\)/);
    assert.match(await c.command('HAVESPACE "a" x'), /^NO .*number/);
    const big = `# ${'x'.repeat(2100)}\r\nkeep;\r\n`;
    assert.match(await c.command(`PUTSCRIPT "big" {${big.length}+}\r\n${big}`), /^NO \(QUOTA\/MAXSIZE\)/);
    for (const name of ['a', 'b', 'c']) assert.match(await c.command(`PUTSCRIPT "${name}" "keep;"`), /^OK/);
    assert.match(await c.command('HAVESPACE "d" 10'), /^NO \(QUOTA\/MAXSCRIPTS\)/);
    assert.match(await c.command('PUTSCRIPT "d" "keep;"'), /^NO \(QUOTA\/MAXSCRIPTS\)/);
    assert.match(await c.command('HAVESPACE "a" 10'), /^OK/); // replacing is not one more
    assert.match(await c.command('PUTSCRIPT "a" "discard;"'), /^OK/);
    assert.match(await c.command('PUTSCRIPT "" "keep;"'), /^NO "Script name is empty"/);
    assert.match(await c.command('PUTSCRIPT {3+}\r\na\tb "keep;"'), /^NO .*forbidden character/);
    assert.match(await c.command(`PUTSCRIPT "${'n'.repeat(600)}" "keep;"`), /^NO .*longer than 512/);
    c.close();
  });

  it('SETACTIVE, GETSCRIPT, DELETESCRIPT (ACTIVE, NONEXISTENT), RENAMESCRIPT (ALREADYEXISTS), UNAUTHENTICATE', async () => {
    const c = await loggedIn('ann');
    assert.match(await c.command('SETACTIVE "one"'), /^OK/);
    assert.match(await c.command('LISTSCRIPTS'), /^"one" ACTIVE\r\n"three"\r\n"two"\r\nOK/);
    assert.match(await c.command('SETACTIVE "nope"'), /^NO \(NONEXISTENT\)/);
    const got = await c.command('GETSCRIPT "one"');
    const text = 'require ["fileinto"];\r\nif header :contains "subject" "x" { fileinto "X"; }\r\n';
    assert.equal(got, `{${Buffer.byteLength(text)}}\r\n${text}\r\nOK "Getscript completed"\r\n`);
    assert.match(await c.command('GETSCRIPT "nope"'), /^NO \(NONEXISTENT\)/);
    assert.match(await c.command('DELETESCRIPT "one"'), /^NO \(ACTIVE\)/);
    assert.match(await c.command('DELETESCRIPT "nope"'), /^NO \(NONEXISTENT\)/);
    assert.match(await c.command('RENAMESCRIPT "one" "two"'), /^NO \(ALREADYEXISTS\)/);
    assert.match(await c.command('RENAMESCRIPT "nope" "x"'), /^NO \(NONEXISTENT\)/);
    assert.match(await c.command('RENAMESCRIPT "one" "Été"'), /^OK/);
    assert.match(await c.command('LISTSCRIPTS'), /^"three"\r\n"two"\r\n"Été" ACTIVE\r\nOK/);
    assert.deepEqual((await sieveStorage(await store.open('ann')).sieveActive())?.name, 'Été');
    assert.match(await c.command('SETACTIVE ""'), /^OK/);
    assert.match(await c.command('DELETESCRIPT "three"'), /^OK/);
    assert.match(await c.command('LISTSCRIPTS'), /^"two"\r\n"Été"\r\nOK/);
    assert.match(await c.command('NOOP'), /^OK/);
    assert.match(await c.command('NOOP "tag-1"'), /^OK \(TAG "tag-1"\)/);
    assert.match(await c.command('UNAUTHENTICATE'), /^OK/);
    assert.match(await c.command('LISTSCRIPTS'), /^NO .*before login/);
    assert.match(await c.command('LOGOUT'), /^OK/);
    assert.ok(await c.waitClosed());
  });

  it('bad input: unknown commands, bad strings, too many arguments — a NO each, BYE after too many', async () => {
    const c = await RawSieveClient.connect(port);
    await c.response();
    assert.match(await c.command('FROB'), /^NO "Unknown command FROB"/);
    assert.match(await c.command('"CAPABILITY"'), /^NO /);
    assert.match(await c.command('NOOP "unterminated'), /^NO .*Unterminated/);
    assert.match(await c.command('NOOP "a" "b"'), /^NO .*Too many arguments/);
    assert.match(await c.command('LOGOUT extra'), /^NO /);
    assert.match(await c.command('NOOP "bad \\x escape"'), /^NO .*escape/);
    for (let i = 0; i < 13; i++) assert.match(await c.command('FROB'), /^NO/);
    assert.match(await c.command('FROB'), /^BYE "Too many bad commands"/);
    assert.ok(await c.waitClosed());
  });

  it('before login: a line or literal over the limit gets BYE and the connection closes', async () => {
    const long = await RawSieveClient.connect(port);
    await long.response();
    long.send(`NOOP "${'x'.repeat(9000)}`);
    assert.match(await long.response(), /^BYE .*Line longer/);
    assert.ok(await long.waitClosed());
    const literal = await RawSieveClient.connect(port);
    await literal.response();
    literal.send('AUTHENTICATE "PLAIN" {100000+}\r\nxxxx');
    assert.match(await literal.response(), /^BYE .*Literal larger than 1024/);
    assert.ok(await literal.waitClosed());
  });

  it('after login: a literal over the script limit is read, dropped and refused; the session goes on', async () => {
    const c = await loggedIn('bob');
    const size = 50_000;
    c.send(`PUTSCRIPT "huge" {${size}+}\r\n`);
    c.send(Buffer.alloc(size, 0x23));
    c.send('\r\n');
    assert.match(await c.response(), /^NO \(QUOTA\/MAXSIZE\)/);
    assert.match(await c.command('NOOP'), /^OK/);
    c.close();
  });

  it('three failed logins end the connection', async () => {
    const c = await RawSieveClient.connect(port);
    await c.response();
    await c.command('STARTTLS');
    await c.startTls();
    await c.response();
    const bad = plain('ann', 'nope');
    assert.match(await c.command(`AUTHENTICATE "PLAIN" "${bad}"`), /^NO/);
    assert.match(await c.command(`AUTHENTICATE "PLAIN" "${bad}"`), /^NO/);
    assert.match(await c.command(`AUTHENTICATE "PLAIN" "${bad}"`), /^BYE/);
    assert.ok(await c.waitClosed());
  });
});
