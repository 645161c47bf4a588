/**
 * COPY of many messages in the memory store without one long stretch on the event loop, and still
 * all-or-nothing — the memory store's counterpart of src/store/sqlite/chunked-copy.ts.
 *
 * A COPY of 20,000 messages was one synchronous step of ~60 ms of CPU (bench/stall.ts), during
 * which every other session waited. A large COPY now runs as chunks of COPY_CHUNK messages, each
 * one synchronous step with its own checks (the quota with what the chunk adds, counted over the
 * mailboxes as they are now, earlier chunks included; the keyword limit with the keywords the chunk
 * brings), taking its UIDs from the target's `uidNext` at that moment — so UIDs stay ascending when
 * others append between chunks (RFC 3501 §2.3.1.1) — and announced on the change feed at once, as
 * any write. Between chunks the loop serves everyone else.
 *
 * RFC 3501 §6.4.7 wants the destination "restored to its state before the COPY attempt" when a COPY
 * fails: if a chunk is refused (quota, keyword limit) or the target is gone, the chunks already
 * added are removed again in one step, announced as expunged to whoever saw them, and the error is
 * the COPY's. The UIDs they took are not handed out again. What this gives up, as on SQLite, is
 * invisibility while the COPY runs: another session may see the first chunks and then see them
 * expunged if the COPY fails, which IMAP allows of any message at any time.
 */
import type { CopyResult, QuotaLimits } from '../types.js';
import type { HandleContext } from './context.js';
import { sortedUnique, type MailboxState } from './state.js';

/** Messages per synchronous step of a large COPY: well under a millisecond of work. */
export const MEMORY_COPY_CHUNK = 250;

/** One chunk of the copy, in one synchronous step (the caller's copyInto: checks, writes, announce). */
export type CopyStep = (ctx: HandleContext, uids: number[], limits: QuotaLimits | undefined, maxKeywords: number | undefined) => { result: CopyResult; target: MailboxState };

/** Removes the copies already made (one step) when a later chunk fails. */
export type Undo = (ctx: HandleContext, target: MailboxState, uids: Set<number>) => void;

export async function copyInChunks(
  ctx: HandleContext,
  uids: number[],
  step: CopyStep,
  undo: Undo,
  limits: QuotaLimits | undefined,
  maxKeywords: number | undefined,
): Promise<CopyResult> {
  const sorted = sortedUnique(uids);
  const mapping: Array<[number, number]> = [];
  let uidValidity: number | undefined;
  let target: MailboxState | undefined;
  try {
    for (let i = 0; i < sorted.length || i === 0; i += MEMORY_COPY_CHUNK) {
      if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      // The target is looked up by id at every step: mailbox ids are never reused, so a target
      // deleted meanwhile fails the step ('nonexistent') rather than filling another mailbox.
      const part = step(ctx, sorted.slice(i, i + MEMORY_COPY_CHUNK), limits, maxKeywords);
      target = part.target;
      uidValidity = part.result.uidValidity;
      for (const pair of part.result.mapping) mapping.push(pair);
    }
  } catch (err) {
    // Only while the target is still the same mailbox: a deleted one took the copies with it.
    if (target && mapping.length > 0 && ctx.state.byId.get(target.id) === target) {
      undo(ctx, target, new Set(mapping.map(([, to]) => to)));
    }
    throw err;
  }
  return { uidValidity: uidValidity!, mapping };
}
