/**
 * Crash safety: 20 clients APPEND varied messages to a server on a SqliteStore, and STORE a keyword
 * on half of them, the server is killed with SIGKILL at a random moment, restarted on the same data
 * folder, and then every message whose APPEND got a tagged OK must be there, byte-identical, with
 * its flags and every keyword whose STORE got a tagged OK (flag changes are acknowledged before
 * their fdatasync, docs/sqlite.md, but never before their COMMIT); no UID may appear twice and
 * UIDNEXT must lie above every UID. CRASH_SEEDS="1,2,3" picks the seeds (each is one kill).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it, after } from 'node:test';
import { ImapFlow } from 'imapflow';
import { buildMessage, randomMessageSpec, rng } from '../helpers/messages.js';

const SERVER = fileURLToPath(new URL('./fixtures/sqlite-imap-server.ts', import.meta.url));
const SEEDS = (process.env.CRASH_SEEDS ?? '11,22,33').split(',').map(Number);
const CLIENTS = 20;
const MAILBOXES = ['INBOX', 'Other'];

interface Running {
  child: ChildProcess;
  port: number;
}

const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function startServer(dir: string, shared?: 'maintain' | 'join'): Promise<Running> {
  // A small inline limit so the larger messages take the blob-file path (fsync + rename before commit).
  const env = { ...process.env, INLINE_MAX: '32768', ...(shared ? { SHARED: shared } : {}) };
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER, dir], { stdio: ['ignore', 'pipe', 'pipe'], env });
  children.add(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${err}`)), 30_000);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        clearTimeout(timer);
        resolve({ child, port: (JSON.parse(line) as { port: number }).port });
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code}): ${err}`)));
  });
}

function connect(port: number): ImapFlow {
  const c = new ImapFlow({ host: '127.0.0.1', port, secure: false, doSTARTTLS: false, auth: { user: 'alice', pass: 'secret' }, logger: false, disableAutoIdle: true });
  c.on('error', () => undefined); // the server dies under it on purpose
  return c;
}

const FLAG_CHOICES = [[], ['\\Seen'], ['\\Flagged', '$Work'], ['\\Seen', '\\Answered'], ['\\Draft'], ['\\Deleted', '\\Seen']];

/** A varied message: the MIME generator's output, sometimes with a large binary attachment. */
function variedMessage(r: () => number, seq: number): Buffer {
  const raw = buildMessage(randomMessageSpec(r, seq)).raw;
  if (r() > 0.25) return raw;
  const size = 20_000 + Math.floor(r() * 300_000);
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4) bytes.writeUInt32LE((r() * 0xffffffff) >>> 0, i - (i + 4 > size ? i + 4 - size : 0));
  const b64 = bytes.toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(
    `From: big@example.com\r\nTo: alice@example.com\r\nSubject: large ${seq}\r\nMessage-ID: <big-${seq}@example.com>\r\n` +
      `MIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n`,
  );
}

interface Acked {
  mailbox: string;
  uid: number;
  uidValidity: number;
  raw: Buffer;
  flags: string[];
  /** A STORE of STORED_KEYWORD was sent / got its tagged OK. */
  storing?: boolean;
  stored?: boolean;
}

const STORED_KEYWORD = '$Stored';

async function appendLoop(port: number, r: () => number, id: number, acked: Acked[], stop: { killed: boolean }): Promise<void> {
  const c = connect(port);
  try {
    await c.connect();
  } catch {
    return;
  }
  for (let n = 0; !stop.killed && n < 10_000; n++) {
    const mailbox = MAILBOXES[Math.floor(r() * MAILBOXES.length)]!;
    const raw = variedMessage(r, id * 100_000 + n);
    const flags = FLAG_CHOICES[Math.floor(r() * FLAG_CHOICES.length)]!;
    try {
      const res = await c.append(mailbox, raw, flags, new Date(Date.UTC(2024, 0, 1 + (n % 28), 12)));
      // imapflow resolves only on a tagged OK; APPENDUID gives the UID the server committed.
      if (res && typeof res === 'object' && res.uid) {
        const entry: Acked = { mailbox, uid: res.uid, uidValidity: Number(res.uidValidity ?? 0), raw, flags };
        acked.push(entry);
        if (r() < 0.5) {
          if (c.mailbox === false || c.mailbox.path !== mailbox) await c.mailboxOpen(mailbox);
          entry.storing = true;
          // imapflow resolves on the tagged OK only.
          if (await c.messageFlagsAdd({ uid: String(entry.uid) }, [STORED_KEYWORD], { uid: true })) entry.stored = true;
        }
      } else if (!stop.killed) throw new Error('APPEND succeeded without APPENDUID');
    } catch (err) {
      if (stop.killed) return;
      const e = err as Error & { responseText?: string };
      throw new Error(`APPEND to ${mailbox} failed: ${e.responseText ?? e.message}`);
    }
  }
}

async function verify(port: number, acked: Acked[]): Promise<void> {
  const c = connect(port);
  await c.connect();
  try {
    for (const mailbox of MAILBOXES) {
      const mine = acked.filter((a) => a.mailbox === mailbox);
      const lock = await c.getMailboxLock(mailbox);
      try {
        const seen = new Map<number, { flags: Set<string>; source: Buffer }>();
        const uidValidity = Number(c.mailbox && typeof c.mailbox === 'object' ? c.mailbox.uidValidity : 0);
        const uidNext = Number(c.mailbox && typeof c.mailbox === 'object' ? c.mailbox.uidNext : 0);
        if (mine.length > 0 || (c.mailbox && typeof c.mailbox === 'object' && c.mailbox.exists > 0)) {
          for await (const m of c.fetch('1:*', { uid: true, flags: true, source: true })) {
            assert.ok(!seen.has(m.uid), `UID ${m.uid} appears twice in ${mailbox}`);
            seen.set(m.uid, { flags: m.flags ?? new Set(), source: m.source! });
          }
        }
        const ackedUids = new Set<number>();
        for (const a of mine) {
          assert.ok(!ackedUids.has(a.uid), `UID ${a.uid} was acknowledged twice in ${mailbox}`);
          ackedUids.add(a.uid);
          assert.equal(a.uidValidity, uidValidity, 'UIDVALIDITY changed across the crash');
          const got = seen.get(a.uid);
          assert.ok(got, `acknowledged message UID ${a.uid} in ${mailbox} is missing after the crash`);
          assert.ok(got.source.equals(a.raw), `UID ${a.uid} in ${mailbox} differs from what was appended`);
          const flags = [...got.flags].filter((f) => f !== '\\Recent' && f !== STORED_KEYWORD).sort();
          assert.deepEqual(flags, [...a.flags].sort(), `flags of UID ${a.uid}`);
          const hasStored = got.flags.has(STORED_KEYWORD);
          if (a.stored) assert.ok(hasStored, `acknowledged STORE of ${STORED_KEYWORD} on UID ${a.uid} in ${mailbox} lost in the crash`);
          if (!a.storing) assert.ok(!hasStored, `UID ${a.uid} has ${STORED_KEYWORD} though no STORE was sent`);
        }
        const maxUid = Math.max(0, ...seen.keys());
        assert.ok(uidNext > maxUid, `UIDNEXT ${uidNext} is not above UID ${maxUid} in ${mailbox}`);
      } finally {
        lock.release();
      }
      // A new APPEND must get a UID never seen before.
      const res = await c.append(mailbox, Buffer.from('Subject: after\r\n\r\nafter the crash\r\n'));
      const maxAcked = Math.max(0, ...mine.map((a) => a.uid));
      assert.ok(res && typeof res === 'object' && res.uid && res.uid > maxAcked, `UID ${String(res && typeof res === 'object' ? res.uid : res)} reused in ${mailbox}`);
    }
  } finally {
    await c.logout();
  }
}

/**
 * CLIENTS append loops on `ports` (client i on ports[i % n]) until a random moment after the first
 * acknowledged STORE, when `kill` ends the server processes; then checks that the load proved
 * something and returns what was acknowledged, for verify().
 */
async function loadThenKill(seed: number, ports: number[], kill: () => Promise<void>, say: (line: string) => void): Promise<Acked[]> {
  const r = rng(seed);
  const acked: Acked[] = [];
  const stop = { killed: false };
  const loops = Array.from({ length: CLIENTS }, (_, i) => appendLoop(ports[i % ports.length]!, rng(seed * 1000 + i), i, acked, stop));
  const killAfter = 400 + Math.floor(r() * 1600);
  // Counted from the first acknowledged STORE (so after an APPEND too): on a loaded machine
  // the clients may need seconds to connect, and a kill before any completed proves nothing.
  for (const end = Date.now() + 30_000; !acked.some((a) => a.stored) && Date.now() < end; ) await new Promise((res) => setTimeout(res, 20));
  await new Promise((res) => setTimeout(res, killAfter));
  stop.killed = true;
  await kill();
  await Promise.all(loops);
  assert.ok(acked.length > 0, 'no APPEND completed before the kill; the test proved nothing');
  const stores = acked.filter((a) => a.stored).length;
  assert.ok(stores > 0, 'no STORE completed before the kill; the flag half proved nothing');
  say(`killed after ${killAfter} ms with ${acked.length} acknowledged APPENDs and ${stores} STOREs`);
  return acked;
}

async function killNow(running: Running): Promise<void> {
  running.child.kill('SIGKILL');
  await new Promise((res) => running.child.once('exit', res));
}

/** A single process on the folder finds everything acknowledged, then stops. */
async function restartAndVerify(dir: string, acked: Acked[]): Promise<void> {
  const second = await startServer(dir);
  await verify(second.port, acked);
  second.child.kill('SIGTERM');
  await new Promise((res) => second.child.once('exit', res));
}

/** Starts the first server on a fresh folder and creates the second mailbox. */
async function firstServer(dir: string, shared?: 'maintain'): Promise<Running> {
  const first = await startServer(dir, shared);
  const setup = connect(first.port);
  await setup.connect();
  await setup.mailboxCreate('Other');
  await setup.logout();
  return first;
}

describe('SqliteStore survives SIGKILL during concurrent APPENDs', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: every acknowledged APPEND and STORE is there after a restart`, { timeout: 60_000 }, async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'postroom-crash-'));
      try {
        const first = await firstServer(dir);
        const acked = await loadThenKill(seed, [first.port], () => killNow(first), (line) => t.diagnostic(line));
        await restartAndVerify(dir, acked);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

/**
 * The same with two processes on one folder, as `serve --workers --sqlite-workers own-store` runs
 * them (the first maintains the folder, the second joins it): clients on both, then one of them —
 * the joining one for odd seeds, the maintaining one for even — killed with SIGKILL, the other
 * killed too (a cluster whose primary dies ends), and a single process started on the folder must
 * find every acknowledged APPEND and STORE of both.
 */
describe('SqliteStore shared by two processes survives SIGKILL of either during concurrent APPENDs', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: every acknowledged APPEND and STORE of both processes is there after a restart`, { timeout: 90_000 }, async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'postroom-crash-shared-'));
      try {
        const primary = await firstServer(dir, 'maintain');
        const joined = await startServer(dir, 'join');
        const [victim, other] = seed % 2 ? [joined, primary] : [primary, joined];
        const kill = async (): Promise<void> => {
          await killNow(victim);
          await killNow(other);
        };
        const acked = await loadThenKill(seed, [primary.port, joined.port], kill, (line) => t.diagnostic(`${seed % 2 ? 'joining' : 'maintaining'} process first: ${line}`));
        await restartAndVerify(dir, acked);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
