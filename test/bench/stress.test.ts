/**
 * The model-checking stress (bench/stress/): its checks catch wrong answers (fed by hand here), and
 * 50 clients against a real `postroom serve` on the SQLite store for 30 s find none, nor 20 against
 * `serve --workers 2` for 15 s, nor 20 over implicit TLS against `--workers 2 --sqlite-workers own-store`. The long runs
 * are `npm run stress` (200 clients, 10 minutes; `-- --workers 2` for the cluster, `-- --tls` over TLS).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MailboxView } from '../../bench/stress/view.js';
import { World } from '../../bench/stress/world.js';
import { parseResponse } from '../../bench/stress/response.js';
import { makeMessage, prng, verifyMessage } from '../../bench/stress/messages.js';
import { runStress, stressReport } from '../../bench/stress/run.js';
import { STRESS_PASSWORD, startStressServer } from '../../bench/stress/server.js';

function viewOf(world: World, session = 's1'): MailboxView {
  return new MailboxView('u/INBOX', world, session, (kind, detail) => world.error(kind, session, detail), true);
}

function feed(view: MailboxView, ...lines: string[]): void {
  for (const text of lines) view.apply(parseResponse({ text, literals: [] }), text);
}

const kinds = (w: World): string[] => [...w.counts.keys()];

describe('stress checks', () => {
  it('accept a consistent session', () => {
    const w = new World();
    const v = viewOf(w);
    feed(v, '* FLAGS (\\Seen \\Deleted $A)', '* OK [UIDNEXT 5] x', '* 2 EXISTS', '* 1 FETCH (UID 3 FLAGS ($A \\Recent) MODSEQ (7))', '* 2 FETCH (UID 4 FLAGS () MODSEQ (8))');
    feed(v, '* 3 EXISTS', '* 3 FETCH (UID 9 FLAGS (\\Seen) MODSEQ (9))', '* 1 EXPUNGE', '* 1 FETCH (UID 4 FLAGS (\\Seen) MODSEQ (10))');
    assert.deepEqual(kinds(w), []);
    assert.deepEqual(v.uids(), [4, 9]);
  });

  it('catch sequence numbers, UIDs, keywords, MODSEQ and \\Recent going wrong', () => {
    const cases: Array<[string, string[]]> = [
      ['EXPUNGE of a sequence number that does not exist', ['* 1 EXISTS', '* 2 EXPUNGE']],
      ['EXISTS shrank the mailbox', ['* 3 EXISTS', '* 2 EXISTS']],
      ['FETCH of a sequence number that does not exist', ['* 1 EXISTS', '* 2 FETCH (UID 5)']],
      ['UID of a sequence number changed', ['* 1 EXISTS', '* 1 FETCH (UID 5)', '* 1 FETCH (UID 6)']],
      ['UIDs out of order', ['* 2 EXISTS', '* 1 FETCH (UID 5)', '* 2 FETCH (UID 4)']],
      ['keyword used before FLAGS announced it', ['* FLAGS (\\Seen)', '* 1 EXISTS', '* 1 FETCH (UID 5 FLAGS ($New) MODSEQ (3))']],
      ['MODSEQ went backwards', ['* 1 EXISTS', '* 1 FETCH (UID 5 FLAGS () MODSEQ (9))', '* 1 FETCH (UID 5 FLAGS () MODSEQ (8))']],

      ['FETCH FLAGS without MODSEQ under CONDSTORE', ['* 1 EXISTS', '* 1 FETCH (UID 5 FLAGS ())']],
      ['\\Recent changed within a session', ['* 1 EXISTS', '* 1 FETCH (UID 5 FLAGS (\\Recent) MODSEQ (2))', '* 1 FETCH (UID 5 FLAGS () MODSEQ (3))']],
      ['PERMANENTFLAGS keyword not in FLAGS', ['* FLAGS (\\Seen)', '* OK [PERMANENTFLAGS (\\Seen $X \\*)] x']],
      ['FLAGS dropped a keyword still in use', ['* FLAGS ($A)', '* 1 EXISTS', '* 1 FETCH (UID 5 FLAGS ($A) MODSEQ (2))', '* FLAGS ()']],
      ['new message below the UIDNEXT of SELECT', ['* OK [UIDNEXT 10] x', '* 1 EXISTS', '* 2 EXISTS', '* 2 FETCH (UID 7)']],
    ];
    for (const [kind, lines] of cases) {
      const w = new World();
      feed(viewOf(w), ...lines);
      assert.deepEqual(kinds(w), [kind], lines.join(' | '));
    }
    const unchanged = new World();
    feed(viewOf(unchanged), '* 1 EXISTS', '* 1 FETCH (UID 5 FLAGS () MODSEQ (9))', '* 1 FETCH (UID 5 FLAGS (\\Seen) MODSEQ (9))');
    assert.deepEqual(kinds(unchanged), ['flags changed without a new MODSEQ', 'one MODSEQ, two sets of flags']);
    const expunging = new World();
    const v = viewOf(expunging);
    feed(v, '* 2 EXISTS');
    v.noExpunge = true;
    feed(v, '* 1 EXPUNGE');
    assert.deepEqual(kinds(expunging), ['EXPUNGE during FETCH/STORE/SEARCH']);
  });

  it('catch what only several sessions together can see', () => {
    const w = new World();
    const [a, b, c0] = [viewOf(w, 'a'), viewOf(w, 'b'), viewOf(w, 'c')];
    feed(a, '* 1 EXISTS', '* 1 FETCH (UID 5 FLAGS (\\Recent) MODSEQ (2))');
    feed(b, '* 1 EXISTS', '* 1 FETCH (UID 5 FLAGS (\\Seen \\Recent) MODSEQ (3))');
    feed(c0, '* 1 EXISTS', '* 1 FETCH (UID 5 FLAGS (\\Seen) MODSEQ (2))');
    assert.deepEqual(kinds(w).sort(), ['\\Recent in two sessions', 'one MODSEQ, two sets of flags'].sort());

    const owned = new World();
    owned.own('u/INBOX', 5, 'owner', []);
    owned.storing('u/INBOX', [5], 1);
    owned.ownedChanged('u/INBOX', 5, 10, ['\\Answered']);
    owned.storing('u/INBOX', [5], -1);
    const c = viewOf(owned, 'c');
    feed(c, '* FLAGS ($Owned)', '* 1 EXISTS', '* 1 FETCH (UID 5 FLAGS () MODSEQ (9))', '* 1 FETCH (UID 5 FLAGS (\\Answered) MODSEQ (10))');
    assert.deepEqual(kinds(owned), []);
    feed(c, '* 1 FETCH (UID 5 FLAGS ($Owned) MODSEQ (11))');
    assert.deepEqual(kinds(owned), ['flags contradict the owner']);

    const ids = new World();
    ids.identify('u/INBOX', 5, 'c1.1', 'a', 'APPENDUID');
    ids.identify('u/INBOX', 5, 'c2.7', 'b', 'ENVELOPE');
    assert.deepEqual(kinds(ids), ['UID names two messages']);
  });

  it('messages name their own body', () => {
    const m = makeMessage('c1.1', 3000, prng(3));
    assert.deepEqual(verifyMessage(m.bytes), { token: 'c1.1' });
    const bad = Buffer.from(m.bytes);
    bad[bad.length - 5] ^= 1;
    assert.match(String(verifyMessage(bad)), /checksum/);
  });
});

/** `clients` stress clients against a fresh `postroom serve` for `seconds`: no wrong answer, no error logged, every `exercised` command sent. */
async function stressRun(server: { users: number; workers?: number; sqliteWorkers?: 'own-store'; tls?: boolean }, run: { clients: number; seconds: number; seed: number; minCommands: number; exercised: string[] }): Promise<void> {
  const started = await startStressServer({ ...server, maxConnections: run.clients * 4 });
  let result;
  try {
    // Over TLS: the serve's IMAPS port, every client handshaking (WireClient waits for secureConnect).
    if (server.tls) assert.ok(started.tlsPort && started.tlsPort !== started.port, 'the serve has an implicit-TLS port of its own');
    const port = server.tls ? started.tlsPort! : started.port;
    result = await runStress({ host: '127.0.0.1', port, tls: server.tls ?? false, users: started.users, password: STRESS_PASSWORD, clients: run.clients, seconds: run.seconds, seed: run.seed });
  } finally {
    const code = await started.stop();
    assert.equal(code, 0, 'the server stops cleanly');
  }
  const report = stressReport(result);
  assert.equal(result.errorCount, 0, report);
  assert.deepEqual(started.log.filter((l) => /"level":(50|60)/.test(l)), [], 'the server logged no errors');
  assert.ok(result.totalCommands > run.minCommands, report);
  for (const name of run.exercised) assert.ok((result.commands.get(name) ?? 0) > 0, `${name} was exercised: ${report}`);
}

describe('stress run', () => {
  it('50 clients on shared mailboxes for 30 s against postroom serve (SQLite): no error', { timeout: 180_000 }, async () => {
    await stressRun(
      { users: 10 },
      { clients: 50, seconds: 30, seed: 14, minCommands: 1000, exercised: ['SELECT', 'FETCH', 'UID FETCH', 'STORE', 'UID STORE', 'EXPUNGE', 'UID EXPUNGE', 'APPEND', 'IDLE', 'SEARCH', 'LOGOUT'] },
    );
  });

  // The primary hands the connections to both workers in turn (--worker-accept), so a user's
  // sessions are in both, and a change one makes reaches the other worker's sessions through the
  // primary's forwarded change feed, which the checks then see.
  it('20 clients on shared mailboxes for 15 s against postroom serve --workers 2 (SQLite): no error', { timeout: 180_000 }, async () => {
    await stressRun({ users: 4, workers: 2 }, { clients: 20, seconds: 15, seed: 23, minCommands: 500, exercised: ['SELECT', 'FETCH', 'STORE', 'EXPUNGE', 'APPEND', 'IDLE'] });
  });

  // Each worker opening the store itself (docs/sqlite.md, "Several processes on one data folder"),
  // every client over implicit TLS (`npm run stress -- --tls`): TLS sessions hibernate and wake too.
  it('20 clients over implicit TLS for 15 s against postroom serve --workers 2 --sqlite-workers own-store: no error', { timeout: 180_000 }, async () => {
    await stressRun({ users: 4, workers: 2, sqliteWorkers: 'own-store', tls: true }, { clients: 20, seconds: 15, seed: 31, minCommands: 500, exercised: ['SELECT', 'FETCH', 'STORE', 'EXPUNGE', 'APPEND', 'IDLE'] });
  });
});
