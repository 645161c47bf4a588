/**
 * Mailbox tree operations (RFC 3501 §6.3.3–6.3.5) over one user's state. Every function validates
 * names first, mutates, then publishes, so listeners never observe a half-applied change.
 */
import { forgetPrivateSeen } from './private-seen.js';
import { copyMetadata } from './metadata.js';
import { recordExpunged } from '../expunged.js';
import { StoreError } from '../errors.js';
import { compareMailboxNames, isSameOrBelow, parentNames, validateMailboxName } from '../names.js';
import type { MailboxInfo, SpecialUse } from '../types.js';
import { publish, type HandleContext } from './context.js';
import { toInfo, type MailboxState } from './state.js';
import { noteModseq } from './modseq-order.js';

export function canonical(ctx: HandleContext, name: string): string {
  return validateMailboxName(name, ctx.store.delimiter);
}

export function byName(ctx: HandleContext, name: string): MailboxState {
  const box = ctx.state.byName.get(canonical(ctx, name));
  if (!box) throw new StoreError('nonexistent', `no mailbox named ${JSON.stringify(name)}`);
  return box;
}

function link(ctx: HandleContext, box: MailboxState): void {
  ctx.state.byName.set(box.name, box);
  ctx.state.byId.set(box.id, box);
}

/** Creates missing ancestors of `name` as ordinary (selectable) mailboxes. */
function ensureParents(ctx: HandleContext, name: string): void {
  for (const parent of parentNames(name, ctx.store.delimiter)) {
    if (!ctx.state.byName.has(parent)) link(ctx, ctx.store.newMailbox(parent));
  }
}

function descendants(ctx: HandleContext, name: string): MailboxState[] {
  const out: MailboxState[] = [];
  for (const box of ctx.state.byName.values()) {
    if (box.name !== name && isSameOrBelow(box.name, name, ctx.store.delimiter)) out.push(box);
  }
  return out;
}

export function listMailboxes(ctx: HandleContext): MailboxInfo[] {
  return [...ctx.state.byName.values()]
    .sort((a, b) => compareMailboxNames(a.name, b.name, ctx.store.delimiter))
    .map((box) => toInfo(ctx.state, box));
}

export function createMailbox(ctx: HandleContext, name: string, specialUse?: SpecialUse, maxMailboxes?: number): MailboxInfo {
  const full = canonical(ctx, name);
  const existing = ctx.state.byName.get(full);
  if (existing && !existing.noselect) throw new StoreError('alreadyexists', `mailbox ${JSON.stringify(full)} already exists`);
  if (maxMailboxes !== undefined && !existing) {
    // Counted and created in one synchronous step: no other session's CREATE comes between.
    const added = 1 + parentNames(full, ctx.store.delimiter).filter((p) => !ctx.state.byName.has(p)).length;
    if (ctx.state.byName.size + added > maxMailboxes) throw new StoreError('limit', `Too many mailboxes (limit ${maxMailboxes})`);
  }
  let box: MailboxState;
  if (existing) {
    // A \Noselect name becomes a real mailbox again; its UID counter was preserved, so UIDs stay unique.
    existing.noselect = false;
    if (specialUse) existing.specialUse = specialUse;
    box = existing;
  } else {
    ensureParents(ctx, full);
    box = ctx.store.newMailbox(full, specialUse);
    link(ctx, box);
  }
  publish(ctx, { kind: 'mailboxes' });
  return toInfo(ctx.state, box);
}

/** Removes every message; returns the removed UIDs. The UID counter is kept (RFC 3501 §6.3.4). */
export function clearMessages(ctx: HandleContext, box: MailboxState): number[] {
  const uids = box.messages.map((m) => m.uid);
  if (uids.length === 0) return uids;
  box.messages = [];
  forgetPrivateSeen(box, 'all');
  box.size = 0;
  box.highestModseq++;
  recordExpunged(box.expunged, uids, box.highestModseq, ctx.store.expungedRetention);
  return uids;
}

export function deleteMailbox(ctx: HandleContext, name: string): void {
  const box = byName(ctx, name);
  if (box.name === 'INBOX') throw new StoreError('cannot', 'INBOX cannot be deleted');
  if (descendants(ctx, box.name).length > 0) {
    if (box.noselect) throw new StoreError('hasChildren', `${JSON.stringify(box.name)} has inferior hierarchical names`);
    const removed = clearMessages(ctx, box);
    box.noselect = true;
    delete box.acl; // RFC 4314 §4: DELETE deletes the ACL, also when the name stays as \Noselect
    delete box.metadata; // RFC 5464 §4.1: and its annotations
    delete box.urlauthKeys; // RFC 4467: URLs authorized for the deleted mailbox stop working
    if (removed.length > 0) publish(ctx, { kind: 'expunge', mailboxId: box.id, uids: removed });
  } else {
    ctx.state.byName.delete(box.name);
    ctx.state.byId.delete(box.id);
  }
  // Subscriptions survive deletion on purpose (RFC 3501 §6.3.9).
  publish(ctx, { kind: 'mailboxes' });
}

export function renameMailbox(ctx: HandleContext, from: string, to: string, maxMailboxes?: number): void {
  const source = byName(ctx, from);
  const target = canonical(ctx, to);
  if (ctx.state.byName.has(target)) throw new StoreError('alreadyexists', `mailbox ${JSON.stringify(target)} already exists`);
  const delimiter = ctx.store.delimiter;
  if (source.name !== 'INBOX' && isSameOrBelow(target, source.name, delimiter)) throw new StoreError('cannot', 'cannot rename a mailbox into itself');
  if (maxMailboxes !== undefined) {
    // Counted and renamed in one synchronous step: no other session's CREATE or RENAME comes between.
    // The missing parents are new; renaming INBOX also leaves INBOX behind, one more.
    const added = parentNames(target, delimiter).filter((p) => !ctx.state.byName.has(p)).length + (source.name === 'INBOX' ? 1 : 0);
    if (added > 0 && ctx.state.byName.size + added > maxMailboxes) throw new StoreError('limit', `Too many mailboxes (limit ${maxMailboxes})`);
  }
  if (source.name === 'INBOX') return renameInbox(ctx, source, target);
  const moving = [source, ...descendants(ctx, source.name)];
  const renamed = moving.map((box) => ({ box, name: target + box.name.slice(source.name.length) }));
  for (const { name } of renamed) canonical(ctx, name); // children may grow past the length/depth limits
  for (const box of moving) ctx.state.byName.delete(box.name);
  ensureParents(ctx, target);
  for (const { box, name } of renamed) {
    if (ctx.state.subscriptions.delete(box.name)) ctx.state.subscriptions.add(name);
    box.name = name;
    ctx.state.byName.set(name, box);
  }
  publish(ctx, { kind: 'mailboxes' });
}

/** RFC 3501 §6.3.5: messages move to a new mailbox, INBOX stays (empty), its children stay put. */
function renameInbox(ctx: HandleContext, inbox: MailboxState, target: string): void {
  ensureParents(ctx, target);
  const box = ctx.store.newMailbox(target);
  link(ctx, box);
  // RFC 5464 §4.1: INBOX keeps its annotations, and the new mailbox gets a copy of them.
  if (inbox.metadata) box.metadata = copyMetadata(inbox.metadata);
  for (const message of inbox.messages) {
    const moved = { ...message, flags: [...message.flags], uid: box.uidNext++, modseq: ++box.highestModseq };
    box.messages.push(moved);
    noteModseq(box, moved);
    box.size += message.content.raw.length;
  }
  const removed = clearMessages(ctx, inbox);
  if (box.messages.length > 0) publish(ctx, { kind: 'exists', mailboxId: box.id, uids: box.messages.map((m) => m.uid) });
  if (removed.length > 0) publish(ctx, { kind: 'expunge', mailboxId: inbox.id, uids: removed });
  publish(ctx, { kind: 'mailboxes' });
}

export function setSubscribed(ctx: HandleContext, name: string, subscribed: boolean): void {
  const full = canonical(ctx, name);
  const had = ctx.state.subscriptions.has(full);
  if (had === subscribed) return;
  if (subscribed) ctx.state.subscriptions.add(full);
  else ctx.state.subscriptions.delete(full);
  publish(ctx, { kind: 'mailboxes' });
}
