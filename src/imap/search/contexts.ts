/**
 * RFC 5267 §4.3 UPDATE contexts: a SEARCH or SORT whose result the server keeps current for the
 * client with `* ESEARCH (TAG "t") [UID] ADDTO (...)` / `REMOVEFROM (...)` while the mailbox stays
 * selected, until CANCELUPDATE.
 *
 * The contexts of a selected view hear what the view reports (ViewObserver): an expunge (before
 * its EXPUNGE response, so sequence numbers in REMOVEFROM are still valid), new messages (after
 * EXISTS, so ADDTO's sequence numbers are), and flag changes, this session's own included. The
 * search program is kept as the store query the command compiled — sequence numbers in it were
 * fixed when the command ran (RFC 5267 §4.3) — and new or changed messages are tested against
 * it with one store search per context. SORT contexts keep their result in sort order and place
 * new matches by the same comparator (positions per §4.3.3); SEARCH contexts use position 0 and
 * mailbox order.
 *
 * With NOTIFY (RFC 5465 §7) a context may name FETCH attributes (`UPDATE (UID BODY.PEEK[…])`):
 * when a new message joins its result — a new message, not one whose flags changed (§7: no FETCH
 * then) — the session FETCHes them. §7 puts that FETCH after EXISTS and before the ESEARCH
 * ADDTO, §5.2 after the ADDTO; the RFC contradicts itself (erratum 4833 says servers may do
 * either), and this follows §7, its example and its MUST. So a settle() with new messages holds
 * its ADDTO/REMOVEFROM lines back, hands the new messages with the attributes wanted for each to
 * the session's `fetchNew` (which adds NOTIFY's MessageNew attributes, so there is one FETCH per
 * message, §5.2), then sends the held lines.
 */
import type { SearchQuery } from '../../store/search-query.js';
import type { SortableMessage, UserMailbox } from '../../store/types.js';
import { compareBy, type SortCriterion } from '../../store/sort/sort.js';
import { sortData } from '../../store/sort/sort-data.js';
import type { NewMessageFetch, SelectedView, ViewObserver } from '../commands/types.js';
import type { FetchItem } from '../fetch/items.js';
import { atom, type ImapValue } from '../wire/types.js';
import { formatOrderedSet } from './results.js';
import { viewRanges } from './to-query.js';

export interface UpdateContext {
  tag: string;
  byUid: boolean;
  query: SearchQuery;
  /** Present for SORT contexts: the order results are kept in. */
  program?: readonly SortCriterion[];
  /** The current result, as UIDs in the requested order. */
  results: number[];
  /** RFC 5465 §7: attributes to FETCH for a new message that joins the result. */
  fetch?: readonly FetchItem[];
}

/** One (position, numbers) pair of ADDTO or REMOVEFROM. */
type Pair = [position: number, numbers: number[]];

class ViewContexts implements ViewObserver {
  readonly contexts = new Map<string, UpdateContext>();
  private dirty = new Set<number>();
  /** Of `dirty`, the messages that are new (reported with EXISTS), not changed. */
  private arrived = new Set<number>();
  /** While settle() runs with new messages: the ESEARCH lines held until their FETCH is out. */
  private held: ImapValue[][] | null = null;
  stop: () => void = () => undefined;

  constructor(
    private readonly view: SelectedView,
    private readonly mail: UserMailbox,
    private readonly emit: (...values: ImapValue[]) => void,
  ) {}

  private number(ctx: UpdateContext, uid: number): number {
    return ctx.byUid ? uid : (this.view.seqOf(uid) ?? 0);
  }

  private send(ctx: UpdateContext, name: 'ADDTO' | 'REMOVEFROM', pairs: Pair[]): void {
    if (pairs.length === 0) return;
    const payload: ImapValue[] = [];
    for (const [pos, numbers] of pairs) payload.push(pos, atom(formatOrderedSet(numbers)));
    const values: ImapValue[] = [atom('ESEARCH'), [atom('TAG'), ctx.tag]];
    if (ctx.byUid) values.push(atom('UID'));
    values.push(atom(name), payload);
    if (this.held) this.held.push(values);
    else this.emit(...values);
  }

  /**
   * Removes `gone` from the context's result and says so: SEARCH contexts as one position-0 set in
   * mailbox order; SORT contexts as runs at their positions, last run first, so no removal shifts
   * the position of one sent after it.
   */
  private remove(ctx: UpdateContext, gone: ReadonlySet<number>): void {
    if (!ctx.results.some((uid) => gone.has(uid))) return;
    const pairs: Pair[] = [];
    if (!ctx.program) {
      const removed = ctx.results.filter((uid) => gone.has(uid));
      pairs.push([0, removed.map((uid) => this.number(ctx, uid)).sort((a, b) => a - b)]);
    } else {
      let run: Pair | null = null;
      ctx.results.forEach((uid, i) => {
        if (!gone.has(uid)) {
          run = null;
          return;
        }
        if (run) run[1].push(this.number(ctx, uid));
        else pairs.push((run = [i + 1, [this.number(ctx, uid)]]));
      });
      pairs.reverse();
    }
    ctx.results = ctx.results.filter((uid) => !gone.has(uid));
    this.send(ctx, 'REMOVEFROM', pairs);
  }

  expunging(uids: readonly number[]): void {
    const gone = new Set(uids);
    for (const ctx of this.contexts.values()) this.remove(ctx, gone);
    for (const uid of uids) {
      this.dirty.delete(uid);
      this.arrived.delete(uid);
    }
  }

  added(uids: readonly number[]): void {
    for (const uid of uids) {
      this.dirty.add(uid);
      this.arrived.add(uid);
    }
  }

  flagsChanged(uids: readonly number[]): void {
    for (const uid of uids) this.dirty.add(uid);
  }

  async settle(fetchNew?: NewMessageFetch): Promise<void> {
    const arrived = [...this.arrived].filter((uid) => this.view.seqOf(uid) !== undefined).sort((a, b) => a - b);
    this.arrived.clear();
    if (this.dirty.size === 0 || this.contexts.size === 0) {
      this.dirty.clear();
      return;
    }
    const dirty = [...this.dirty].filter((uid) => this.view.seqOf(uid) !== undefined).sort((a, b) => a - b);
    this.dirty.clear();
    if (dirty.length === 0) return;
    if (arrived.length === 0 || !fetchNew) return this.update(dirty, new Set());
    // New messages: the FETCH goes between EXISTS (already out) and ADDTO (RFC 5465 §7).
    const wanted = new Map<number, FetchItem[]>();
    const held: ImapValue[][] = (this.held = []);
    try {
      await this.update(dirty, new Set(arrived), wanted);
    } finally {
      this.held = null;
    }
    await fetchNew(arrived, wanted);
    for (const values of held) this.emit(...values);
  }

  /**
   * Tests `dirty` against every context and sends (or holds) ADDTO/REMOVEFROM. `wanted` collects,
   * for each message of `arrived` that joined a context with FETCH attributes, those attributes.
   */
  private async update(dirty: number[], arrived: ReadonlySet<number>, wanted?: Map<number, FetchItem[]>): Promise<void> {
    const mailboxId = this.view.mailbox.id;
    let keys: Map<number, SortableMessage> | undefined;
    // Neighbours in the view make one range: a STORE over 10,000 messages is one range to test.
    const ranges = viewRanges(this.view, dirty);
    for (const ctx of [...this.contexts.values()]) {
      const matching = new Set(await this.mail.search(mailboxId, { type: 'and', of: [ctx.query, { type: 'uid', ranges }] }));
      if (!this.contexts.has(ctx.tag)) continue; // cancelled meanwhile
      const current = new Set(ctx.results);
      const leaving = new Set(dirty.filter((uid) => current.has(uid) && !matching.has(uid)));
      const joining = dirty.filter((uid) => !current.has(uid) && matching.has(uid) && this.view.seqOf(uid) !== undefined);
      this.remove(ctx, leaving);
      if (joining.length === 0) continue;
      if (wanted && ctx.fetch) {
        for (const uid of joining) if (arrived.has(uid)) wanted.set(uid, mergeItems(wanted.get(uid) ?? [], ctx.fetch));
      }
      if (!ctx.program) {
        ctx.results = [...ctx.results, ...joining].sort((a, b) => a - b);
        this.send(ctx, 'ADDTO', [[0, joining.map((uid) => this.number(ctx, uid))]]);
        continue;
      }
      keys ??= new Map((await sortData(this.mail, mailboxId, this.view.uids())).map((m) => [m.uid, m]));
      this.insertSorted(ctx, joining, keys);
    }
  }

  /** Places new matches into a SORT context's result and sends their positions (§4.3.3). */
  private insertSorted(ctx: UpdateContext, joining: number[], keys: Map<number, SortableMessage>): void {
    const compare = compareBy(ctx.program!);
    const present = joining.filter((uid) => keys.has(uid));
    if (present.length === 0) return;
    const merged = [...ctx.results.filter((uid) => keys.has(uid)), ...present];
    merged.sort((a, b) => compare(keys.get(a)!, keys.get(b)!));
    const isNew = new Set(present);
    // In ascending final position, each insertion finds every earlier result already in place.
    const pairs: Pair[] = [];
    let run: Pair | null = null;
    merged.forEach((uid, i) => {
      if (!isNew.has(uid)) {
        run = null;
        return;
      }
      if (run) run[1].push(this.number(ctx, uid));
      else pairs.push((run = [i + 1, [this.number(ctx, uid)]]));
    });
    ctx.results = merged;
    this.send(ctx, 'ADDTO', pairs);
  }
}

/** `a` with the items of `b` it lacks (the same attribute asked twice is fetched once, RFC 5465 §5.2). */
export function mergeItems(a: readonly FetchItem[], b: readonly FetchItem[]): FetchItem[] {
  const out = [...a];
  const seen = new Set(a.map((i) => JSON.stringify(i)));
  for (const item of b) {
    const key = JSON.stringify(item);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(item);
  }
  return out;
}

const byView = new WeakMap<SelectedView, ViewContexts>();

export type AddOutcome = 'added' | 'tag-in-use' | 'refused';

/**
 * Starts keeping `ctx` up to date. 'tag-in-use' when a live context already has this tag (the
 * command is then BAD, §4.3); 'refused' when the session is at its limit of contexts or the view
 * cannot be observed (the client gets NO [NOUPDATE], §4.3.1).
 */
export function addUpdateContext(
  view: SelectedView,
  mail: UserMailbox,
  emit: (...values: ImapValue[]) => void,
  ctx: UpdateContext,
  limit: number,
): AddOutcome {
  let contexts = byView.get(view);
  if (contexts?.contexts.has(ctx.tag)) return 'tag-in-use';
  if (!view.observe || (contexts?.contexts.size ?? 0) >= limit) return 'refused';
  if (!contexts) {
    contexts = new ViewContexts(view, mail, emit);
    contexts.stop = view.observe(contexts);
    byView.set(view, contexts);
  }
  contexts.contexts.set(ctx.tag, ctx);
  return 'added';
}

/** True when a live UPDATE context has this tag. */
export function hasUpdateContext(view: SelectedView, tag: string): boolean {
  return byView.get(view)?.contexts.has(tag) ?? false;
}

/** CANCELUPDATE (§4.3.5): stops the named contexts; false when one of them is not live. */
export function cancelUpdateContexts(view: SelectedView, tags: readonly string[]): boolean {
  const contexts = byView.get(view);
  if (!contexts || !tags.every((t) => contexts.contexts.has(t))) return false;
  for (const t of tags) contexts.contexts.delete(t);
  if (contexts.contexts.size === 0) {
    contexts.stop();
    byView.delete(view);
  }
  return true;
}
