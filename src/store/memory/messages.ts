/** Message operations over one user's state: append, flags, copy/move, expunge, reads, search. */
import { checkKeywordLimitSync } from '../keyword-limit.js';
import { messagePreview, messageSortKeys, parseMessage } from '../../mime/index.js';
import type { MessageStructure } from '../../mime/types.js';
import { StoreError } from '../errors.js';
import { STREAM_CHUNK, bufferChunks, pinnedStream } from '../pinned-stream.js';
import { runSearch, type SearchTarget } from '../search-run.js';
import type {
  AppendInput,
  AppendInputs,
  Replacing,
  ReplaceResult,
  AppendResult,
  ByteRange,
  CopyResult,
  Flag,
  FlagChange,
  FlagOperation,
  FlagUpdateResult,
  MessageContent,
  MessageRecord,
  SearchQuery,
  SearchOptions,
  MessageStream,
  QuotaLimits,
  SortableMessage,
  MessageExtras,
  MessageExtrasOptions,
} from '../types.js';
import { emailIdOf } from '../types.js';
import { createHash } from 'node:crypto';
import { publish, type HandleContext } from './context.js';
import { recordExpunged } from '../expunged.js';
import { noteModseq } from './modseq-order.js';
import { applyFlagOperation, hasFlag, normaliseFlags, sameFlags } from './flags.js';
import { findMessage, sortedUnique, usageOf, type MailboxState, type SharedContent, type StoredMessage } from './state.js';
import { checkQuota, effectiveLimits } from '../quota.js';
import { MEMORY_COPY_CHUNK, copyInChunks } from './chunked-copy.js';
import { forgetPrivateSeen } from './private-seen.js';

export function mailboxById(ctx: HandleContext, id: string): MailboxState {
  const box = ctx.state.byId.get(id);
  if (!box) throw new StoreError('nonexistent', 'no such mailbox');
  return box;
}

/** A mailbox that can hold messages; a \Noselect one answers 'cannot'. */
export function selectable(ctx: HandleContext, id: string): MailboxState {
  const box = mailboxById(ctx, id);
  if (box.noselect) throw new StoreError('cannot', `${JSON.stringify(box.name)} cannot hold messages (\\Noselect)`);
  return box;
}

/** A mailbox whose messages or flags are about to change: refused ('noperm') when read-only. */
export function writable(ctx: HandleContext, id: string): MailboxState {
  const box = selectable(ctx, id);
  if (box.readOnly) throw new StoreError('noperm', `${JSON.stringify(box.name)} is read-only`);
  return box;
}

export function messageOf(ctx: HandleContext, id: string, uid: number): StoredMessage {
  const message = findMessage(selectable(ctx, id), uid);
  if (!message) throw new StoreError('nonexistent', `no message with UID ${uid}`);
  return message;
}

export function toRecord(m: StoredMessage): MessageRecord {
  return {
    uid: m.uid,
    flags: [...m.flags],
    modseq: m.modseq,
    internalDate: new Date(m.internalDate),
    size: m.content.raw.length,
    saveDate: new Date(m.saveDate),
  };
}

/**
 * The parsed structure. parseMessage is specified never to throw, so this normally just returns the
 * value computed at append; if parsing failed then, it is retried here rather than losing the message.
 */
export function structureOf(content: SharedContent): MessageStructure {
  content.structure ??= parseMessage(content.raw);
  return content.structure;
}

export function emailIdOfContent(content: SharedContent): string {
  content.emailId ??= emailIdOf(createHash('sha256').update(content.raw).digest());
  return content.emailId;
}

/** UserMailbox.messageExtras: the bytes are in memory, so a preview is always at hand (LAZY too). */
export function messageExtras(ctx: HandleContext, id: string, uids: number[], options: MessageExtrasOptions): MessageExtras[] {
  const box = selectable(ctx, id);
  const out: MessageExtras[] = [];
  for (const uid of [...new Set(uids)].sort((a, b) => a - b)) {
    const m = findMessage(box, uid);
    if (!m) continue;
    const extras: MessageExtras = { uid, emailId: emailIdOfContent(m.content) };
    if (options.preview) extras.preview = m.content.preview ??= messagePreview(m.content.raw, structureOf(m.content));
    out.push(extras);
  }
  return out;
}

async function collect(content: MessageContent, limit: number): Promise<Buffer> {
  if (Buffer.isBuffer(content)) {
    if (content.length > limit) throw new StoreError('toobig', `message exceeds ${limit} octets`);
    // A private copy: the caller may reuse its buffer (or it may be a slice of a larger one).
    return Buffer.from(content);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of content) {
    total += chunk.length;
    if (total > limit) throw new StoreError('toobig', `message exceeds ${limit} octets`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

interface PreparedAppend {
  content: SharedContent;
  flags: Flag[];
  internalDate: Date;
}

/** Reads and parses one message to append (everything that may await). */
async function prepareAppend(ctx: HandleContext, input: AppendInput): Promise<PreparedAppend> {
  const internalDate = input.internalDate ? new Date(input.internalDate) : ctx.store.now();
  if (Number.isNaN(internalDate.getTime())) throw new StoreError('cannot', 'invalid internal date');
  const raw = await collect(input.content, ctx.store.maxMessageSize);
  const content: SharedContent = { key: ctx.store.nextContentKey(), raw };
  try {
    content.structure = parseMessage(raw);
  } catch {
    // See structureOf: parsed lazily on first use instead.
  }
  return { content, flags: normaliseFlags(input.flags ?? []), internalDate };
}

/**
 * Adds prepared messages in one synchronous step: the quota check (for their sum) and the writes
 * cannot be separated by another session's, and either all are added or none.
 */
async function commitAppends(ctx: HandleContext, id: string, prepared: PreparedAppend[], maxKeywords?: number, replacing?: Replacing): Promise<AppendResult[]> {
  const limits = await quotaLimits(ctx);
  // From here to the pushes, nothing awaits.
  const box = writable(ctx, id); // it may have been deleted (or marked read-only) while the bytes arrived
  const source = replacing ? writable(ctx, replacing.mailboxId) : undefined;
  const storage = prepared.reduce((n, p) => n + p.content.raw.length, 0);
  checkQuota(usageOf(ctx.state), limits, { storage, messages: prepared.length });
  // The keywords all of them bring, counted once, inside the same step as the writes.
  checkIncomingKeywords(box, [...new Set(prepared.flatMap((p) => p.flags))], maxKeywords);
  const results: AppendResult[] = [];
  for (const p of prepared) {
    const message: StoredMessage = {
      uid: box.uidNext++,
      flags: p.flags,
      modseq: ++box.highestModseq,
      internalDate: p.internalDate,
      saveDate: ctx.store.now(),
      content: p.content,
    };
    box.messages.push(message);
    noteModseq(box, message);
    box.size += p.content.raw.length;
    results.push({ uid: message.uid, uidValidity: box.uidValidity, modseq: message.modseq });
  }
  publish(ctx, { kind: 'exists', mailboxId: box.id, uids: results.map((r) => r.uid) });
  // RFC 8508: the replaced message goes in the same step (no await since the checks above).
  if (source && replacing) replacing.expunged = removeMessages(ctx, source, new Set([replacing.uid])).length > 0;
  return results;
}

/** UserMailbox.replace (RFC 8508): the new message added and the old one removed in one step. */
export async function replaceMessage(ctx: HandleContext, fromId: string, uid: number, toId: string, input: AppendInput, maxKeywords?: number): Promise<ReplaceResult> {
  writable(ctx, fromId);
  writable(ctx, toId);
  const replacing: Replacing = { mailboxId: fromId, uid };
  const [appended] = await commitAppends(ctx, toId, [await prepareAppend(ctx, input)], maxKeywords, replacing);
  return { appended: appended!, expunged: replacing.expunged === true };
}

export async function appendMessage(ctx: HandleContext, id: string, input: AppendInput, maxKeywords?: number): Promise<AppendResult> {
  writable(ctx, id); // fail before consuming a possibly large stream
  return (await commitAppends(ctx, id, [await prepareAppend(ctx, input)], maxKeywords))[0]!;
}

/** UserMailbox.appendMany: every message is read first; then all are added in one step, or none. */
export async function appendMessages(ctx: HandleContext, id: string, inputs: AppendInputs, maxKeywords?: number): Promise<AppendResult[]> {
  writable(ctx, id);
  const prepared: PreparedAppend[] = [];
  for await (const input of inputs) prepared.push(await prepareAppend(ctx, input));
  if (prepared.length === 0) return [];
  return commitAppends(ctx, id, prepared, maxKeywords);
}

/**
 * Only messages whose flags actually changed are reported, for 'set' too: a STORE that leaves a
 * message as it was produces no FETCH for other sessions and does not bump its modseq
 * (RFC 7162 §3.1.3 allows either; not bumping keeps CONDSTORE clients from refetching).
 */
export function updateFlags(
  ctx: HandleContext,
  id: string,
  uids: number[],
  operation: FlagOperation,
  flags: Flag[],
  unchangedSince?: number,
  maxKeywords?: number,
): FlagUpdateResult {
  const box = writable(ctx, id);
  const given = normaliseFlags(flags);
  // Counted and written in one synchronous step: no other session's STORE comes between.
  checkKeywordLimitSync(operation, given, maxKeywords, keywordLookup(box));
  const changed: FlagChange[] = [];
  const conflicts: number[] = [];
  for (const uid of sortedUnique(uids)) {
    const message = findMessage(box, uid);
    if (!message) continue;
    if (unchangedSince !== undefined && message.modseq > unchangedSince) {
      conflicts.push(uid);
      continue;
    }
    const next = applyFlagOperation(message.flags, operation, given);
    if (sameFlags(next, message.flags)) continue;
    message.flags = next;
    message.modseq = ++box.highestModseq;
    noteModseq(box, message);
    changed.push({ uid, flags: [...next], modseq: message.modseq });
  }
  if (changed.length > 0) publish(ctx, { kind: 'flags', mailboxId: box.id, changes: changed.map((c) => ({ ...c, flags: [...c.flags] })) });
  return { changed, conflicts };
}

function keywordLookup(box: MailboxState): { has(keyword: string): boolean; all(): Iterable<string> } {
  return {
    has: (k) => box.messages.some((m) => m.flags.some((f) => f.toLowerCase() === k)),
    all: () => box.messages.flatMap((m) => m.flags.filter((f) => !f.startsWith('\\')).map((f) => f.toLowerCase())),
  };
}

/** APPEND, COPY and MOVE bring keywords into `box`: counted in the same synchronous step as the write. */
function checkIncomingKeywords(box: MailboxState, flags: readonly Flag[], maxKeywords: number | undefined): void {
  checkKeywordLimitSync('add', flags, maxKeywords, keywordLookup(box));
}

function copyInto(ctx: HandleContext, source: MailboxState, uids: number[], target: MailboxState, limits?: QuotaLimits, maxKeywords?: number): CopyResult {
  const picked = sortedUnique(uids)
    .map((uid) => findMessage(source, uid))
    .filter((m): m is StoredMessage => m !== undefined);
  if (maxKeywords !== undefined) checkIncomingKeywords(target, [...new Set(picked.flatMap((m) => m.flags))], maxKeywords);
  if (limits) {
    const storage = picked.reduce((n, m) => n + m.content.raw.length, 0);
    checkQuota(usageOf(ctx.state), limits, { storage, messages: picked.length });
  }
  const mapping: Array<[number, number]> = [];
  for (const m of picked) {
    // The bytes and structure are shared, not copied: COPY costs no message-sized memory.
    // RFC 8514: saved in the target now; the internal date is the original's.
    const copy: StoredMessage = {
      uid: target.uidNext++,
      flags: [...m.flags],
      modseq: ++target.highestModseq,
      internalDate: m.internalDate,
      saveDate: ctx.store.now(),
      content: m.content,
    };
    target.messages.push(copy);
    noteModseq(target, copy);
    target.size += m.content.raw.length;
    mapping.push([m.uid, copy.uid]);
  }
  if (mapping.length > 0) publish(ctx, { kind: 'exists', mailboxId: target.id, uids: mapping.map(([, to]) => to) });
  return { uidValidity: target.uidValidity, mapping };
}

/**
 * All or nothing: a COPY that would exceed the quota copies no message. A large one runs in chunks
 * with the loop free between them, and is undone if a chunk fails (chunked-copy.ts).
 */
export async function copyMessages(ctx: HandleContext, fromId: string, uids: number[], toId: string, maxKeywords?: number): Promise<CopyResult> {
  const limits = await quotaLimits(ctx);
  if (uids.length <= MEMORY_COPY_CHUNK) return copyInto(ctx, selectable(ctx, fromId), uids, writable(ctx, toId), limits, maxKeywords);
  return copyInChunks(
    ctx,
    uids,
    (c, part, l, k) => {
      const target = writable(c, toId);
      return { result: copyInto(c, selectable(c, fromId), part, target, l, k), target };
    },
    (c, target, copies) => void removeMessages(c, target, copies),
    limits,
    maxKeywords,
  );
}

/** The limits that apply to the handle's user now (resolved before the write's synchronous step). */
export async function quotaLimits(ctx: HandleContext): Promise<QuotaLimits> {
  return (await effectiveLimits(ctx.state.user, ctx.state.quota, ctx.store.quotaDefaults)).limits;
}

export function moveMessages(ctx: HandleContext, fromId: string, uids: number[], toId: string, maxKeywords?: number): CopyResult {
  const source = writable(ctx, fromId);
  const result = copyInto(ctx, source, uids, writable(ctx, toId), undefined, maxKeywords);
  removeMessages(ctx, source, new Set(result.mapping.map(([from]) => from)));
  return result;
}

function removeMessages(ctx: HandleContext, box: MailboxState, doomed: Set<number>): number[] {
  if (doomed.size === 0) return [];
  const kept: StoredMessage[] = [];
  const removed: number[] = [];
  for (const m of box.messages) {
    if (doomed.has(m.uid)) {
      removed.push(m.uid);
      box.size -= m.content.raw.length;
    } else kept.push(m);
  }
  box.messages = kept;
  forgetPrivateSeen(box, removed);
  if (removed.length > 0) {
    // RFC 7162 §3.2.5.1: an expunge changes the mailbox, so HIGHESTMODSEQ moves on.
    box.highestModseq++;
    recordExpunged(box.expunged, removed, box.highestModseq, ctx.store.expungedRetention);
    publish(ctx, { kind: 'expunge', mailboxId: box.id, uids: removed });
  }
  return removed;
}

export function expungeMessages(ctx: HandleContext, id: string, uids?: number[]): number[] {
  const box = writable(ctx, id);
  const within = uids ? new Set(uids) : undefined;
  const doomed = new Set(
    box.messages.filter((m) => hasFlag(m.flags, '\\Deleted') && (!within || within.has(m.uid))).map((m) => m.uid),
  );
  return removeMessages(ctx, box, doomed);
}

function clamp(size: number, range?: ByteRange): [number, number] {
  if (!range) return [0, size];
  const start = Math.min(Math.max(0, range.start), size);
  return [start, Math.min(Math.max(start, range.end), size)];
}

/** A view of the stored bytes, not a copy (messages can be large); callers must not modify it. */
export function readMessage(ctx: HandleContext, id: string, uid: number, range?: ByteRange): Buffer {
  const raw = messageOf(ctx, id, uid).content.raw;
  const [start, end] = clamp(raw.length, range);
  return raw.subarray(start, end);
}

export function streamMessage(ctx: HandleContext, id: string, uid: number, range?: ByteRange): MessageStream {
  return pinnedStream(
    () => messageOf(ctx, id, uid).content.raw,
    (raw) => bufferChunks(raw, STREAM_CHUNK, ...clamp(raw.length, range)),
  );
}

/** Evaluated in steps that yield to the event loop (search-run.ts), over the messages present now. */
export function searchMessages(ctx: HandleContext, id: string, query: SearchQuery, options: SearchOptions = {}): Promise<number[]> {
  const box = selectable(ctx, id);
  const toTarget = (m: StoredMessage): SearchTarget => ({
    record: toRecord(m),
    raw: () => m.content.raw,
    structure: () => structureOf(m.content),
    cacheKey: m.content.key,
    emailId: () => emailIdOfContent(m.content),
  });
  // A copy: messages appended or expunged while the search yields do not shift it.
  return runSearch(query, box.messages.slice(), toTarget, { texts: ctx.store.texts, ...(options.progress ? { progress: options.progress } : {}) });
}

/** Every message's SORT/THREAD keys (UserMailbox.sortData): computed once per content, kept per mailbox. */
export function sortData(ctx: HandleContext, id: string): readonly SortableMessage[] {
  const box = selectable(ctx, id);
  const cached = box.sortData;
  if (cached && cached.uidNext === box.uidNext && cached.count === box.messages.length) return cached.list;
  const list = box.messages.map((m): SortableMessage => {
    const keys = (m.content.sortKeys ??= messageSortKeys(m.content.raw, structureOf(m.content)));
    return { ...keys, uid: m.uid, internalDate: m.internalDate.getTime(), size: m.content.raw.length };
  });
  box.sortData = { uidNext: box.uidNext, count: box.messages.length, list };
  return list;
}
