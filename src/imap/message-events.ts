/**
 * IMAP events: the points where a session's command has stored messages (APPEND — MULTIAPPEND,
 * CATENATE and REPLACE included —, COPY, MOVE) or changed their flags (STORE, FETCH's implicit
 * \Seen), reported to a listener after the store committed them and before the command's tagged
 * response. RFC 6785 §2.2 names these points; IMAP Sieve (src/imapsieve/) is the listener
 * `postroom serve` installs (ImapServerOptions.messageEvents).
 *
 * The hook sits around the session's store handle, not in the command handlers: every command that
 * reaches append/appendMany/replace/copy/move/updateFlags is covered, none has to remember it, and
 * none knows who listens. What the listener itself changes goes through a handle of its own, so
 * it raises no event (RFC 6785 §6: actions of a script never trigger scripts) and the session
 * hears of it through the change feed like any other session's change.
 */
import type { Logger } from '../util/logger.js';
import type { Flag, FlagOperation, UserMailbox } from '../store/types.js';

/** RFC 6785 §4.3's causes; a MOVE is a COPY (as in Pigeonhole), with `moved` set. */
export type ImapEventCause = 'APPEND' | 'COPY' | 'FLAG';

export interface ImapMessageEvent {
  cause: ImapEventCause;
  /** The logged-in user whose command caused the event. */
  user: string;
  /** The mailbox the messages are in now (the target of APPEND, COPY and MOVE). */
  mailboxId: string;
  /** COPY and MOVE: the mailbox they came from. */
  sourceMailboxId?: string;
  /** MOVE: the messages left the source mailbox. */
  moved?: boolean;
  /** The messages, by UID in `mailboxId`; for FLAG each with the flags that changed. */
  messages: Array<{ uid: number; changedFlags?: Flag[] }>;
}

export interface ImapEventListener {
  /** Capabilities the listener brings to CAPABILITY once logged in (IMAPSIEVE=…). */
  readonly capabilities?: readonly string[];
  /**
   * Whether events of this user's mailbox matter at all; asked before each write, so that FLAG
   * events, which need the flags as they were, cost nothing where no one listens. Should be cheap.
   */
  interested(user: string, mailboxId: string): Promise<boolean>;
  /**
   * The event, after the store made the change durable. The command waits for it; a rejection is
   * logged and never fails the command (the change is made).
   */
  onMessages(event: ImapMessageEvent): Promise<void>;
}

/**
 * The session's handle with the events reported. Methods the handle lacks stay absent (a store
 * without appendMany keeps the one-by-one path); everything else is the handle's own.
 */
export function withMessageEvents(mail: UserMailbox, user: string, listener: ImapEventListener, logger: Logger): UserMailbox {
  const emit = async (event: Omit<ImapMessageEvent, 'user'>): Promise<void> => {
    if (event.messages.length === 0) return;
    try {
      await listener.onMessages({ ...event, user });
    } catch (err) {
      logger.error({ err, cause: event.cause, mailboxId: event.mailboxId }, 'an IMAP event listener failed; the command is unaffected');
    }
  };
  const interested = async (mailboxId: string): Promise<boolean> => {
    try {
      return await listener.interested(user, mailboxId);
    } catch (err) {
      logger.error({ err, mailboxId }, 'an IMAP event listener could not say whether it listens; no event');
      return false;
    }
  };
  const own: Partial<UserMailbox> = {
    async append(mailboxId, input, options) {
      const result = await mail.append(mailboxId, input, options);
      if (await interested(mailboxId)) await emit({ cause: 'APPEND', mailboxId, messages: [{ uid: result.uid }] });
      return result;
    },
    async copy(from, uids, to, options) {
      const result = await mail.copy(from, uids, to, options);
      if (await interested(to)) await emit({ cause: 'COPY', mailboxId: to, sourceMailboxId: from, messages: result.mapping.map(([, uid]) => ({ uid })) });
      return result;
    },
    async move(from, uids, to, options) {
      const result = await mail.move(from, uids, to, options);
      if (await interested(to)) await emit({ cause: 'COPY', mailboxId: to, sourceMailboxId: from, moved: true, messages: result.mapping.map(([, uid]) => ({ uid })) });
      return result;
    },
    async updateFlags(mailboxId, uids, operation: FlagOperation, flags, options) {
      if (!(await interested(mailboxId))) return mail.updateFlags(mailboxId, uids, operation, flags, options);
      // RFC 6785 §4.5 wants the flags that changed: the flags before are read first (another
      // session's change between the two calls may blur them; the event still comes).
      const before = new Map((await mail.records(mailboxId, uids)).map((r) => [r.uid, r.flags]));
      const result = await mail.updateFlags(mailboxId, uids, operation, flags, options);
      const messages = result.changed.map((c) => ({ uid: c.uid, changedFlags: changedFlags(before.get(c.uid) ?? [], c.flags) })).filter((m) => m.changedFlags.length > 0);
      await emit({ cause: 'FLAG', mailboxId, messages });
      return result;
    },
  };
  if (mail.appendMany) {
    const appendMany = mail.appendMany.bind(mail);
    own.appendMany = async (mailboxId, inputs, options) => {
      const results = await appendMany(mailboxId, inputs, options);
      // RFC 6785 §2.2.1: each message of a MULTIAPPEND is an event of its own (one call here).
      if (await interested(mailboxId)) await emit({ cause: 'APPEND', mailboxId, messages: results.map((r) => ({ uid: r.uid })) });
      return results;
    };
  }
  if (mail.replace) {
    const replace = mail.replace.bind(mail);
    own.replace = async (from, uid, to, input, options) => {
      const result = await replace(from, uid, to, input, options);
      // RFC 8508 REPLACE stores a new message: an APPEND as far as events go.
      if (await interested(to)) await emit({ cause: 'APPEND', mailboxId: to, messages: [{ uid: result.appended.uid }] });
      return result;
    };
  }
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(mail, {
    get(target, prop) {
      if (Object.hasOwn(own, prop)) return own[prop as keyof UserMailbox];
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      // Bound once: FETCH asks for read/records many times per command.
      let fn = bound.get(prop);
      if (!fn) bound.set(prop, (fn = (value as (...a: unknown[]) => unknown).bind(target)));
      return fn;
    },
  });
}

/** The session's handle as commands use it: reporting events when the server has a listener. */
export function sessionHandle(server: { readonly messageEvents?: ImapEventListener }, user: string, mail: UserMailbox, logger: Logger): UserMailbox {
  return server.messageEvents ? withMessageEvents(mail, user, server.messageEvents, logger) : mail;
}

/** Flags set or cleared between `before` and `after` (case-insensitive; \Recent is a session's, not a change). */
export function changedFlags(before: readonly Flag[], after: readonly Flag[]): Flag[] {
  const key = (f: string): string => f.toLowerCase();
  const had = new Set(before.map(key));
  const has = new Set(after.map(key));
  const out: Flag[] = [];
  for (const f of after) if (!had.has(key(f)) && key(f) !== '\\recent') out.push(f);
  for (const f of before) if (!has.has(key(f)) && key(f) !== '\\recent') out.push(f);
  return out;
}
