/**
 * What a store client and the store's owner say to each other when the store lives in another
 * thread or process (remote-store.ts, store-server.ts): calls on per-user handles, their replies,
 * and change-feed events.
 */
import type { StoreErrorKind } from '../errors.js';
import type { MailboxChange, OpenOptions, UserMailbox } from '../types.js';
import { SIEVE_STORAGE_METHODS, VACATION_CLAIM_METHODS } from '../sieve-storage.js';

/**
 * The UserMailbox methods that cross; stream() is read() on the owner's side. `setQuota` and
 * `sharedMailboxes` are the store's calls for the handle's user (the only store-level calls a peer makes).
 */
export type RemoteMethod = Exclude<keyof UserMailbox, 'user' | 'stream'> | 'setQuota' | 'sharedMailboxes';

export const REMOTE_METHODS: ReadonlySet<string> = new Set<RemoteMethod>([
  'list', 'create', 'delete', 'rename', 'subscribe', 'subscriptions', 'get', 'status', 'snapshot', 'claimRecent', 'expungedSince', 'changedSince',
  'records', 'structure', 'read', 'messageHeads', 'search', 'messageExtras', 'sortData', 'append', 'appendMany', 'updateFlags', 'copy', 'move', 'expunge', 'close',
  'quota', 'setQuota', 'getAcl', 'setAcl', 'sharedMailboxes', 'privateSeen', 'setPrivateSeen', 'getMetadata', 'setMetadata',
  'urlauthKey', 'resetUrlauthKeys',
  ...SIEVE_STORAGE_METHODS,
  ...VACATION_CLAIM_METHODS,
]);

export type OpenRequest = { t: 'open'; id: number; handle: number; user: string; options?: OpenOptions };
export type CallRequest = { t: 'call'; id: number; handle: number; method: RemoteMethod; args: unknown[] };
export type WatchRequest = { t: 'watch'; user: string } | { t: 'unwatch'; user: string };
export type StoreRequest = OpenRequest | CallRequest | WatchRequest;

export type StoreReply =
  | { t: 'reply'; id: number; ok: true; value: unknown }
  | { t: 'reply'; id: number; ok: false; kind?: StoreErrorKind; message: string };
export type StoreEvent = { t: 'change'; user: string; change: MailboxChange };
export type StoreResponse = StoreReply | StoreEvent;

/** One direction of a two-way link: an IPC channel to a process, or a thread's MessagePort. */
export interface StoreLink<In, Out> {
  send(message: Out): void;
  onMessage(listener: (message: In) => void): void;
}

export function isStoreRequest(m: unknown): m is StoreRequest {
  const t = (m as { t?: unknown } | null)?.t;
  return t === 'open' || t === 'call' || t === 'watch' || t === 'unwatch';
}

export function isStoreResponse(m: unknown): m is StoreResponse {
  const t = (m as { t?: unknown } | null)?.t;
  return t === 'reply' || t === 'change';
}

/**
 * A MessagePort's structured clone turns a Buffer into a plain Uint8Array (process IPC with
 * 'advanced' serialization keeps it a Buffer); this views the same bytes as a Buffer again.
 */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
