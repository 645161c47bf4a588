/**
 * The flags and mod-sequences a selected view has told its client, by sequence number − 1, kept as
 * two typed arrays: each message's flag set as an index into a table of the distinct sets, and its
 * modseq as a float64 (exact for any modseq a store hands out, which are safe integers).
 *
 * Why not two plain arrays: a SELECT built them new each time — 16 KB of young-generation heap for a
 * 1,000-message mailbox, and a SELECT's garbage brings on the scavenges that land in the cheap
 * commands after it (bench/RESULTS.md, issue 23). A typed array's contents live outside the JS heap,
 * so only the two small array objects are young garbage. A mailbox has a handful of distinct flag
 * sets, and a store's snapshot usually hands out one frozen array per set; the table keeps those
 * by identity and anything else by content.
 */
/** Frozen arrays remembered by identity at most: a store that froze one per message gets the content lookup. */
const MAX_BY_ARRAY = 256;
/** Sets beyond twice the messages a view may keep before the unused ones are dropped (compact()). */
const COMPACT_SLACK = 64;

export class FlagColumns {
  /** The distinct flag sets (each frozen: handed out by flags() and never changed). */
  private sets: (readonly string[])[] = [];
  /** Frozen arrays seen, by identity: a snapshot's shared sets are found without building a key. */
  private byArray = new Map<readonly string[], number>();
  /** Every set by its content (the flags joined by a line break, which no flag contains). */
  private byContent = new Map<string, number>();
  private setOf: Uint32Array;
  private modseqs: Float64Array;
  private count = 0;
  /** The array met last and its set: runs of messages with the same set skip even the Map lookup. */
  private lastArray: readonly string[] | null = null;
  private lastSet = 0;

  constructor(capacity: number) {
    this.setOf = new Uint32Array(Math.max(16, capacity));
    this.modseqs = new Float64Array(Math.max(16, capacity));
  }

  get length(): number {
    return this.count;
  }

  /** The flags of message `i` (a frozen array shared by every message with the same flags). */
  flags(i: number): readonly string[] {
    return this.sets[this.setOf[i]!]!;
  }

  modseq(i: number): number {
    return this.modseqs[i]!;
  }

  set(i: number, flags: readonly string[], modseq: number): void {
    this.setOf[i] = this.intern(flags);
    this.modseqs[i] = modseq;
  }

  push(flags: readonly string[], modseq: number): void {
    if (this.count === this.setOf.length) this.grow();
    // Interned before the count grows: a compaction in intern() reads only slots that hold a set.
    const at = this.intern(flags);
    this.setOf[this.count] = at;
    this.modseqs[this.count++] = modseq;
  }

  /**
   * Keeps the messages whose index `drop` says false for, in order, closing up in place (an
   * EXPUNGE); `drop` is asked once per index, ascending.
   */
  retain(drop: (i: number) => boolean): void {
    let w = 0;
    for (let r = 0; r < this.count; r++) {
      if (drop(r)) continue;
      this.setOf[w] = this.setOf[r]!;
      this.modseqs[w] = this.modseqs[r]!;
      w++;
    }
    this.count = w;
  }

  /** Every distinct flag set kept so far (a new view notes its keywords once per set, not per message). */
  distinctSets(): readonly (readonly string[])[] {
    return this.sets;
  }

  /** The first index whose flags lack `flag`, or -1. */
  firstWithout(flag: string): number {
    const has = this.sets.map((s) => s.includes(flag));
    for (let i = 0; i < this.count; i++) if (!has[this.setOf[i]!]) return i;
    return -1;
  }

  /** The set's index in the table, kept there when new. */
  private intern(flags: readonly string[]): number {
    if (flags === this.lastArray) return this.lastSet;
    const frozen = Object.isFrozen(flags);
    let at = frozen ? this.byArray.get(flags) : undefined;
    if (at === undefined) {
      const key = flags.join('\n');
      at = this.byContent.get(key);
      if (at === undefined) {
        if (this.sets.length >= 2 * this.count + COMPACT_SLACK) this.compact();
        at = this.sets.length;
        // A copy of an array someone else may still change; a frozen one can be kept as it is.
        const kept = frozen ? flags : Object.freeze([...flags]);
        this.sets.push(kept);
        this.byContent.set(key, at);
      }
      if (frozen && this.byArray.size < MAX_BY_ARRAY) this.byArray.set(flags, at);
    }
    if (frozen) {
      this.lastArray = flags;
      this.lastSet = at;
    }
    return at;
  }

  /**
   * Drops the sets no message has any more and renumbers the rest. Without it the table would keep
   * every set the view ever met — a client toggling a new keyword on one message in a loop made
   * every session with the mailbox selected keep one set per change (review, issue 23). Run only
   * when the table has outgrown twice the messages, so its cost is spread over that many new sets.
   */
  private compact(): void {
    const renumbered = new Int32Array(this.sets.length).fill(-1);
    const sets: (readonly string[])[] = [];
    const byContent = new Map<string, number>();
    for (let i = 0; i < this.count; i++) {
      const old = this.setOf[i]!;
      let now = renumbered[old]!;
      if (now < 0) {
        now = sets.length;
        renumbered[old] = now;
        const kept = this.sets[old]!;
        sets.push(kept);
        byContent.set(kept.join('\n'), now);
      }
      this.setOf[i] = now;
    }
    this.sets = sets;
    this.byContent = byContent;
    this.byArray = new Map();
    this.lastArray = null;
  }

  private grow(): void {
    const setOf = new Uint32Array(this.setOf.length * 2);
    setOf.set(this.setOf);
    this.setOf = setOf;
    const modseqs = new Float64Array(this.modseqs.length * 2);
    modseqs.set(this.modseqs);
    this.modseqs = modseqs;
  }
}
