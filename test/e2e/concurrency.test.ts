/**
 * Correct answers while other sessions change the mailbox at the worst moment (issue 14). Each race
 * is made to happen on purpose — the store wrapper runs another session's change between two steps
 * of this session's command — so each test fails the same way every time the defect is there.
 * RFC 3501 §2.3.2 (\Recent in exactly one session), §7.2.6 and §7.4.2 (FLAGS before a keyword is
 * used; FETCH FLAGS), §6.1.3 (LOGOUT: BYE and OK), RFC 7162 §3.1 (MODSEQ goes with its FLAGS).
 * Run against every store.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startImapServer, type TestServer } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';
import { interleavedStore, type InterleavedStore } from '../helpers/interleave-store.js';
import { RawClient, run, until } from '../helpers/raw-client.js';
import type { UserMailbox } from '../../src/store/types.js';

interface Env {
  server: TestServer;
  store: InterleavedStore;
  /** alice's mail as another process would change it (bypasses the wrapper's steps). */
  outside: UserMailbox;
  boxId: string;
}

const message = (n: number): Buffer => Buffer.from(`Subject: message ${n}\r\nMessage-ID: <${n}@test>\r\n\r\nbody ${n}\r\n`);

async function session(env: Env, select = true): Promise<RawClient> {
  const c = new RawClient(env.server.port);
  await c.login();
  if (select) assert.match((await run(c, 's', 'SELECT Race')).at(-1)!, /^s OK/);
  return c;
}

interface Fetched {
  seq: number;
  uid?: number;
  flags: string[];
  modseq?: number;
}

function fetches(lines: string[]): Fetched[] {
  const out: Fetched[] = [];
  for (const line of lines) {
    const m = /^\* (\d+) FETCH \((.*)\)$/.exec(line);
    if (!m) continue;
    const uid = /(?:^| )UID (\d+)/.exec(m[2]!);
    const flags = /FLAGS \(([^)]*)\)/.exec(m[2]!);
    const modseq = /MODSEQ \((\d+)\)/.exec(m[2]!);
    out.push({
      seq: Number(m[1]),
      ...(uid ? { uid: Number(uid[1]) } : {}),
      flags: flags ? flags[1]!.split(' ').filter(Boolean) : [],
      ...(modseq ? { modseq: Number(modseq[1]) } : {}),
    });
  }
  return out;
}

/** UIDs the session reports as \Recent (RFC 3501 §2.3.2). */
async function recentUids(c: RawClient, tag: string): Promise<number[]> {
  const lines = await run(c, tag, 'UID FETCH 1:* (UID FLAGS)');
  return fetches(lines)
    .filter((f) => f.uid !== undefined && f.flags.includes('\\Recent'))
    .map((f) => f.uid!);
}

/** Keywords the lines use in FETCH FLAGS before any FLAGS response named them. */
function unannounced(lines: string[], known: Set<string>): string[] {
  const bad: string[] = [];
  for (const line of lines) {
    const flagsLine = /^\* FLAGS \(([^)]*)\)$/.exec(line);
    if (flagsLine) {
      known.clear();
      for (const f of flagsLine[1]!.split(' ')) if (f) known.add(f.toLowerCase());
      continue;
    }
    for (const f of fetches([line])) {
      for (const flag of f.flags) if (!flag.startsWith('\\') && !known.has(flag.toLowerCase())) bad.push(`${flag} in ${line}`);
    }
  }
  return bad;
}

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`concurrent sessions (${storeName} store)`, () => {
    async function withEnv(fn: (env: Env) => Promise<void>, limits: Record<string, number> = {}): Promise<void> {
      const made = await factory();
      const store = interleavedStore(made.store);
      const server = await startImapServer({ store, limits });
      const outside = await made.store.open('alice', { origin: 'outside' });
      const box = await outside.create('Race');
      try {
        await fn({ server, store, outside, boxId: box.id });
        assert.equal(store.armed, 0, 'every step of the race ran');
      } finally {
        await outside.close();
        await server.close();
        await made.cleanup();
      }
    }

    it('\\Recent: a message arriving between SELECT reading the mailbox and claiming is recent in exactly one session', () =>
      withEnv(async (env) => {
        const b = await session(env);
        let late = 0;
        env.store.at('claimRecent', 'before', async () => {
          late = (await env.outside.append(env.boxId, { content: message(1) })).uid;
        });
        const a = await session(env);
        await run(a, 'n', 'NOOP');
        await run(b, 'n', 'NOOP');
        const holders = [...(await recentUids(a, 'f')), ...(await recentUids(b, 'f'))];
        assert.deepEqual(holders, [late], 'the late message is recent for exactly one of the two sessions');
        a.destroy();
        b.destroy();
      }));

    it('\\Recent: a message arriving while a session claims is not taken for its own', () =>
      withEnv(async (env) => {
        const a = await session(env);
        const b = await session(env);
        const first = (await env.outside.append(env.boxId, { content: message(1) })).uid;
        let second = 0;
        // A's NOOP claims the first message; the second arrives while that claim is answered.
        env.store.at('claimRecent', 'after', async () => {
          second = (await env.outside.append(env.boxId, { content: message(2) })).uid;
        });
        await run(a, 'n1', 'NOOP');
        await run(b, 'n1', 'NOOP');
        await run(a, 'n2', 'NOOP');
        const inA = await recentUids(a, 'f');
        const inB = await recentUids(b, 'f');
        assert.ok(inA.includes(first) && !inB.includes(first), `first message: A ${inA}, B ${inB}`);
        assert.equal([...inA, ...inB].filter((u) => u === second).length, 1, `second message recent in one session: A ${inA}, B ${inB}`);
        a.destroy();
        b.destroy();
      }));

    it('\\Recent: a hibernated session does not wake up owning a message another session was first to see', () =>
      withEnv(
        async (env) => {
          const a = await session(env);
          const b = await session(env);
          const first = (await env.outside.append(env.boxId, { content: message(1) })).uid;
          await run(b, 'n', 'NOOP'); // B is told first: the message is B's
          await run(a, 'n', 'NOOP');
          a.send('I IDLE\r\n');
          await a.expect(/^\+ /);
          await until('A parked', () => (env.server.server.hibernation?.size ?? 0) === 1);
          await env.outside.append(env.boxId, { content: message(2) }); // wakes A
          await a.expect(/^\* 2 EXISTS/);
          a.send('DONE\r\n');
          await a.expect(/^I OK/);
          const inA = await recentUids(a, 'f');
          const inB = await recentUids(b, 'f');
          assert.ok(inB.includes(first), `B holds the first message: ${inB}`);
          assert.ok(!inA.includes(first), `A must not report the first message as recent too: ${inA}`);
          a.destroy();
          b.destroy();
        },
        { idleHibernateSeconds: 0.2 },
      ));

    it('a hibernated session that wakes to a new keyword still names the keywords it announced before', () =>
      withEnv(
        async (env) => {
          await env.outside.append(env.boxId, { content: message(1), flags: ['$Old'] });
          const a = await session(env);
          a.send('I IDLE\r\n');
          await a.expect(/^\+ /);
          await until('A parked', () => (env.server.server.hibernation?.size ?? 0) === 1);
          // The one message loses the keyword A was told of and gains one A has never heard of.
          await env.outside.updateFlags(env.boxId, [1], 'set', ['$New']);
          const fetch = await a.expect(/^\* 1 FETCH/);
          const flags = a.transcript.filter((l) => l.startsWith('* FLAGS')).at(-1) ?? '';
          // RFC 3501 §7.2.6: until that FETCH arrives the client believes message 1 has $Old, so a
          // FLAGS before it must not drop $Old (and must name $New, which the FETCH uses).
          assert.match(flags, /\$Old/, `${flags} | ${fetch}`);
          assert.match(flags, /\$New/, `${flags} | ${fetch}`);
          a.send('DONE\r\n');
          await a.expect(/^I OK/);
          a.destroy();
        },
        { idleHibernateSeconds: 0.2 },
      ));

    it('FETCH BODY[] of a large message expunged while the FETCH sets \\Seen skips it and keeps the connection', () =>
      withEnv(async (env) => {
        const big = Buffer.concat([message(1), Buffer.alloc(200_000, 'a')]); // streamed, not read whole
        const { uid } = await env.outside.append(env.boxId, { content: big });
        const a = await session(env);
        // FETCH reads the record, sets \Seen, and only then asks for the body: another session
        // expunges the message in between.
        env.store.at('updateFlags', 'after', async () => {
          await env.outside.updateFlags(env.boxId, [uid], 'add', ['\\Deleted']);
          await env.outside.expunge(env.boxId, [uid]);
        });
        const lines = await run(a, 'f', 'FETCH 1 (BODY[])');
        assert.match(lines.at(-1)!, /^f OK/, lines.join(' | '));
        assert.deepEqual(await run(a, 'n', 'NOOP').then((l) => l.filter((x) => x.includes('EXPUNGE'))), ['* 1 EXPUNGE']);
        a.destroy();
      }));

    it('LOGOUT: BYE and the tagged OK only, even with changes from others waiting', () =>
      withEnv(async (env) => {
        for (let i = 1; i <= 3; i++) await env.outside.append(env.boxId, { content: message(i) });
        const a = await session(env);
        await env.outside.updateFlags(env.boxId, [1], 'add', ['\\Deleted', '$Gone']);
        await env.outside.expunge(env.boxId);
        await env.outside.updateFlags(env.boxId, [2], 'add', ['$Changed']);
        await env.outside.append(env.boxId, { content: message(4) });
        const lines = await run(a, 'L', 'LOGOUT');
        assert.deepEqual(
          lines.map((l) => l.replace(/ .*/, (rest) => (rest.startsWith(' BYE') ? ' BYE' : rest.startsWith(' OK') ? ' OK' : rest))),
          ['* BYE', 'L OK'],
          lines.join(' | '),
        );
        a.destroy();
      }));

    it('FETCH that reads the store reports its flags with their MODSEQ, announcing a new keyword first', () =>
      withEnv(async (env) => {
        await env.outside.append(env.boxId, { content: message(1) });
        await env.outside.append(env.boxId, { content: message(2) });
        const a = await session(env);
        const known = new Set<string>();
        unannounced([...(await run(a, 'e', 'ENABLE CONDSTORE')), ...(await run(a, 's2', 'SELECT Race'))], known);
        // Another session adds a keyword nobody used before; A has not been told yet when its
        // FETCH reads the message's record.
        const one = (await env.outside.updateFlags(env.boxId, [1], 'add', ['$Fresh'])).changed[0]!;
        const lines = await run(a, 'f', 'FETCH 1 (FLAGS MODSEQ)');
        const two = (await env.outside.updateFlags(env.boxId, [2], 'add', ['$Other'])).changed[0]!;
        lines.push(...(await run(a, 'g', 'FETCH 2 (INTERNALDATE)')));
        assert.deepEqual(unannounced(lines, known), [], lines.join(' | '));
        // Every FETCH that names a MODSEQ carries the flags of that MODSEQ: the current ones.
        const got = fetches(lines);
        assert.ok(got.length >= 2, lines.join(' | '));
        for (const f of got) {
          const now = f.seq === 1 ? one : two;
          assert.equal(f.modseq, now.modseq, lines.join(' | '));
          assert.deepEqual(f.flags, now.flags, lines.join(' | '));
        }
        a.destroy();
      }));

    it('STORE: a later change by another session, heard before the STORE completes, is not lost', () =>
      withEnv(async (env) => {
        await env.outside.append(env.boxId, { content: message(1) });
        const a = await session(env);
        env.store.at('updateFlags', 'after', async () => {
          await env.outside.updateFlags(env.boxId, [1], 'add', ['$Later']);
        });
        const lines = [...(await run(a, 'st', 'STORE 1 +FLAGS (\\Seen)')), ...(await run(a, 'n', 'NOOP')), ...(await run(a, 'f', 'FETCH 1 (FLAGS)'))];
        const last = fetches(lines).at(-1)!;
        assert.ok(last.flags.includes('$Later') && last.flags.includes('\\Seen'), lines.join(' | '));
        assert.deepEqual(unannounced(lines, new Set()), [], lines.join(' | '));
        a.destroy();
      }));

    it('a new message changed or expunged while it is being announced is reported as it is', () =>
      withEnv(async (env) => {
        const a = await session(env);
        const kept = (await env.outside.append(env.boxId, { content: message(1) })).uid;
        // A reads the new message; before it hears the answer, its flags change.
        env.store.at('records', 'after', async () => {
          await env.outside.updateFlags(env.boxId, [kept], 'add', ['$Late']);
        });
        const lines = await run(a, 'n', 'NOOP');
        assert.ok(lines.includes('* 1 EXISTS'), lines.join(' | '));
        const flags = fetches([...lines, ...(await run(a, 'f', 'FETCH 1 (FLAGS)'))]).at(-1)!;
        assert.ok(flags.flags.includes('$Late'), `the change made while announcing is not lost: ${lines.join(' | ')}`);

        const gone = (await env.outside.append(env.boxId, { content: message(2) })).uid;
        env.store.at('records', 'after', async () => {
          await env.outside.updateFlags(env.boxId, [gone], 'add', ['\\Deleted']);
          await env.outside.expunge(env.boxId, [gone]);
        });
        let told = 1;
        for (const tag of ['n2', 'n3']) {
          for (const line of await run(a, tag, 'NOOP')) {
            const exists = /^\* (\d+) EXISTS$/.exec(line);
            if (exists) told = Number(exists[1]);
            if (/^\* \d+ EXPUNGE$/.test(line)) told--;
          }
        }
        assert.equal(told, (await env.outside.status(env.boxId)).messages, 'what A was told adds up to what the mailbox holds');
        a.destroy();
      }));
  });
}
