/**
 * INPROGRESS (RFC 9585) over a real socket: a long command gets `* OK [INPROGRESS ("tag" count
 * total)]` lines, at most one per `inProgressSeconds`, counts rising and below the total, all
 * before its tagged reply; short commands and commands not meant to report send none; with the
 * option at 0 nothing is sent and INPROGRESS is not advertised.
 *
 * The mailbox holds 2,000 messages and the interval is set to 50 ms. So that "long" does not
 * depend on the machine's speed, the store's writes are slowed by a fixed delay per call (a Proxy
 * around the MemoryStore): STORE over 2,000 messages is 8 store calls of 250 (chunks.ts), so at
 * least 8 × 120 ms. A search is slowed inside the store instead: each batch of 64 messages it
 * evaluates (search-run.ts) reports how far it got, and the Proxy holds the store there for a few
 * milliseconds, so SEARCH, SORT and THREAD run for at least 32 × 6 ms while they count.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startImapServer, type TestServer } from '../helpers/imap-server.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import type { MailStore, SearchOptions, UserMailbox } from '../../src/store/types.js';
import { RawClient, run } from '../helpers/raw-client.js';

const MESSAGES = 2000;
const INTERVAL_MS = 50;
const STORE_CALL_MS = 120;
const SLOWED = new Set(['updateFlags', 'expunge', 'move', 'copy']);
/** Milliseconds the store is held at each search batch (synchronously, as a slow evaluation would). */
const SEARCH_BATCH_MS = 6;

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // a slow batch of evaluation
  }
}

/** The store with a delay before each call of a SLOWED method of its user handles, while `slow.on`. */
function slowStore(inner: MemoryStore, slow: { on: boolean }): MailStore {
  const wrapMailbox = (mail: UserMailbox): UserMailbox =>
    new Proxy(mail, {
      get(target, prop) {
        const value: unknown = Reflect.get(target, prop, target);
        if (typeof value !== 'function') return value;
        const fn = (value as (...a: unknown[]) => unknown).bind(target);
        if (prop === 'search') {
          return (mailboxId: string, query: unknown, options: SearchOptions = {}) => {
            const report = options.progress;
            if (!slow.on || !report) return fn(mailboxId, query, options);
            return fn(mailboxId, query, {
              progress: (uid: number) => {
                busy(SEARCH_BATCH_MS);
                report(uid);
              },
            });
          };
        }
        if (typeof prop !== 'string' || !SLOWED.has(prop)) return fn;
        return async (...args: unknown[]) => {
          if (slow.on) await new Promise((r) => setTimeout(r, STORE_CALL_MS));
          return fn(...args);
        };
      },
    });
  return new Proxy(inner, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const fn = (value as (...a: unknown[]) => unknown).bind(target);
      if (prop === 'open') return async (...args: unknown[]) => wrapMailbox((await fn(...args)) as UserMailbox);
      return fn;
    },
  });
}

/** The store with searches that take 120 ms in one step and report no progress. */
function noProgress(inner: MemoryStore): MailStore {
  return new Proxy(inner, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const fn = (value as (...a: unknown[]) => unknown).bind(target);
      if (prop !== 'open') return fn;
      return async (...args: unknown[]) => {
        const mail = (await fn(...args)) as UserMailbox;
        return new Proxy(mail, {
          get(m, p) {
            const v: unknown = Reflect.get(m, p, m);
            if (p !== 'search' || typeof v !== 'function') return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(m) : v;
            return async (mailboxId: string, query: unknown) => {
              await new Promise((r) => setTimeout(r, STORE_CALL_MS));
              return (v as (...a: unknown[]) => unknown).call(m, mailboxId, query);
            };
          },
        });
      };
    },
  });
}

interface Progress {
  tag: string | null;
  count: number | null;
  total: number | null;
  at: number;
}

/** Sends a command; returns its progress lines (with arrival times), all lines, and when it ended. */
async function timed(c: RawClient, tag: string, command: string): Promise<{ progress: Progress[]; lines: string[]; started: number; ended: number }> {
  const started = Date.now();
  c.send(`${tag} ${command}\r\n`);
  const progress: Progress[] = [];
  const lines: string[] = [];
  for (;;) {
    const line = await c.expect(/.*/, 60_000);
    lines.push(line);
    const m = /^\* OK \[INPROGRESS \((NIL|"[^"]*") (NIL|\d+) (NIL|\d+)\)\] .+$/.exec(line);
    if (line.includes('INPROGRESS')) assert.ok(m, `a well-formed INPROGRESS line: ${line}`);
    if (m) {
      const num = (s: string): number | null => (s === 'NIL' ? null : Number(s));
      progress.push({ tag: m[1] === 'NIL' ? null : m[1]!.slice(1, -1), count: num(m[2]!), total: num(m[3]!), at: Date.now() });
    }
    if (line.startsWith(`${tag} `)) return { progress, lines, started, ended: Date.now() };
  }
}

/** At most one line per interval: n lines need at least (n - 1) intervals between the first and last, and the first one interval after the start. */
function assertPaced(r: { progress: Progress[]; started: number; ended: number }): void {
  const n = r.progress.length;
  // Arrival times are the client's, so allow a little jitter per line (timers never fire early).
  const slack = 15;
  assert.ok(r.progress[0]!.at - r.started >= INTERVAL_MS - slack, 'the first line one interval after the command started');
  assert.ok(r.ended - r.started >= n * INTERVAL_MS - slack * n, `${n} lines in ${r.ended - r.started} ms: more than one per ${INTERVAL_MS} ms`);
}

describe('INPROGRESS (RFC 9585)', () => {
  let server: TestServer;
  const slow = { on: false };
  let inner: MemoryStore;
  let c: RawClient;

  before(async () => {
    inner = new MemoryStore();
    server = await startImapServer({ store: slowStore(inner, slow), limits: { inProgressSeconds: INTERVAL_MS / 1000 } });
    const mail = await inner.open('alice');
    const inbox = await mail.get('INBOX');
    for (let n = 1; n <= MESSAGES; n++) await mail.append(inbox.id, { content: Buffer.from(`Subject: msg ${n}\r\n\r\nbody ${n}\r\n`), flags: [] });
    await mail.create('Archive');
    await mail.close();
    c = new RawClient(server.port);
    await c.login();
    await run(c, 's', 'SELECT INBOX');
  });

  after(async () => {
    c.destroy();
    await server.close();
    await inner.close();
  });

  it('is advertised (§3)', async () => {
    const caps = (await run(c, 'cap', 'CAPABILITY')).find((l) => l.startsWith('* CAPABILITY'));
    assert.match(caps ?? '', / INPROGRESS( |$)/);
  });

  it('a STORE over 2,000 messages reports its chunks: tag, rising counts below the total, paced', async () => {
    slow.on = true;
    const r = await timed(c, 'st1', 'STORE 1:* +FLAGS.SILENT (\\Seen)');
    slow.on = false;
    assert.match(r.lines.at(-1)!, /^st1 OK/);
    assert.ok(r.progress.length >= 4, `progress lines during ${r.ended - r.started} ms: ${r.progress.length}`);
    for (const p of r.progress) {
      assert.equal(p.tag, 'st1');
      assert.equal(p.total, MESSAGES);
      assert.ok(p.count !== null && p.count < MESSAGES, 'the count stays below the total while the command runs');
    }
    const counts = r.progress.map((p) => p.count ?? 0);
    assert.deepEqual(counts, [...counts].sort((a, b) => a - b), 'counts never go down');
    assert.ok(counts.some((n) => n > 0 && n % 250 === 0), `counts of whole chunks: ${counts.join(' ')}`);
    assert.ok(counts.at(-1)! >= 1500, `the last line near the end: ${counts.join(' ')}`);
    assertPaced(r);
    // Progress lines come before the tagged reply and are untagged OKs only.
    assert.ok(r.lines.indexOf(r.lines.find((l) => l.includes('INPROGRESS'))!) < r.lines.length - 1);
  });

  it('SEARCH, SORT and THREAD count the messages the store has decided, of the mailbox', async () => {
    slow.on = true;
    for (const [tag, cmd, answer] of [
      ['se1', 'UID SEARCH BODY "body 1999"', '* SEARCH 1999'],
      ['so1', 'UID SORT (REVERSE ARRIVAL) UTF-8 BODY "body 1999"', '* SORT 1999'],
      ['th1', 'UID THREAD ORDEREDSUBJECT UTF-8 BODY "body 1999"', '* THREAD (1999)'],
    ] as const) {
      const r = await timed(c, tag, cmd);
      assert.ok(r.lines.includes(answer), r.lines.join('\n'));
      assert.ok(r.progress.length >= 2, `${cmd}: ${r.progress.length} lines in ${r.ended - r.started} ms`);
      // Before the store's first report a line may carry NIL NIL (§4); after it, counts of 2,000.
      const counted = r.progress.filter((p) => p.count !== null);
      assert.ok(counted.length >= 1, `${cmd}: counts in ${JSON.stringify(r.progress)}`);
      for (const p of r.progress) assert.equal(p.tag, tag);
      // Whole batches of 64; once the store is through, the count stays one below the total while
      // the command still sorts or threads (CommandProgress keeps it below until the end).
      for (const p of counted) assert.ok(p.total === MESSAGES && p.count! > 0 && (p.count! % 64 === 0 || p.count === MESSAGES - 1), JSON.stringify(p));
      const counts = counted.map((p) => p.count!);
      assert.deepEqual(counts, [...counts].sort((a, b) => a - b), 'counts never go down');
      assertPaced(r);
    }
    slow.on = false;
  });

  it('a store that searches in one step sends the tag with NIL NIL (§4 allows both NIL)', async () => {
    // The workers' store (remote-store.ts) cannot pass the progress hook: as a store that never calls it.
    const plain = await startImapServer({ store: noProgress(inner), limits: { inProgressSeconds: INTERVAL_MS / 1000 } });
    const p = new RawClient(plain.port);
    try {
      await p.login();
      await run(p, 's', 'SELECT INBOX');
      const r = await timed(p, 'se2', 'UID SEARCH BODY "body 1999"');
      assert.ok(r.lines.includes('* SEARCH 1999'), r.lines.join('\n'));
      assert.ok(r.progress.length >= 1, 'a store call of 120 ms with a 50 ms interval: at least one line');
      for (const q of r.progress) assert.deepEqual([q.tag, q.count, q.total], ['se2', null, null]);
      assertPaced(r);
    } finally {
      p.destroy();
      await plain.close();
    }
  });

  it('COPY (one all-or-nothing write) says 0 of the total; MOVE and EXPUNGE count their chunks', async () => {
    slow.on = true;
    const copy = await timed(c, 'cp1', 'COPY 1:* Archive');
    assert.match(copy.lines.at(-1)!, /^cp1 OK \[COPYUID/);
    assert.ok(copy.progress.length >= 1);
    for (const p of copy.progress) assert.deepEqual([p.tag, p.count, p.total], ['cp1', 0, MESSAGES]);

    await run(c, 'd', 'STORE 1:1000 +FLAGS.SILENT (\\Deleted)');
    const expunge = await timed(c, 'ex1', 'EXPUNGE');
    assert.match(expunge.lines.at(-1)!, /^ex1 OK/);
    // EXPUNGE goes through every message of the view (2,000 in 8 calls); the \Deleted ones go.
    assert.ok(expunge.progress.length >= 4, `EXPUNGE in 8 calls: ${expunge.progress.length} lines`);
    for (const p of expunge.progress) assert.ok(p.tag === 'ex1' && p.total === MESSAGES && p.count !== null && p.count < MESSAGES, JSON.stringify(p));
    assertPaced(expunge);

    const move = await timed(c, 'mv1', 'UID MOVE 1001:* Archive');
    slow.on = false;
    assert.match(move.lines.at(-1)!, /^mv1 OK/);
    assert.ok(move.progress.length >= 2);
    for (const p of move.progress) assert.ok(p.tag === 'mv1' && p.total === 1000 && p.count !== null && p.count < 1000, JSON.stringify(p));
    assertPaced(move);
  });

  it('short commands, and commands that are not meant to report, send none', async () => {
    await run(c, 'sel', 'SELECT Archive');
    // Without the delay these finish well inside 50 ms on the 3,000 messages of Archive... or not,
    // on a loaded machine: what is asserted without timing is that FETCH, NOOP, STATUS never report.
    for (const [tag, cmd] of [
      ['f1', 'FETCH 1:* (FLAGS)'],
      ['n1', 'NOOP'],
      ['st', 'STATUS INBOX (MESSAGES)'],
    ] as const) {
      const r = await timed(c, tag, cmd);
      assert.equal(r.progress.length, 0, `${cmd}: ${r.progress.length} progress lines`);
    }
  });
});

describe('INPROGRESS with a second-long interval: short commands send none', () => {
  let server: TestServer;
  let c: RawClient;

  before(async () => {
    server = await startImapServer({ limits: { inProgressSeconds: 1 } });
    c = new RawClient(server.port);
    await c.login();
    for (let i = 1; i <= 20; i++) await run(c, `a${i}`, `APPEND INBOX {${`Subject: ${i}\r\n\r\nx\r\n`.length}+}\r\nSubject: ${i}\r\n\r\nx\r\n`);
    await run(c, 's', 'SELECT INBOX');
  });

  after(async () => {
    c.destroy();
    await server.close();
  });

  it('SEARCH, SORT, STORE, COPY, EXPUNGE of 20 messages: no INPROGRESS line', async () => {
    await run(c, 'c0', 'CREATE Other');
    for (const [tag, cmd] of [
      ['q1', 'SEARCH TEXT "x"'],
      ['q2', 'SORT (SUBJECT) UTF-8 ALL'],
      ['q3', 'STORE 1:* +FLAGS (\\Deleted)'],
      ['q4', 'COPY 1:* Other'],
      ['q5', 'EXPUNGE'],
    ] as const) {
      const r = await timed(c, tag, cmd);
      assert.match(r.lines.at(-1)!, new RegExp(`^${tag} OK`));
      assert.equal(r.progress.length, 0, `${cmd} took ${r.ended - r.started} ms and sent ${r.progress.length} progress lines`);
    }
  });
});

describe('INPROGRESS off (inProgressSeconds 0)', () => {
  it('is not advertised', async () => {
    const server = await startImapServer({ limits: { inProgressSeconds: 0 } });
    try {
      assert.ok(!server.server.capability('authenticated').includes('INPROGRESS'));
      const on = await startImapServer();
      try {
        assert.ok(on.server.capability('authenticated').includes('INPROGRESS'), 'on by default (10 s)');
      } finally {
        await on.close();
      }
    } finally {
      await server.close();
    }
  });
});
