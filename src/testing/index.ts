/**
 * postroom/testing: a real IMAP (and POP3) server inside a client's test suite — in memory, on free
 * loopback ports, with users from an object, preloaded mail, and faults on demand.
 *
 *   const server = await startTestServer({ users: { alice: 'pw' }, messages: { alice: ['Subject: hi\r\n\r\nhello\r\n'] } });
 *   // … connect a client to server.imapPort …
 *   server.faults.add({ command: 'FETCH', action: { type: 'drop' }, times: 1 });
 *   await server.close();
 *
 * Faults act through the server's onCommand hook (src/imap/hooks.ts), so they hit exactly the
 * command a client sends, after the state checks a real server makes. See docs/testing.md.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { createImapServer, type ImapServer } from '../imap/server.js';
import { ImapError } from '../imap/errors.js';
import type { ImapCommandEvent } from '../imap/hooks.js';
import { createPop3Server, type Pop3Server } from '../pop3/server.js';
import { MemoryStore } from '../store/memory/index.js';
import { crlfStore } from '../store/crlf-store.js';
import { StaticAuthenticator } from '../auth/static-users.js';
import type { AuthRequest, AuthResult, Authenticator } from '../auth/types.js';
import type { Flag, FlagOperation, MessageRecord, UserMailbox } from '../store/types.js';

/** A message to preload or deliver: its text, its bytes, or a file (.eml) to read. */
export type TestMessage = string | Buffer | { path: string } | { raw: string | Buffer; mailbox?: string; flags?: Flag[]; internalDate?: Date };

export interface TestServerOptions {
  /** user → password. Default { user: 'password' }. */
  users?: Record<string, string>;
  /** user → messages for INBOX (or each its own `mailbox`), or a folder whose *.eml files are loaded. */
  messages?: Record<string, readonly TestMessage[] | string>;
  /** Plain IMAP with STARTTLS (default true). */
  imap?: boolean;
  /** Implicit-TLS IMAP with a generated certificate (default false). */
  imaps?: boolean;
  /** POP3 on the same store (default false). */
  pop3?: boolean;
  /** Autologout after login; any value is allowed here (a real server insists on 1800 or more). */
  authIdleSeconds?: number;
  unauthIdleSeconds?: number;
  host?: string;
}

/** What a fault does to the command it matches. */
export type FaultAction =
  | { type: 'drop' }
  | { type: 'delay'; ms: number | readonly [number, number] }
  | { type: 'reply'; status: 'NO' | 'BAD' | 'BYE'; text?: string }
  | { type: 'run'; fn: (event: ImapCommandEvent) => void | Promise<void> };

export interface FaultRule {
  /** The command name ("FETCH", "UID FETCH"), or a pattern on it. Default: any command. */
  command?: string | RegExp;
  /** Fires only from this connection's n-th command on (0-based: 0 is the first). */
  afterCommands?: number;
  /** Only on this connection (an id from server.imap.connections()). */
  connection?: string;
  /** Only for this logged-in user. */
  user?: string;
  /** How many times it fires; default every time. */
  times?: number;
  action: FaultAction;
}

export interface Faults {
  /** Adds a rule; returns its remover. */
  add(rule: FaultRule): () => void;
  clear(): void;
  /** Gives a mailbox a new UIDVALIDITY (its messages renumbered): selected sessions end with BYE. */
  changeUidValidity(user: string, mailbox?: string): number;
  /** Expunges messages as another client would (all of them without `uids`). */
  expunge(user: string, mailbox?: string, uids?: number[]): Promise<number[]>;
  /** Changes flags as another client would. */
  setFlags(user: string, mailbox: string, uids: number[], operation: FlagOperation, flags: Flag[]): Promise<void>;
  /** While on, every login fails (as a wrong password would). */
  refuseLogins(on?: boolean): void;
  /**
   * Sends large literals (over 64 KiB: the message bodies FETCH streams) at `bytesPerSecond`, to
   * every session or only `connection`'s / `user`'s, until the returned remover (or clear()) runs.
   */
  slowLiterals(options: SlowLiterals): () => void;
}

export interface SlowLiterals {
  bytesPerSecond: number;
  /** Only on this connection (an id from server.imap.connections()). */
  connection?: string;
  /** Only for this logged-in user. */
  user?: string;
}

export interface WaitForOptions {
  user: string;
  mailbox?: string;
  count?: number;
  predicate?: (messages: MessageRecord[]) => boolean;
  /** Default 5000. */
  timeoutMs?: number;
}

export interface TestServer {
  host: string;
  imapPort?: number;
  imapsPort?: number;
  pop3Port?: number;
  /** The generated certificate (PEM), for clients that want to verify it. */
  certificate: { key: string; cert: string };
  store: MemoryStore;
  imap: ImapServer;
  pop3?: Pop3Server;
  faults: Faults;
  /** Appends a message as mail delivery would (other sessions are told). */
  deliver(user: string, message: TestMessage, options?: { mailbox?: string; flags?: Flag[]; internalDate?: Date }): Promise<{ uid: number }>;
  /** Resolves with the mailbox's records once `count` or `predicate` holds. */
  waitFor(options: WaitForOptions): Promise<MessageRecord[]>;
  /** Between tests: drops every session, removes all mail and faults, preloads the messages again. */
  reset(): Promise<void>;
  close(options?: { force?: boolean }): Promise<void>;
}

async function bytesOf(m: TestMessage): Promise<Buffer> {
  if (typeof m === 'string') return Buffer.from(m, 'utf8');
  if (Buffer.isBuffer(m)) return m;
  if ('path' in m) return readFile(m.path);
  return typeof m.raw === 'string' ? Buffer.from(m.raw, 'utf8') : m.raw;
}

async function messagesOf(spec: readonly TestMessage[] | string): Promise<readonly TestMessage[]> {
  if (typeof spec !== 'string') return spec;
  const names = (await readdir(spec)).filter((n) => n.toLowerCase().endsWith('.eml')).sort();
  return names.map((n) => ({ path: join(spec, n) }));
}

let certificate: Promise<{ key: string; cert: string }> | undefined;
function testCertificate(): Promise<{ key: string; cert: string }> {
  certificate ??= (async () => {
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
    } as Parameters<typeof generate>[1]);
    return { key: pems.private, cert: pems.cert };
  })();
  return certificate;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts IMAP (and optionally IMAPS and POP3) on free loopback ports over one MemoryStore. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const host = options.host ?? '127.0.0.1';
  const users = options.users ?? { user: 'password' };
  const store = new MemoryStore();
  const mailStore = crlfStore(store);
  const cert = await testCertificate();
  let refusing = false;
  const inner = new StaticAuthenticator(users);
  const auth: Authenticator = {
    authenticate: async (req: AuthRequest): Promise<AuthResult | null> => (refusing ? null : inner.authenticate(req)),
    lookupUser: (u: string) => inner.lookupUser(u),
    plaintextSecret: async (u: string) => (refusing ? null : inner.plaintextSecret(u)),
  };

  const rules = new Set<FaultRule & { fired: number }>();
  const slow = new Set<SlowLiterals>();
  const matches = (r: FaultRule & { fired: number }, e: ImapCommandEvent): boolean =>
    (r.times === undefined || r.fired < r.times) &&
    (r.command === undefined || (typeof r.command === 'string' ? r.command.toUpperCase() === e.command : r.command.test(e.command))) &&
    (r.afterCommands === undefined || e.index >= r.afterCommands) &&
    (r.connection === undefined || r.connection === e.id) &&
    (r.user === undefined || r.user === e.user);

  // eslint-disable-next-line prefer-const
  let imap: ImapServer;
  const onCommand = async (e: ImapCommandEvent): Promise<void> => {
    for (const r of rules) {
      if (!matches(r, e)) continue;
      r.fired++;
      const a = r.action;
      if (a.type === 'delay') await sleep(typeof a.ms === 'number' ? a.ms : a.ms[0] + Math.random() * (a.ms[1] - a.ms[0]));
      else if (a.type === 'run') await a.fn(e);
      else if (a.type === 'reply') {
        const text = a.text ?? `${e.command} failed (injected fault)`;
        throw a.status === 'NO' ? ImapError.no(text) : a.status === 'BAD' ? ImapError.bad(text) : ImapError.bye(text);
      } else {
        imap.disconnect(e.id, { force: true });
        throw ImapError.bye('Connection dropped (injected fault)');
      }
    }
  };

  imap = createImapServer({
    store,
    auth,
    host,
    port: options.imap === false ? null : 0,
    tlsPort: options.imaps ? 0 : null,
    tls: cert,
    allowInsecureAuth: true,
    allowShortAutologout: true,
    loginGuard: { maxFailures: 0, maxFailuresPerAddress: 0, maxFailuresPerUser: 0, baseDelayMs: 0 },
    limits: {
      idleHibernateSeconds: 0,
      ...(options.authIdleSeconds !== undefined ? { authIdleSeconds: options.authIdleSeconds } : {}),
      ...(options.unauthIdleSeconds !== undefined ? { unauthIdleSeconds: options.unauthIdleSeconds } : {}),
    },
    hooks: { onCommand },
  });
  imap.literalPace = (session) => {
    let pace: number | null = null;
    for (const r of slow) {
      if ((r.connection === undefined || r.connection === session.id) && (r.user === undefined || r.user === session.user)) {
        pace = pace === null ? r.bytesPerSecond : Math.min(pace, r.bytesPerSecond);
      }
    }
    return pace;
  };
  const ports = await imap.listen();
  const pop3 = options.pop3
    ? createPop3Server({ store, auth, host, port: 0, tlsPort: null, tls: cert, allowInsecureAuth: true, limits: { authFailureDelaySeconds: 0 } })
    : undefined;
  const pop3Port = pop3 ? (await pop3.listen()).port : undefined;

  const withMailbox = async <T>(user: string, name: string, fn: (mail: UserMailbox, id: string) => Promise<T>): Promise<T> => {
    const mail = await mailStore.open(user);
    try {
      let box;
      try {
        box = await mail.get(name);
      } catch {
        box = await mail.create(name);
      }
      return await fn(mail, box.id);
    } finally {
      await mail.close();
    }
  };

  const deliver: TestServer['deliver'] = async (user, message, o = {}) => {
    const own = typeof message === 'object' && !Buffer.isBuffer(message) && 'raw' in message ? message : undefined;
    const content = await bytesOf(message);
    const flags = o.flags ?? own?.flags;
    const internalDate = o.internalDate ?? own?.internalDate;
    return withMailbox(user, o.mailbox ?? own?.mailbox ?? 'INBOX', async (mail, id) => {
      const { uid } = await mail.append(id, { content, ...(flags ? { flags } : {}), ...(internalDate ? { internalDate } : {}) });
      return { uid };
    });
  };

  const preload = async (): Promise<void> => {
    for (const user of Object.keys(users)) await (await mailStore.open(user)).close(); // INBOX for everyone
    for (const [user, spec] of Object.entries(options.messages ?? {})) {
      for (const m of await messagesOf(spec)) await deliver(user, m);
    }
  };
  await preload();

  const faults: Faults = {
    add(rule) {
      const entry = { ...rule, fired: 0 };
      rules.add(entry);
      return () => rules.delete(entry);
    },
    clear: () => {
      rules.clear();
      slow.clear();
    },
    changeUidValidity: (user, mailbox = 'INBOX') => store.resetUidValidity(user, mailbox),
    expunge: (user, mailbox = 'INBOX', uids) =>
      withMailbox(user, mailbox, async (mail, id) => {
        const targets = uids ?? (await mail.snapshot(id)).messages.map((m) => m.uid);
        if (targets.length === 0) return [];
        await mail.updateFlags(id, targets, 'add', ['\\Deleted']);
        return mail.expunge(id, targets);
      }),
    setFlags: (user, mailbox, uids, operation, flags) =>
      withMailbox(user, mailbox, async (mail, id) => {
        await mail.updateFlags(id, uids, operation, flags);
      }),
    refuseLogins(on = true) {
      refusing = on;
    },
    slowLiterals(o) {
      if (!(o.bytesPerSecond > 0)) throw new RangeError('slowLiterals: bytesPerSecond must be positive');
      const entry = { ...o };
      slow.add(entry);
      return () => slow.delete(entry);
    },
  };

  const waitFor: TestServer['waitFor'] = async ({ user, mailbox = 'INBOX', count, predicate, timeoutMs = 5000 }) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const records = await withMailbox(user, mailbox, async (mail, id) => mail.records(id, (await mail.snapshot(id)).messages.map((m) => m.uid)));
      if ((count === undefined || records.length >= count) && (!predicate || predicate(records))) return records;
      if (Date.now() > deadline) throw new Error(`waitFor: ${user}/${mailbox} did not get there in ${timeoutMs} ms (${records.length} messages)`);
      await sleep(20);
    }
  };

  const reset = async (): Promise<void> => {
    rules.clear();
    slow.clear();
    refusing = false;
    for (const c of imap.connections()) imap.disconnect(c.id, { force: true });
    for (const user of Object.keys(users)) {
      const mail = await mailStore.open(user);
      try {
        const boxes = (await mail.list()).filter((b) => b.name !== 'INBOX').sort((a, b) => b.name.length - a.name.length);
        for (const b of boxes) await mail.delete(b.name).catch(() => undefined);
        for (const s of await mail.subscriptions()) if (s !== 'INBOX') await mail.subscribe(s, false);
      } finally {
        await mail.close();
      }
      await faults.expunge(user);
    }
    await preload();
  };

  return {
    host,
    ...(ports.port !== undefined ? { imapPort: ports.port } : {}),
    ...(ports.tlsPort !== undefined ? { imapsPort: ports.tlsPort } : {}),
    ...(pop3Port !== undefined ? { pop3Port } : {}),
    certificate: cert,
    store,
    imap,
    ...(pop3 ? { pop3 } : {}),
    faults,
    deliver,
    waitFor,
    reset,
    async close(o = {}) {
      await Promise.all([imap.close(o.force ? { force: true } : { timeoutMs: 5000 }), pop3?.close()]);
      await store.close();
    },
  };
}
