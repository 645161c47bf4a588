/**
 * The CommandContext handed to a command's run(): the only way a command reaches the connection,
 * the session state and the server. Login and SELECT live here because several commands share them.
 */
import type { QresyncParams, SelectOptions } from '../commands/types.js';
import type { UserMailbox } from '../../store/types.js';
import { firstUnknownUid, inRanges, vanishedLines, vanishedSince } from './qresync.js';
import { viewFetchLine } from '../wire/encoder.js';
import type { CommandContext, SessionState } from '../commands/types.js';
import type { SaslContext } from '../../auth/sasl/types.js';
import { atom, type ImapValue, type ResponseCode } from '../wire/types.js';
import { ImapError } from '../errors.js';
import { isUsableReferral } from '../../auth/referral.js';
import type { ImapConnection } from './connection.js';
import { SelectedMailboxView, watchedView, type ViewOptions } from './selected-view.js';
import { selectListEntries } from '../list/select.js';
import { mailboxNameValue } from '../commands/mailbox-name.js';
import { selectsReadOnly } from '../../store/acl.js';
import { permanentFlags, rightsIn } from '../commands/mailbox-access.js';
import { openWithSharing } from '../../store/sharing/shared-view.js';
import { sessionHandle } from '../message-events.js';
import { DEFAULT_SHARED_PREFIX, isSharedId } from '../../store/sharing/names.js';
import { mailboxObjectId } from '../../store/object-ids.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * One per command, so its methods live on the class, not in closures made for each command: a
 * closure made anew per command is an allocation every time, and V8 keeps the optimized code of
 * such closures only while one of them lives — after a full GC each is found hot and compiled
 * again, for as long as the server runs (bench/RESULTS.md, issue 23). Methods are called on the
 * context (`ctx.untagged(…)`); code that passes one on as a function binds it.
 */
class ConnectionCommandContext implements CommandContext {
  readonly server: ImapConnection['server'];
  readonly logger: ImapConnection['logger'];
  readonly enabled: Set<string>;

  constructor(
    readonly connection: ImapConnection,
    readonly tag: string,
    readonly command: string,
  ) {
    this.server = connection.server;
    this.logger = connection.logger;
    this.enabled = connection.enabled;
  }

  get state(): SessionState {
    return this.connection.state;
  }

  untagged(...values: ImapValue[]): void {
    this.connection.untagged(...values);
  }

  untaggedLines(text: string | Buffer[]): void {
    this.connection.writeEncoded(text);
  }

  untaggedStatus(status: 'OK' | 'NO' | 'BAD' | 'BYE', text: string, code?: ResponseCode): void {
    this.connection.status('*', status, text, code);
  }

  async drain(): Promise<void> {
    await this.connection.out.drain();
    await this.connection.pause();
  }

  progress(count: number, total: number): void {
    this.connection.progress?.report(count, total);
  }

  continuation(text: string): Promise<string | null> {
    return this.connection.continuation(text);
  }

  idle(text: string): Promise<string | null> {
    return this.connection.idle(text, this.tag);
  }

  setState(next: SessionState): void {
    this.connection.setState(next);
  }

  async startTls(): Promise<void> {
    return this.connection.requestTls();
  }

  startCompression(): void {
    this.connection.requestCompression();
  }

  close(): void {
    this.connection.close();
  }

  unauthenticate(): void {
    this.connection.unauthenticate();
  }

  saslContext(): SaslContext {
    return {
      authenticator: this.server.auth,
      remoteAddress: this.connection.remoteAddress,
      secure: this.connection.secure,
      protocol: 'imap',
      hostname: this.server.hostname,
    };
  }

  login(attempt: LoginAttempt): Promise<void> {
    return login(this.connection, attempt);
  }

  select(name: string, options: SelectOptions): Promise<SelectedMailboxView> {
    return select(this.connection, name, options);
  }

  setNotify(spec: Parameters<CommandContext['setNotify']>[0]): Promise<void> {
    return this.connection.setNotify(spec);
  }
}

export function createCommandContext(conn: ImapConnection, tag: string, command: string): CommandContext {
  return new ConnectionCommandContext(conn, tag, command);
}

/** The onAuth hook: told, never asked; a throwing hook is logged and ignored. */
function authHook(conn: ImapConnection, username: string, mechanism: string, ok: boolean): void {
  const hook = conn.server.hooks.onAuth;
  if (!hook) return;
  try {
    hook({ ...conn.sessionInfo(), username, mechanism, ok });
  } catch (err) {
    conn.logger.error({ err }, 'onAuth hook failed');
  }
}

type LoginAttempt = Parameters<CommandContext['login']>[0];

async function login(conn: ImapConnection, attempt: LoginAttempt): Promise<void> {
  const server = conn.server;
  const guard = server.loginGuard;
  const plaintext = 'password' in attempt ? true : attempt.plaintext;
  if (plaintext && !conn.secure && !server.allowInsecureAuth) {
    // RFC 3501 §6.2.3 (LOGINDISABLED) and RFC 5530 PRIVACYREQUIRED.
    throw ImapError.no('Plaintext authentication is disabled without TLS; use STARTTLS first', 'PRIVACYREQUIRED');
  }
  const mechanism = attempt.mechanism;
  // The connection's logger already carries conn, remote and protocol: the audit line adds the rest.
  const refuseLocked = async (user: string | undefined): Promise<never> => {
    conn.logger.warn({ mechanism, user, result: 'locked' }, 'authentication refused: locked out');
    server.metrics.login('locked', mechanism);
    await sleep(guard.options.baseDelayMs);
    throw ImapError.no('Too many failed logins; try again later', 'UNAVAILABLE');
  };
  let username = 'password' in attempt ? attempt.username : undefined;
  if (guard.isLocked(conn.remoteAddress, username)) return refuseLocked(username);
  let user: string | null;
  try {
    if ('password' in attempt) {
      const result = await server.auth.authenticate({
        username: attempt.username,
        password: attempt.password,
        authzid: attempt.authzid,
        mechanism,
        remoteAddress: conn.remoteAddress,
        secure: conn.secure,
        protocol: 'imap',
      });
      user = result?.user ?? null;
    } else {
      user = await attempt.verify();
    }
  } catch (err) {
    if (err instanceof ImapError) throw err;
    conn.logger.error({ err, mechanism }, 'authenticator failed');
    throw ImapError.no('Authentication is temporarily unavailable', 'UNAVAILABLE');
  }
  if (!user) {
    // A SASL exchange says whom it was for only now.
    if ('verify' in attempt) username = attempt.claimedUser?.();
    const delay = guard.failure(conn.remoteAddress, username);
    conn.loginFailures++;
    conn.logger.info({ mechanism, user: username, result: 'failure' }, 'authentication failed');
    authHook(conn, username ?? '', mechanism, false);
    server.metrics.login('failure', mechanism);
    await sleep(delay);
    throw ImapError.no('Invalid credentials', 'AUTHENTICATIONFAILED');
  }
  // The same for SASL, whose user name was not known before the exchange: a locked pair or user
  // must not get in through AUTHENTICATE. The answer is a lockout's, right password or not.
  if (!('password' in attempt) && guard.isLocked(conn.remoteAddress, user)) return refuseLocked(user);
  guard.success(conn.remoteAddress, user);
  await refuseReferred(conn, user, mechanism);
  const mail = sessionHandle(server, user, await openWithSharing(server.store, user, conn.id, DEFAULT_SHARED_PREFIX), conn.logger);
  try {
    conn.setState({ kind: 'authenticated', user, mail });
  } catch (err) {
    // The per-user connection limit (connection.ts admitUser), which logs its own line.
    server.metrics.login('limit', mechanism);
    throw err;
  }
  conn.logger.info({ mechanism, user, result: 'success' }, 'authenticated');
  authHook(conn, user, mechanism, true);
  server.metrics.login('success', mechanism);
}

/**
 * RFC 2221 §4.1/§4.2: a user whose mail is on another server gets `NO [REFERRAL url]` to LOGIN and
 * AUTHENTICATE once the credentials are verified, and stays unauthenticated. A referral that cannot
 * be sent (not an IMAP URL, or with a space or "]") still keeps the user out, as UNAVAILABLE.
 */
async function refuseReferred(conn: ImapConnection, user: string, mechanism: string): Promise<void> {
  const hook = conn.server.auth.referral;
  if (!hook) return;
  let url: string | null;
  try {
    url = await hook.call(conn.server.auth, user);
  } catch (err) {
    conn.logger.error({ err, mechanism }, 'authenticator failed (referral)');
    throw ImapError.no('Authentication is temporarily unavailable', 'UNAVAILABLE');
  }
  if (url === null) return;
  conn.server.metrics.login('failure', mechanism);
  if (!isUsableReferral(url)) {
    conn.logger.error({ mechanism, user, result: 'referral' }, 'the referral for this user is not a usable IMAP URL; login refused');
    throw ImapError.no('This account is served by another server', 'UNAVAILABLE');
  }
  conn.logger.info({ mechanism, user, result: 'referral', referral: url }, 'authentication referred to another server');
  throw ImapError.no('This account is served by another server; try the referral', { name: 'REFERRAL', args: [atom(url)] });
}

/** How a selected view reports, by what the session has ENABLEd. */
export function viewOptions(conn: ImapConnection): ViewOptions {
  return {
    reportModseq: () => conn.enabled.has('CONDSTORE'),
    // RFC 9586 §3: under UIDONLY expunges are VANISHED too, flag updates UIDFETCH.
    vanished: () => conn.enabled.has('QRESYNC') || conn.enabled.has('UIDONLY'),
    noRecent: () => conn.enabled.has('IMAP4REV2'),
    uidOnly: () => conn.enabled.has('UIDONLY'),
  };
}

/** The untagged LIST of the mailbox just selected (IMAP4rev2), through LIST's own code. */
async function writeSelectedList(conn: ImapConnection, mail: UserMailbox, name: string): Promise<void> {
  const delimiter = conn.server.store.delimiter;
  const entries = selectListEntries({
    mailboxes: await mail.list(),
    subscriptions: [],
    delimiter,
    matches: (candidate) => candidate === name,
    selection: { mode: 'extended', subscribed: false, specialUse: false, recursiveMatch: false, returnSubscribed: false },
  });
  for (const entry of entries) {
    if (entry.name !== name) continue;
    conn.untagged(atom('LIST'), entry.attributes.map(atom), delimiter === '' ? null : delimiter, mailboxNameValue(entry.name, conn.enabled));
  }
}

async function select(conn: ImapConnection, name: string, options: SelectOptions): Promise<SelectedMailboxView> {
  const st = conn.state;
  if (st.kind === 'notAuthenticated') throw ImapError.bad('Not authenticated');
  const { user, mail } = st;
  // RFC 3501 §6.3.1: a SELECT, even a failing one, first closes the mailbox selected before.
  if (st.kind === 'selected') {
    conn.setState({ kind: 'authenticated', user, mail });
    // RFC 7162 §3.2.11: the boundary between the old mailbox's responses and the new one's.
    conn.status('*', 'OK', 'Previous mailbox closed', { name: 'CLOSED' });
  }

  const rev2 = conn.enabled.has('IMAP4REV2');
  const info = await mail.get(name);
  if (info.noselect) throw ImapError.no(`${name} cannot be selected`, 'CANNOT');
  // A mailbox the store marks read-only is never opened read-write (MailboxInfo.readOnly).
  // Nor is one where the user holds none of the rights that change it (RFC 4314 §5.2).
  options = { ...options, readOnly: options.readOnly || info.readOnly === true || selectsReadOnly(rightsIn(info)) };

  const { view, unwatch } = await watchedView(conn.server.store, user, mail, info.id, async () => {
    const snapshot = await mail.snapshot(info.id);
    // Claims \Recent for the messages in the snapshot only: one that arrived since is reported
    // (and claimed) by whichever session tells its client first (RFC 3501 §2.3.2).
    // An IMAP4rev2 session has no \Recent (RFC 9051 Appendix E item 12): it only peeks.
    const recentFrom = await mail.claimRecent(info.id, { peek: options.readOnly || rev2, through: snapshot.uidNext - 1 });
    return new SelectedMailboxView(snapshot, options.readOnly, recentFrom, conn, conn.id, viewOptions(conn));
  });

  // RFC 7162 §3.1.8: SELECT/EXAMINE (CONDSTORE) enables it only once the mailbox is open, so a
  // failing SELECT leaves the session as it was; its HIGHESTMODSEQ is the one written below.
  if (options.condstore) conn.enabled.add('CONDSTORE');

  const flags = view.definedFlags();
  conn.untagged(atom('FLAGS'), flags.map(atom));
  if (options.readOnly) {
    conn.status('*', 'OK', 'Read-only mailbox', { name: 'PERMANENTFLAGS', args: [[]] });
  } else {
    conn.status('*', 'OK', 'Flags permitted', { name: 'PERMANENTFLAGS', args: [permanentFlags(flags, info).map(atom)] });
  }
  conn.untagged(view.exists, atom('EXISTS'));
  // RFC 9051 Appendix E items 11 and 12: RECENT and the UNSEEN code are IMAP4rev1's only.
  if (!rev2) {
    conn.untagged(view.recentCount(), atom('RECENT'));
    // UNSEEN names a sequence number, which a UIDONLY client does not use (RFC 9586 §3).
    const unseen = conn.enabled.has('UIDONLY') ? undefined : view.firstUnseenSeq();
    if (unseen !== undefined) conn.status('*', 'OK', `Message ${unseen} is first unseen`, { name: 'UNSEEN', args: [unseen] });
  }
  conn.status('*', 'OK', 'UIDs valid', { name: 'UIDVALIDITY', args: [view.uidValidity] });
  conn.status('*', 'OK', 'Predicted next UID', { name: 'UIDNEXT', args: [view.uidNext] });
  // RFC 7162 §3.1.2.1: once enabled, every SELECT/EXAMINE reports it (never NOMODSEQ: every
  // store keeps mod-sequences).
  if (conn.enabled.has('CONDSTORE')) conn.status('*', 'OK', 'Highest', { name: 'HIGHESTMODSEQ', args: [view.highestModseq] });
  // RFC 8474 §4.2: with OBJECTID, every SELECT and EXAMINE names the mailbox's MAILBOXID
  // (after the other untagged OKs, before any QRESYNC report).
  if (conn.server.store.messageExtras) conn.status('*', 'OK', 'Ok', { name: 'MAILBOXID', args: [[atom(mailboxObjectId(info.id, view.uidValidity))]] });
  // RFC 7162 §3.2.5: with a matching UIDVALIDITY, what changed since the client's mod-sequence.
  const q = options.qresync;
  if (q && q.uidValidity === view.uidValidity) await reportResync(conn, mail, view, q);
  // RFC 9051 §6.3.2 (Appendix E item 10): an IMAP4rev2 SELECT/EXAMINE answers with the mailbox's
  // LIST response, its attributes as LIST itself would give them.
  if (rev2) await writeSelectedList(conn, mail, info.name);

  conn.enterSelected({ kind: 'selected', user, mail, view }, view, unwatch);
  return view;
}

/**
 * The QRESYNC part of SELECT (RFC 7162 §3.2.5.1), equivalent to `UID FETCH known-uids (FLAGS)
 * (CHANGEDSINCE modseq VANISHED)`: VANISHED (EARLIER) first, then the changed messages with UID,
 * FLAGS and MODSEQ, all limited to the UIDs the client says it knows.
 */
async function reportResync(conn: ImapConnection, mail: UserMailbox, view: SelectedMailboxView, q: QresyncParams): Promise<void> {
  const known = q.knownUids ?? (view.uidNext > 1 ? [[1, view.uidNext - 1] as [number, number]] : []);
  const from = q.seqMatch ? firstUnknownUid(view, q.seqMatch.seqs, q.seqMatch.uids) : 1;
  const vanished = await vanishedSince(mail, view, q.modseq, known, from);
  const lines = vanishedLines(vanished, true);
  if (lines) conn.writeEncoded(lines);
  const uids = view.uids();
  // UIDONLY (RFC 9586): `uid UIDFETCH (FLAGS … MODSEQ …)`, the UID not repeated as an item.
  const uidOnly = conn.enabled.has('UIDONLY');
  let text = '';
  for (let i = 0; i < uids.length; i++) {
    const uid = uids[i]!;
    const modseq = view.modseqOf(uid);
    if (modseq <= q.modseq || !inRanges(known, uid)) continue;
    text += uidOnly ? viewFetchLine(i + 1, ['FLAGS'], uid, view.flagsOf(uid), modseq, true) : viewFetchLine(i + 1, ['UID', 'FLAGS'], uid, view.flagsOf(uid), modseq);
    if (text.length > 64 * 1024) {
      conn.writeEncoded(text);
      text = '';
      // Backpressure, and other sessions' turn: a resync from an old modseq may list every message.
      await conn.out.drain();
      await conn.pause();
    }
  }
  if (text) conn.writeEncoded(text);
}
