/**
 * RFC 5464 annotations in the memory store (UserMailbox.getMetadata/setMetadata): each mailbox and
 * the user's server scope keep a MetadataState. They go with the mailbox object (DELETE drops it,
 * tree.ts; RENAME keeps the object), and a renamed INBOX's new mailbox gets a copy (tree.ts).
 */
import { StoreError } from '../errors.js';
import { checkWrites, isPrivateEntry, lastWrites, metadataChanges, sortedEntries, tooMany } from '../metadata.js';
import type { MetadataEntry, MetadataWrite, SetMetadataOptions } from '../types.js';
import type { HandleContext } from './context.js';
import type { MetadataState } from './state.js';

function target(ctx: HandleContext, mailboxId: string | null, create: true): MetadataState;
function target(ctx: HandleContext, mailboxId: string | null, create: false): MetadataState | undefined;
function target(ctx: HandleContext, mailboxId: string | null, create: boolean): MetadataState | undefined {
  if (mailboxId === null) {
    if (create) ctx.state.serverMetadata ??= { shared: new Map(), private: new Map() };
    return ctx.state.serverMetadata;
  }
  const box = ctx.state.byId.get(mailboxId);
  if (!box) throw new StoreError('nonexistent', 'no such mailbox');
  if (create) box.metadata ??= { shared: new Map(), private: new Map() };
  return box.metadata;
}

function entriesOf(state: MetadataState | undefined, viewer: string): MetadataEntry[] {
  if (!state) return [];
  const out: MetadataEntry[] = [];
  for (const [entry, value] of state.shared) out.push({ entry, value });
  for (const [entry, value] of state.private.get(viewer) ?? []) out.push({ entry, value });
  return out;
}

export function getMetadata(ctx: HandleContext, mailboxId: string | null, viewer = ctx.state.user): MetadataEntry[] {
  return sortedEntries(entriesOf(target(ctx, mailboxId, false), viewer));
}

export function setMetadata(ctx: HandleContext, mailboxId: string | null, writes: MetadataWrite[], options: SetMetadataOptions = {}): void {
  checkWrites(writes);
  const viewer = options.viewer ?? ctx.state.user;
  const state = target(ctx, mailboxId, true);
  const effective = lastWrites(writes);
  const before = entriesOf(state, viewer).length;
  // Counted before anything changes, so a refused write leaves every entry as it was (§4.3).
  const mine = state.private.get(viewer) ?? new Map<string, Buffer>();
  let after = before;
  for (const w of effective) {
    const had = (isPrivateEntry(w.entry) ? mine : state.shared).has(w.entry);
    if (had && w.value === null) after--;
    if (!had && w.value !== null) after++;
  }
  if (tooMany(before, after, options.maxEntries)) throw new StoreError('limit', 'Too many annotations');
  for (const w of effective) {
    const map = isPrivateEntry(w.entry) ? mine : state.shared;
    if (w.value === null) map.delete(w.entry);
    else map.set(w.entry, Buffer.from(w.value));
  }
  if (mine.size > 0) state.private.set(viewer, mine);
  else state.private.delete(viewer);
  for (const change of metadataChanges(mailboxId, effective, viewer, ctx.origin)) ctx.store.feed.publish(ctx.state.user, change);
}

export function copyMetadata(state: MetadataState): MetadataState {
  return {
    shared: new Map([...state.shared].map(([k, v]) => [k, Buffer.from(v)])),
    private: new Map([...state.private].map(([viewer, m]) => [viewer, new Map([...m].map(([k, v]) => [k, Buffer.from(v)]))])),
  };
}
