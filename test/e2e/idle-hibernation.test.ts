/**
 * IDLE hibernation (src/imap/session/hibernation.ts): a session idling with nothing to report is
 * parked, and it wakes — inside the same IDLE, same tag, same sequence numbers — when its client
 * speaks, when its mailbox changes, and when the server shuts down. Run against every store.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startImapServer, type TestServer } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';
import { RawClient, run, sleep, until } from '../helpers/raw-client.js';

const HIBERNATE_SECONDS = 0.2;

const parked = (s: TestServer): number => s.server.hibernation?.size ?? 0;

async function idling(s: TestServer, mailbox: string | null, tag = 'I1'): Promise<RawClient> {
  const c = new RawClient(s.port);
  await c.login();
  if (mailbox) await run(c, 's', `SELECT ${mailbox}`);
  c.send(`${tag} IDLE\r\n`);
  await c.expect(/^\+ /);
  return c;
}

async function append(c: RawClient, tag: string, mailbox: string, subject: string): Promise<void> {
  const msg = `Subject: ${subject}\r\n\r\nbody\r\n`;
  const lines = await run(c, tag, `APPEND ${mailbox} {${msg.length}+}\r\n${msg}`);
  assert.match(lines.at(-1)!, new RegExp(`^${tag} OK`));
}

/** `other` fills a new mailbox with `count` messages; `idler` selects it, idles and is parked. */
async function parkedIn(s: TestServer, mailbox: string, count: number): Promise<{ other: RawClient; idler: RawClient }> {
  const other = new RawClient(s.port);
  await other.login();
  await run(other, 'c', `CREATE ${mailbox}`);
  for (let i = 1; i <= count; i++) await append(other, `a${i}`, mailbox, `m${i}`);
  const idler = await idling(s, mailbox);
  await until('parked', () => parked(s) === 1);
  return { other, idler };
}

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`IDLE hibernation (${storeName} store)`, () => {
    async function withServer(fn: (s: TestServer) => Promise<void>, limits: Record<string, number> = {}): Promise<void> {
      const made = await factory();
      const s = await startImapServer({ store: made.store, limits: { idleHibernateSeconds: HIBERNATE_SECONDS, ...limits } });
      try {
        await fn(s);
      } finally {
        await s.close();
        await made.cleanup();
      }
    }

    it('parks an idle session and finishes its IDLE when the client says DONE', () =>
      withServer(async (s) => {
        const setup = new RawClient(s.port);
        await setup.login();
        for (let i = 1; i <= 3; i++) await append(setup, `a${i}`, 'INBOX', `m${i}`);
        const c = await idling(s, 'INBOX', 'T7');
        const idOf = (): string | undefined => s.server.connections().find((x) => x.user === 'alice' && x.mailbox === 'INBOX')?.id;
        const awakeId = idOf();
        assert.ok(awakeId);
        await until('the session is parked', () => parked(s) === 1);
        const listed = s.server.connections().filter((x) => x.hibernated);
        assert.deepEqual(
          listed.map((x) => [x.user, x.mailbox, x.id]),
          [['alice', 'INBOX', awakeId]],
        );
        c.send('DONE\r\n');
        assert.match(await c.expect(/^T7 /), /^T7 OK IDLE terminated/);
        assert.equal(parked(s), 0);
        assert.equal(idOf(), awakeId, 'the connection keeps its id across hibernation');
        // Still the same session: logged in, INBOX selected, the same sequence numbers.
        const fetch = await run(c, 'f', 'FETCH 1:* (UID)');
        assert.deepEqual(fetch.filter((l) => l.startsWith('*')), ['* 1 FETCH (UID 1)', '* 2 FETCH (UID 2)', '* 3 FETCH (UID 3)']);
        // And it hibernates again at the next IDLE.
        c.send('T8 IDLE\r\n');
        await c.expect(/^\+ /);
        await until('parked again', () => parked(s) === 1);
        c.send('DONE\r\nn NOOP\r\n');
        assert.match(await c.expect(/^T8 /), /^T8 OK/);
        assert.match(await c.expect(/^n /), /^n OK/);
        setup.destroy();
        c.destroy();
      }));

    it('wakes for changes to its mailbox and reports them as an awake session would', () =>
      withServer(async (s) => {
        const { other, idler: c } = await parkedIn(s, 'Box', 4);

        await run(other, 's', 'SELECT Box');
        await run(other, 'd', 'STORE 2 +FLAGS.SILENT (\\Deleted)');
        await run(other, 'x', 'EXPUNGE');
        assert.equal(await c.expect(/EXPUNGE/), '* 2 EXPUNGE');
        await until('parked after the expunge', () => parked(s) === 1);

        await append(other, 'a5', 'Box', 'm5');
        assert.equal(await c.expect(/EXISTS/), '* 4 EXISTS');
        await until('parked after the append', () => parked(s) === 1);

        await run(other, 'fl', 'UID STORE 3 +FLAGS (\\Flagged $Work)');
        // UID 3 is message 2 now; a keyword the session had not seen comes with FLAGS first.
        assert.match(await c.expect(/^\* FLAGS/), /\$Work/);
        // Every message here is \Recent for this session: it selected the mailbox first.
        assert.match(await c.expect(/FETCH/), /^\* 2 FETCH \(UID 3 FLAGS \(\\Flagged \$Work \\Recent\)\)$/);
        await until('parked after the flag change', () => parked(s) === 1);

        // A change to another mailbox does not wake it.
        await append(other, 'a6', 'INBOX', 'elsewhere');
        await sleep(100);
        assert.equal(parked(s), 1);

        c.send('DONE\r\n');
        assert.match(await c.expect(/^I1 /), /^I1 OK/);
        const uids = await run(c, 'u', 'UID SEARCH ALL');
        assert.ok(uids.includes('* SEARCH 1 3 4 5'), uids.join(' | '));
        other.destroy();
        c.destroy();
      }));

    it('tells parked sessions of new messages in place: EXISTS and RECENT 0, still parked; \\Recent left to the next claimer', () =>
      withServer(async (s) => {
        const other = new RawClient(s.port);
        await other.login();
        await run(other, 'c', 'CREATE Box');
        for (let i = 1; i <= 3; i++) await append(other, `a${i}`, 'Box', `m${i}`);
        // The first SELECT takes \Recent for these: the idlers below have none of their own.
        await run(other, 's', 'SELECT Box');
        // And leaves it, so that its own APPENDs below claim nothing in Box.
        await run(other, 'si', 'SELECT INBOX');
        const a = await idling(s, 'Box', 'A1');
        const b = await idling(s, 'Box', 'B1');
        // And one over implicit TLS: its parked TLSSocket is written as it is.
        const t = new RawClient(s.tlsPort, { tls: true });
        await t.login();
        await run(t, 's', 'SELECT Box');
        t.send('T1 IDLE\r\n');
        await t.expect(/^\+ /);
        await until('all three parked', () => parked(s) === 3);

        await append(other, 'a4', 'Box', 'm4');
        for (const c of [a, b, t]) {
          assert.equal(await c.expect(/EXISTS/), '* 4 EXISTS');
          assert.equal(await c.expect(/RECENT/), '* 0 RECENT');
        }
        assert.equal(parked(s), 3, 'told without waking');
        await append(other, 'a5', 'Box', 'm5');
        for (const c of [a, b, t]) {
          assert.equal(await c.expect(/EXISTS/), '* 5 EXISTS');
          assert.equal(await c.expect(/RECENT/), '* 0 RECENT');
        }
        assert.equal(parked(s), 3);
        t.send('DONE\r\n');
        assert.match(await t.expect(/^T1 /), /^T1 OK/);
        const overTls = await run(t, 'f', 'FETCH 5 (UID)');
        assert.ok(overTls.includes('* 5 FETCH (UID 5)'), overTls.join(' | '));

        // Nobody claimed \\Recent for UIDs 4 and 5: the next session to select does.
        const third = new RawClient(s.port);
        await third.login();
        const selected = await run(third, 's', 'SELECT Box');
        assert.ok(selected.includes('* 2 RECENT'), selected.join(' | '));

        // A flag change wakes them as before; their sequence numbers include what they were told.
        await run(third, 'fl', 'UID STORE 4 +FLAGS (\\Flagged)');
        for (const c of [a, b]) assert.match(await c.expect(/^\* 4 FETCH/), /^\* 4 FETCH \(UID 4 FLAGS \(\\Flagged\)\)$/);
        a.send('DONE\r\n');
        assert.match(await a.expect(/^A1 /), /^A1 OK/);
        const fetched = await run(a, 'f', 'FETCH 1:* (UID)');
        assert.deepEqual(fetched.filter((l) => l.startsWith('* ')), [1, 2, 3, 4, 5].map((n) => `* ${n} FETCH (UID ${n})`));
        b.send('DONE\r\n');
        assert.match(await b.expect(/^B1 /), /^B1 OK/);
        for (const c of [other, a, b, t, third]) c.destroy();
      }));

    it('wakes for a RESETKEY of its mailbox and says URLMECH (RFC 4467 §7), not for another mailbox', () =>
      withServer(async (s) => {
        if (!s.store.urlauthKeys) return;
        const { other, idler: c } = await parkedIn(s, 'Keys', 1);
        await run(other, 'c2', 'CREATE Else');
        assert.match((await run(other, 'r0', 'RESETKEY Else')).at(-1)!, /^r0 OK \[URLMECH INTERNAL\]/);
        await sleep(100);
        assert.equal(parked(s), 1, 'a reset of another mailbox does not wake it');
        // Keys are per user (RFC 4467 §2.2): bob's reset of his own key of Keys, shared with him, is
        // not alice's business and does not wake her session.
        assert.match((await run(other, 'acl', 'SETACL Keys bob lr')).at(-1)!, /^acl OK/);
        const bob = new RawClient(s.port);
        await bob.login('bob', 'hunter2');
        assert.match((await run(bob, 'rb', 'RESETKEY Shared/alice/Keys')).at(-1)!, /^rb OK \[URLMECH INTERNAL\]/);
        bob.destroy();
        await sleep(100);
        assert.equal(parked(s), 1, "another user's key reset does not wake it");
        assert.match((await run(other, 'r1', 'RESETKEY Keys')).at(-1)!, /^r1 OK \[URLMECH INTERNAL\]/);
        assert.match(await c.expect(/URLMECH/), /^\* OK \[URLMECH INTERNAL\]/);
        await until('parked again', () => parked(s) === 1);
        c.send('DONE\r\n');
        assert.match(await c.expect(/^I1 /), /^I1 OK/);
        assert.ok(!(await run(c, 'n', 'NOOP')).some((l) => /URLMECH/.test(l)), 'told once');
        other.destroy();
        c.destroy();
      }));

    it('reports a burst of changes in order, waking once for the first', () =>
      withServer(async (s) => {
        const { other, idler: c } = await parkedIn(s, 'Many', 5);
        // Pipelined: the first change wakes the session; the others land while it reads the mailbox
        // or after it is awake.
        await run(other, 's', 'SELECT Many');
        other.send('p1 STORE 1 +FLAGS.SILENT (\\Deleted)\r\np2 EXPUNGE\r\np3 STORE 3 +FLAGS.SILENT (\\Seen)\r\n');
        await other.expect(/^p3 OK/);
        await append(other, 'a6', 'Many', 'm6');
        await c.expect(/^\* 5 EXISTS$/);
        // Whichever way the changes were split between waking and the awake session, the client was
        // told each one against the numbering it had at that moment.
        const told = c.transcript.filter((l) => /EXPUNGE|FETCH/.test(l));
        assert.ok(told.includes('* 1 EXPUNGE'), told.join(' | '));
        assert.ok(told.includes('* 3 FETCH (UID 4 FLAGS (\\Seen \\Recent))'), told.join(' | '));
        c.send('DONE\r\n');
        await c.expect(/^I1 OK/);
        const all = await run(c, 'f', 'FETCH 1:* (UID)');
        assert.deepEqual(
          all.filter((l) => l.startsWith('* ')),
          ['* 1 FETCH (UID 2)', '* 2 FETCH (UID 3)', '* 3 FETCH (UID 4)', '* 4 FETCH (UID 5)', '* 5 FETCH (UID 6)'],
        );
        other.destroy();
        c.destroy();
      }));

    it('parks IDLE in the authenticated state too, and keeps ENABLEd extensions', () =>
      withServer(async (s) => {
        const c = new RawClient(s.port);
        await c.login();
        await run(c, 'e', 'ENABLE CONDSTORE');
        c.send('I1 IDLE\r\n');
        await c.expect(/^\+ /);
        await until('parked', () => parked(s) === 1);
        c.send('DONE\r\n');
        await c.expect(/^I1 OK/);
        const sel = await run(c, 's', 'SELECT INBOX');
        assert.ok(sel.some((l) => /HIGHESTMODSEQ/.test(l)), `CONDSTORE still enabled: ${sel.join(' | ')}`);
        c.destroy();
      }));

    it('releases the connection and user places when a parked client goes away', () =>
      withServer(async (s) => {
        const c = await idling(s, 'INBOX');
        await until('parked', () => parked(s) === 1);
        assert.equal(s.server.connectionLimiter.open, 1);
        assert.equal(s.server.connectionLimiter.userSessions('alice'), 1);
        c.socket.end();
        // The connection's place goes with its socket; the user's once the woken session has
        // finished (which reads the mailbox: a round trip on a database store).
        await until('the places are released', () => s.server.connectionLimiter.open === 0 && s.server.connectionLimiter.userSessions('alice') === 0);
        assert.equal(parked(s), 0);
        assert.equal(s.server.connections().length, 0);
      }));

    it('parks TLS sessions too (implicit TLS): wakes for changes and finishes its IDLE on DONE', () =>
      withServer(async (s) => {
        const other = new RawClient(s.port);
        await other.login();
        await append(other, 'a1', 'INBOX', 'm1');
        const c = new RawClient(s.tlsPort, { tls: true });
        await c.login();
        await run(c, 's', 'SELECT INBOX');
        c.send('I1 IDLE\r\n');
        await c.expect(/^\+ /);
        await until('the TLS session is parked', () => parked(s) === 1);
        assert.deepEqual(
          s.server.connections().filter((x) => x.hibernated).map((x) => [x.user, x.mailbox]),
          [['alice', 'INBOX']],
        );
        // News wakes it: the report comes over the same TLS connection, then it parks again.
        await append(other, 'a2', 'INBOX', 'm2');
        assert.equal(await c.expect(/EXISTS/), '* 2 EXISTS');
        await until('parked again after the news', () => parked(s) === 1);
        // The client's own bytes wake it (a TLS record that only the parked socket can decrypt).
        c.send('DONE\r\n');
        assert.match(await c.expect(/^I1 /), /^I1 OK/);
        assert.equal(parked(s), 0);
        const fetch = await run(c, 'f', 'FETCH 1:* (UID)');
        assert.deepEqual(fetch.filter((l) => l.startsWith('*')), ['* 1 FETCH (UID 1)', '* 2 FETCH (UID 2)']);
        const session = s.server.connections().find((x) => x.user === 'alice' && x.mailbox === 'INBOX');
        assert.equal(session?.secure, true, 'the woken session knows it is on TLS');
        other.destroy();
        c.destroy();
      }));

    it('parks a session that did STARTTLS and wakes it on DONE and DONE pipelined with a command', () =>
      withServer(async (s) => {
        const c = new RawClient(s.port);
        await c.expect(/^\* OK/);
        await run(c, 't', 'STARTTLS');
        await c.upgrade();
        c.send('L LOGIN alice secret\r\n');
        await c.expect(/^L OK/);
        c.send('I1 IDLE\r\n');
        await c.expect(/^\+ /);
        await until('parked', () => parked(s) === 1);
        c.send('DONE\r\nn NOOP\r\n');
        assert.match(await c.expect(/^I1 /), /^I1 OK/);
        assert.match(await c.expect(/^n /), /^n OK/);
        c.destroy();
      }));

    for (const how of ['end', 'reset'] as const) {
      it(`releases the places of a parked TLS client that goes away (${how})`, () =>
        withServer(async (s) => {
          // TLS over a TCP socket of our own, so that the test can reset the TCP connection.
          const c = new RawClient(s.tlsPort);
          const tcp = c.socket;
          await c.upgrade();
          await c.login();
          c.send('I1 IDLE\r\n');
          await c.expect(/^\+ /);
          await until('parked', () => parked(s) === 1);
          assert.equal(s.server.connectionLimiter.open, 1);
          if (how === 'end') c.socket.end();
          else tcp.resetAndDestroy();
          await until('the places are released', () => s.server.connectionLimiter.open === 0 && s.server.connectionLimiter.userSessions('alice') === 0);
          assert.equal(parked(s), 0);
          assert.equal(s.server.connections().length, 0);
        }));
    }

    it('says BYE to parked sessions when the server shuts down', async () => {
      const made = await factory();
      const s = await startImapServer({ store: made.store, limits: { idleHibernateSeconds: HIBERNATE_SECONDS } });
      try {
        const c = await idling(s, 'INBOX');
        await until('parked', () => parked(s) === 1);
        await s.server.close();
        assert.match(await c.expect(/^\* BYE/), /shutting down/);
        await c.waitClosed();
        assert.ok(!c.transcript.some((l) => l.startsWith('I1 ')), 'no IDLE completion after the BYE');
      } finally {
        await made.store.close();
        await made.cleanup();
      }
    });

    it('kick() wakes a parked session to tell it BYE; a filter that picks nobody ends nothing', () =>
      withServer(async (s) => {
        const c = await idling(s, 'INBOX');
        await until('parked', () => parked(s) === 1);
        const id = s.server.connections().find((x) => x.hibernated)!.id;
        assert.deepEqual(s.server.kick((x) => x.user === 'nobody'), []);
        assert.deepEqual(s.server.kick((x) => x.id === id), [id]);
        assert.match(await c.expect(/^\* BYE/), /^\* BYE Disconnected by the administrator$/);
        await c.waitClosed();
        assert.equal(parked(s), 0);
        assert.equal(s.server.connections().length, 0);
      }));

    it('never parks when idleHibernateSeconds is 0', () =>
      withServer(
        async (s) => {
          assert.equal(s.server.hibernation, null);
          const c = await idling(s, 'INBOX');
          await sleep(300);
          c.send('DONE\r\n');
          await c.expect(/^I1 OK/);
          c.destroy();
        },
        { idleHibernateSeconds: 0 },
      ));
  });
}
