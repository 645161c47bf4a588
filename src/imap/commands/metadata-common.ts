/**
 * What GETMETADATA and SETMETADATA (RFC 5464) share: the target a mailbox-name argument names (""
 * is the server), entry names (§3.2: BAD when invalid), the entries the server computes, and the
 * answer that does not reveal a mailbox the user cannot see. Rights are checked in one place, the
 * shared-namespace view (src/store/sharing/shared-view.ts); the commands are registered only when
 * the store keeps annotations (MailStore.metadata, server.ts). docs/metadata.md has the choices.
 */
import type { CommandContext } from './types.js';
import type { MailboxInfo, UserMailbox } from '../../store/types.js';
import { normalizeEntryName } from '../../store/metadata.js';
import { ArgReader, ParseError } from '../wire/args.js';
import { ImapError } from '../errors.js';
import { normalizeInbox, userMail } from './mailbox-name.js';

/** Both capabilities (RFC 5464 §1: a server with mailbox and server annotations advertises both). */
export const METADATA_CAPABILITIES = ['METADATA', 'METADATA-SERVER'] as const;

/** Entries the server computes and clients cannot set: §3.2.1.1 /shared/admin, RFC 6154 §4 /private/specialuse. */
export const SERVER_ADMIN_ENTRY = '/shared/admin';
export const SPECIAL_USE_ENTRY = '/private/specialuse';

/**
 * The entry name in its stored form, or BAD (§3.2: "Invalid entry names result in a BAD response").
 * `scopeRoots`: GETMETADATA may also name "/private" or "/shared" as a whole (with DEPTH), as
 * clients do and Dovecot and Cyrus accept.
 */
export function entryName(r: ArgReader, scopeRoots = false): string {
  const raw = r.astring('entry name');
  if (scopeRoots && /^\/(private|shared)$/i.test(raw)) return raw.toLowerCase();
  const name = normalizeEntryName(raw);
  if (name === null) throw new ParseError(`Invalid annotation entry name ${JSON.stringify(raw.slice(0, 80))}`);
  return name;
}

export interface MetadataTarget {
  mail: UserMailbox;
  /** null: the server (the mailbox-name argument was ""). */
  mailbox: MailboxInfo | null;
}

/**
 * The mailbox named, as the user may see it: a name the user cannot `l`ook up is answered exactly
 * like one that does not exist (the shared view's "no right, no trace").
 */
export async function metadataTarget(ctx: CommandContext, name: string): Promise<MetadataTarget> {
  const mail = userMail(ctx);
  if (name === '') return { mail, mailbox: null };
  return { mail, mailbox: await mail.get(normalizeInbox(name, ctx.server.store.delimiter)) };
}

/** The computed entries of a target (values as bytes), given the configured admin contact. */
export function computedEntries(target: MetadataTarget, adminContact: string | undefined): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (target.mailbox === null) {
    if (adminContact) out.set(SERVER_ADMIN_ENTRY, Buffer.from(adminContact, 'utf8'));
  } else if (target.mailbox.specialUse) {
    // RFC 6154 §4: the special-use attributes as LIST shows them, space-separated.
    out.set(SPECIAL_USE_ENTRY, Buffer.from(target.mailbox.specialUse, 'utf8'));
  }
  return out;
}

/** The store's annotations need the handle's methods (the server registers the commands only then). */
export function requireMetadata(mail: UserMailbox): Required<Pick<UserMailbox, 'getMetadata' | 'setMetadata'>> {
  if (!mail.getMetadata || !mail.setMetadata) throw ImapError.no('This server keeps no annotations', 'CANNOT');
  return mail as Required<Pick<UserMailbox, 'getMetadata' | 'setMetadata'>>;
}
