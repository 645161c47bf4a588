/**
 * Names and ids of the shared namespace (docs/sharing.md). Another user's mailbox appears to a user
 * as `<prefix><delimiter><owner><delimiter><name>` ("Shared/alice/Team"), as Dovecot's shared
 * namespace "shared/%u/" does; its id is the owner's id wrapped so that it can never be mistaken for
 * one of the user's own (the built-in stores' ids are decimal numbers, and no store's id starts
 * with a NUL).
 */

export const DEFAULT_SHARED_PREFIX = 'Shared';

const ID_MARK = '\u0000';

export interface SharedName {
  owner: string;
  /** The name in the owner's tree; '' for the owner's root ("Shared/alice"). */
  inner: string;
}

/**
 * Splits a name of the shared namespace: null when it is not in it, `{ owner: '' }` for the prefix
 * itself. Case matters, except that the owner's INBOX is found whatever its case (the stores do).
 */
export function parseSharedName(name: string, prefix: string, delimiter: string): SharedName | null {
  if (name === prefix) return { owner: '', inner: '' };
  if (!name.startsWith(prefix + delimiter)) return null;
  const rest = name.slice(prefix.length + delimiter.length);
  const at = rest.indexOf(delimiter);
  return at < 0 ? { owner: rest, inner: '' } : { owner: rest.slice(0, at), inner: rest.slice(at + delimiter.length) };
}

export function sharedName(prefix: string, delimiter: string, owner: string, inner: string): string {
  return inner ? `${prefix}${delimiter}${owner}${delimiter}${inner}` : `${prefix}${delimiter}${owner}`;
}

export function sharedId(owner: string, id: string): string {
  return `${ID_MARK}${owner}${ID_MARK}${id}`;
}

/** The owner and the owner's id of a shared id; null for the user's own ids. */
export function parseSharedId(id: string): { owner: string; id: string } | null {
  if (!id.startsWith(ID_MARK)) return null;
  const at = id.indexOf(ID_MARK, 1);
  return at < 0 ? null : { owner: id.slice(1, at), id: id.slice(at + 1) };
}

/** True for ids of the shared namespace (hibernation leaves such sessions awake). */
export function isSharedId(id: string): boolean {
  return parseSharedId(id) !== null;
}
