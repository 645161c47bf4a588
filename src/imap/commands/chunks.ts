/**
 * Big writes in pieces. A STORE, MOVE or EXPUNGE over 20,000 messages was one store call, and with
 * the SQLite store (better-sqlite3 is synchronous) one stretch of 100–1,500 ms on the event loop,
 * during which every other session waited. These commands now call the store once per chunk of
 * messages and apply each chunk to the session's view before the next: each call is a
 * transaction of its own, a few milliseconds long, and other sessions run between them.
 *
 * Partial progress is legal for all three. RFC 3501 §6.4.6 describes STORE message by message and
 * does not make the set atomic (a failure half-way leaves the FETCHes already sent true). An
 * EXPUNGE that fails half-way has removed the messages its untagged EXPUNGEs named (§7.4.1).
 * RFC 6851 §3.3 lets MOVE fail part-way as long as every message is either moved or untouched,
 * which each chunk's own transaction guarantees. COPY must be all-or-nothing (RFC 3501 §6.4.7)
 * and is not cut here: the stores slice it themselves.
 */

/** Messages per store call: a few milliseconds of SQLite work (bench/stall.ts measures it). */
export const WRITE_CHUNK = 250;

/** `items` cut into runs of `size`, in order. */
export function chunksOf<T>(items: readonly T[], size = WRITE_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * `items` cut into runs that each hold at most `maxMarked` items for which `marked` is true and at
 * most `maxItems` in all, in order; each run is cut when it is asked for, so the caller's work on
 * one (a store call, the view updated) comes before `marked` looks at the next. For EXPUNGE: its
 * cost is in the messages it removes (the \Deleted ones), not in the candidates it names, so a
 * 400-message mailbox with a few \Deleted is one store call — one transaction and one WAL sync —
 * instead of two chunks of 250 candidates. A single run is `items` itself (not a copy): the caller
 * must not change it while using the run.
 */
export function* markedChunksOf<T>(items: readonly T[], marked: (item: T) => boolean, maxMarked = WRITE_CHUNK, maxItems = 4 * WRITE_CHUNK): Generator<T[]> {
  // Runs are cut by index and copied once at their final size (or not at all when `items` is one
  // run, as for EXPUNGE in a mailbox under `maxItems`), rather than grown item by item: the push
  // copies were a fifth of what an EXPUNGE of a 1,000-message mailbox allocated (bench/command-alloc.ts).
  let start = 0;
  let count = 0;
  for (let i = 0; i < items.length; i++) {
    const m = marked(items[i]!);
    if (i - start === maxItems || (m && count === maxMarked)) {
      yield items.slice(start, i);
      start = i;
      count = 0;
    }
    if (m) count++;
  }
  if (start === 0 && items.length > 0) yield items as T[];
  else if (start < items.length) yield items.slice(start);
}
