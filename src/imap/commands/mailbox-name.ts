/**
 * Mailbox names between the wire and the store.
 *
 * On the wire a name is modified UTF-7 (RFC 3501 §5.1.3), or plain UTF-8 once the client has
 * enabled UTF8=ACCEPT (RFC 6855 §3) or IMAP4rev2 (RFC 9051 §5.1). The store only ever sees the
 * decoded Unicode name; responses re-encode it the same way the client speaks.
 */
import { ArgReader, ParseError } from '../wire/args.js';
import { decodeMailboxName, encodeMailboxName } from '../wire/mutf7.js';
import { astring } from '../wire/encoder.js';
import type { ImapValue } from '../wire/types.js';
import { ImapError } from '../errors.js';
import type { CommandContext } from './types.js';
import type { UserMailbox } from '../../store/types.js';

/** True when names travel as UTF-8 rather than modified UTF-7. */
export function utf8Names(enabled: ReadonlySet<string>): boolean {
  return enabled.has('UTF8=ACCEPT') || enabled.has('IMAP4REV2');
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * A name that is not valid modified UTF-7 (RFC 3501 §5.1.3). The argument itself is a valid
 * string — only the name in it is wrong — so the answer is NO with the reason, not BAD, as
 * Dovecot and Cyrus answer.
 */
export function mutf7Name(wire: string, what = 'mailbox name'): string {
  try {
    return decodeMailboxName(wire);
  } catch (err) {
    const why = err instanceof Error ? err.message : 'invalid encoding';
    throw ImapError.no(`${what === 'mailbox name' ? '' : `${what}: `}${why} (modified UTF-7, RFC 3501 section 5.1.3)`, 'CANNOT');
  }
}

/** Wire bytes → Unicode name. Invalid UTF-8 is BAD; invalid modified UTF-7 is NO (mutf7Name). */
export function decodeWireName(bytes: Buffer, enabled: ReadonlySet<string>, what = 'mailbox name'): string {
  if (utf8Names(enabled)) {
    try {
      return utf8Decoder.decode(bytes);
    } catch {
      throw new ParseError(`Invalid ${what}: not valid UTF-8`);
    }
  }
  // Modified UTF-7 is 7-bit; latin1 keeps every byte as one character so 8-bit input is detected
  // by the decoder instead of being silently replaced.
  return mutf7Name(bytes.toString('latin1'), what);
}

/**
 * Reads a `mailbox` argument (RFC 3501 §9: "INBOX" / astring) and decodes it. "INBOX" in any case
 * becomes "INBOX" (§5.1); the case of deeper levels is the store's business.
 */
export function readMailboxName(r: ArgReader, enabled: ReadonlySet<string>, what = 'mailbox name'): string {
  return mailboxNameFrom(r.bytes(what), enabled, what);
}

/** readMailboxName for bytes already read: lets a command finish checking its syntax (BAD) first. */
export function mailboxNameFrom(bytes: Buffer, enabled: ReadonlySet<string>, what = 'mailbox name'): string {
  const name = decodeWireName(bytes, enabled, what);
  return /^inbox$/i.test(name) ? 'INBOX' : name;
}

/**
 * "inbox/Sub" names INBOX's child "INBOX/Sub" (RFC 3501 §5.1: INBOX is case-insensitive). Applied
 * before comparing names at the protocol level; the store canonicalises the same way.
 */
export function normalizeInbox(name: string, delimiter: string): string {
  if (/^inbox$/i.test(name)) return 'INBOX';
  if (delimiter && name.length > 5 && name.startsWith(delimiter, 5) && /^inbox$/i.test(name.slice(0, 5))) {
    return `INBOX${name.slice(5)}`;
  }
  return name;
}

/**
 * Rejects names a client could create but never address precisely again: the LIST wildcards
 * (RFC 3501 §6.3.8 gives "*" and "%" their meaning in every LIST pattern). Everything else
 * (empty levels, control characters, lengths) is validated by the store.
 */
export function checkNewName(name: string): void {
  if (name.length === 0) throw ImapError.no('Mailbox name may not be empty', 'CANNOT');
  if (/[*%]/.test(name)) throw ImapError.no('Mailbox name may not contain "*" or "%"', 'CANNOT');
}

/** Unicode name → response value (atom when it can be, else a quoted string or literal). */
export function mailboxNameValue(name: string, enabled: ReadonlySet<string>): ImapValue {
  return astring(utf8Names(enabled) ? name : encodeMailboxName(name));
}

/** The user's mail; the dispatcher only runs mailbox commands once authenticated. */
export function userMail(ctx: CommandContext): UserMailbox {
  if (ctx.state.kind === 'notAuthenticated') throw ImapError.bad('Not authenticated');
  return ctx.state.mail;
}
