/**
 * THREAD (RFC 5256 §4): ORDEREDSUBJECT, REFERENCES, and REFS (draft-ietf-morg-inthread, as
 * Dovecot and Cyrus offer it). Protocol-free: messages in, a forest of thread nodes out.
 *
 * Every walk over the trees is iterative: a reply chain 100,000 messages deep, or a References
 * header with 10,000 IDs, must not exhaust the stack. Loops in References are never created (the
 * RFC's rule), so parent chains stay finite; a link is checked for a loop only when the would-be
 * child has children of its own, which keeps long fresh chains linear.
 */
import type { SortableMessage, SortKeyNames } from '../types.js';
import { indexesInSlices, indexesSteps, sortDate } from './sort.js';
import { drain, drainInSlices } from '../../util/time-slice.js';
import { integerNumbering, stringNumbering, type Numbering } from './numbering.js';

export type ThreadAlgorithm = 'orderedsubject' | 'references' | 'refs';

/**
 * The threads as one flat pre-order walk: each thread's root, then each of its children's subtrees
 * in order. A node is its UID (0 for a dummy, standing for a message that is not there) and its
 * number of children. Two typed arrays rather than an object per node: the answer for 100,000
 * messages is built, cached and walked without feeding the garbage collector.
 */
export interface Threads {
  readonly uid: Float64Array;
  readonly children: Uint32Array;
}

/** Date and mailbox position: the sort key of a message (RFC 5256 §2.2, ties by sequence). */
function compareMessages(a: SortableMessage, b: SortableMessage): number {
  const x = sortDate(a);
  const y = sortDate(b);
  return x !== y ? x - y : a.uid - b.uid;
}

// --- ORDEREDSUBJECT ------------------------------------------------------------------------------

function orderedSubject(messages: readonly SortableMessage[]): Threads {
  // By the store's integer subject keys when every message has one, else by the strings.
  const integers = messages.every((m) => m.subjectKey !== undefined && validKey(m.subjectKey));
  const groups = new Map<number | string, SortableMessage[]>();
  for (const m of messages) {
    const key = integers ? m.subjectKey! : m.subject;
    const g = groups.get(key);
    if (g) g.push(m);
    else groups.set(key, [m]);
  }
  const threads: SortableMessage[][] = [];
  for (const group of groups.values()) {
    if (group.length > 1) group.sort(compareMessages);
    threads.push(group);
  }
  threads.sort((a, b) => compareMessages(a[0]!, b[0]!));
  // The second and later messages are all children of the first: no grandchildren (§4).
  const uid = new Float64Array(messages.length);
  const children = new Uint32Array(messages.length);
  let k = 0;
  for (const group of threads) {
    children[k] = group.length - 1;
    for (const m of group) uid[k++] = m.uid;
  }
  return { uid, children };
}

/** Messages whose keys are read between looks at the clock (orderedSubjectInSlices). */
const STEP = 4_096;

/**
 * orderedSubject() with the event loop let go between time slices (`pause`): one pass over
 * 100,000 messages was 40–50 ms of CPU in one stretch (issue 13). Every message is ordered once by
 * (sent date, UID) — a strict total order, sorted in slices — and the threads are formed walking
 * that order: each subject's messages come out in the order orderedSubject() sorts them into, and
 * the threads in the order of their first messages, which is the order it sorts the threads into.
 */
async function orderedSubjectInSlices(messages: readonly SortableMessage[], pause: () => Promise<void>): Promise<Threads> {
  const n = messages.length;
  let integers = true;
  for (let i = 0; i < n && integers; i++) {
    const key = messages[i]!.subjectKey;
    integers = key !== undefined && validKey(key);
    if (i % STEP === STEP - 1) await pause();
  }
  const key = new Array<number | string>(n);
  const date = new Float64Array(n);
  const uids = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const m = messages[i]!;
    key[i] = integers ? m.subjectKey! : m.subject;
    date[i] = sortDate(m);
    uids[i] = m.uid;
    if (i % STEP === STEP - 1) await pause();
  }
  const order = await indexesInSlices(n, (a, b) => (date[a] !== date[b] ? date[a]! - date[b]! : uids[a]! - uids[b]!), pause);
  const groups = new Map<number | string, number[]>();
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    const g = groups.get(key[i]!);
    if (g) g.push(i);
    else groups.set(key[i]!, [i]);
    if (k % STEP === STEP - 1) await pause();
  }
  const uid = new Float64Array(n);
  const children = new Uint32Array(n);
  let k = 0;
  for (const group of groups.values()) {
    children[k] = group.length - 1;
    for (const i of group) uid[k++] = uids[i]!;
  }
  return { uid, children };
}

// --- the REFERENCES forest ---------------------------------------------------------------------------

/**
 * The selection in columns, what linking reads. Every ID some message references gets a dense
 * number 0..ids-1 (interned once: the store's integer keys when it has them, else the strings); a
 * message's own ID only matters when something references it, so most messages (those nobody
 * answered) never enter the ID table — the costly part of threading a large mailbox.
 */
interface LinkInput {
  ids: number;
  /** Per message: the dense number of its own Message-ID, or -1 (none, or nobody references it). */
  own: Int32Array;
  /** The references of message i are refs[refStart[i] .. refStart[i + 1]), oldest first. */
  refStart: Int32Array;
  refs: Int32Array;
}

/** True when every message carries the store's integer THREAD keys (SortableMessage.messageIdKey). */
type KeyMode = 'integers' | 'strings';

/** A store's integer key as THREAD can number it: a whole number in 1..2^32-1 (0 is none). */
const validKey = (key: number): boolean => key >>> 0 === key;

/** Reads the IDs in `mode`; null when a message lacks its integer keys (the list is then read as strings). */
function readLinks(messages: readonly SortableMessage[], mode: KeyMode): LinkInput | null {
  return drain(readLinksSteps(messages, mode));
}

/**
 * readLinks() as steps: it yields every STEP messages of each pass, where the THREAD command lets
 * the event loop run (threadMessagesInSlices). Reading the links of 100,000 messages — a store's
 * keys decoded on first use — was one stretch of ~11 ms of CPU (issue 13). Nothing else touches
 * the arrays meanwhile; the messages' keys are read once each, so the steps are the one pass cut up.
 */
function* readLinksSteps(messages: readonly SortableMessage[], mode: KeyMode): Generator<void, LinkInput | null> {
  const n = messages.length;
  const lists = new Array<readonly (number | string)[]>(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const m = messages[i]!;
    const list = mode === 'integers' ? m.referenceKeys : m.references;
    if (list === undefined) return null;
    lists[i] = list;
    total += list.length;
    if (i % STEP === STEP - 1) yield;
  }
  const numbering = (mode === 'integers' ? integerNumbering(total) : stringNumbering()) as Numbering<number | string>;
  const refStart = new Int32Array(n + 1);
  const refs = new Int32Array(total);
  let at = 0;
  for (let i = 0; i < n; i++) {
    refStart[i] = at;
    const list = lists[i]!;
    for (let j = 0; j < list.length; j++) {
      const key = list[j]!;
      if (mode === 'integers' && (key === 0 || !validKey(key as number))) return null;
      refs[at++] = numbering.number(key);
    }
    if (i % STEP === STEP - 1) yield;
  }
  refStart[n] = at;
  const own = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const m = messages[i]!;
    const key = mode === 'integers' ? m.messageIdKey : m.messageId;
    if (key === undefined || (mode === 'integers' && !validKey(key as number))) return null;
    own[i] = key === null || key === 0 ? -1 : numbering.find(key);
    if (i % STEP === STEP - 1) yield;
  }
  return { ids: numbering.size, own, refStart, refs };
}

/**
 * The thread forest as parallel arrays indexed by node: messages and dummies alike, children as
 * doubly linked sibling lists so a node moves between parents in constant time. (An object and a
 * Set per node made threading 100,000 messages spend a quarter of its time collecting garbage.)
 * Nodes 0..ids-1 are the referenced IDs, dummies until a message with that ID claims one.
 */
class Forest {
  /** Nodes in use; the arrays are sized once for the most a threading can need (no regrowth). */
  size = 0;
  /** The message of the node (index into `messages`), or -1 for a dummy. */
  readonly mi: Int32Array;
  readonly parent: Int32Array;
  readonly first: Int32Array;
  readonly next: Int32Array;
  readonly prev: Int32Array;
  readonly count: Int32Array;
  /** Sort key of the node: its message's, or a dummy's first child's once sorted. */
  readonly date: Float64Array;
  readonly uid: Float64Array;

  constructor(
    readonly messages: readonly SortableMessage[],
    capacity: number,
  ) {
    this.mi = new Int32Array(capacity).fill(-1);
    this.parent = new Int32Array(capacity).fill(-1);
    this.first = new Int32Array(capacity).fill(-1);
    this.next = new Int32Array(capacity).fill(-1);
    this.prev = new Int32Array(capacity).fill(-1);
    this.count = new Int32Array(capacity);
    this.date = new Float64Array(capacity);
    this.uid = new Float64Array(capacity);
  }

  /** A new node: message `i`, or a dummy for -1. */
  add(i: number): number {
    const n = this.size++;
    if (i !== -1) this.setMessage(n, i);
    return n;
  }

  setMessage(n: number, i: number): void {
    const m = this.messages[i]!;
    this.mi[n] = i;
    this.date[n] = sortDate(m);
    this.uid[n] = m.uid;
  }

  isDummy(n: number): boolean {
    return this.mi[n] === -1;
  }

  /** The message of a node (undefined for a dummy). */
  message(n: number): SortableMessage | undefined {
    const i = this.mi[n]!;
    return i === -1 ? undefined : this.messages[i];
  }

  unlink(c: number): void {
    const p = this.parent[c]!;
    if (p === -1) return;
    const before = this.prev[c]!;
    const after = this.next[c]!;
    if (before !== -1) this.next[before] = after;
    else this.first[p] = after;
    if (after !== -1) this.prev[after] = before;
    this.parent[c] = -1;
    this.prev[c] = this.next[c] = -1;
    this.count[p]!--;
  }

  link(p: number, c: number): void {
    this.unlink(c);
    this.parent[c] = p;
    const head = this.first[p]!;
    this.next[c] = head;
    if (head !== -1) this.prev[head] = c;
    this.first[p] = c;
    this.count[p]!++;
  }

  /** True when `a` lies in the subtree of `b` (linking b under a would make a loop). */
  isDescendant(a: number, b: number): boolean {
    if (this.count[b] === 0) return false;
    for (let x = a; x !== -1; x = this.parent[x]!) if (x === b) return true;
    return false;
  }

  /** Nodes under `roots` in pre-order (parents before children), without recursion; yields every STEP nodes. */
  *preOrderSteps(roots: readonly number[]): Generator<void, Int32Array> {
    const out = new Int32Array(this.size);
    const stack = new Int32Array(this.size);
    let n = 0;
    let top = 0;
    for (let i = roots.length - 1; i >= 0; i--) stack[top++] = roots[i]!;
    while (top > 0) {
      const x = stack[--top]!;
      out[n++] = x;
      for (let c = this.first[x]!; c !== -1; c = this.next[c]!) stack[top++] = c;
      if (n % STEP === 0) yield;
    }
    return out.subarray(0, n);
  }

  /** The sibling order: sent date, ties by mailbox order (a dummy as its first child). */
  readonly compare = (a: number, b: number): number => {
    const x = this.date[a]!;
    const y = this.date[b]!;
    return x !== y ? x - y : this.uid[a]! - this.uid[b]!;
  };

  /** Sorts one node's children by sent date (ties by mailbox order) and takes a dummy's key from the first. */
  sortChildren(p: number): void {
    const count = this.count[p]!;
    if (count === 2) {
      // The commonest case (a message and one other answer) without an array and a sort call.
      const a = this.first[p]!;
      const b = this.next[a]!;
      if (this.compare(a, b) > 0) {
        this.first[p] = b;
        this.prev[b] = -1;
        this.next[b] = a;
        this.prev[a] = b;
        this.next[a] = -1;
      }
    } else if (count > 2) {
      const kids: number[] = [];
      for (let c = this.first[p]!; c !== -1; c = this.next[c]!) kids.push(c);
      kids.sort(this.compare);
      this.first[p] = kids[0]!;
      for (let i = 0; i < kids.length; i++) {
        this.prev[kids[i]!] = i === 0 ? -1 : kids[i - 1]!;
        this.next[kids[i]!] = i === kids.length - 1 ? -1 : kids[i + 1]!;
      }
    }
    if (this.mi[p] === -1 && this.first[p] !== -1) {
      this.date[p] = this.date[this.first[p]!]!;
      this.uid[p] = this.uid[this.first[p]!]!;
    }
  }

  /**
   * sortChildren() as steps for a node with very many children (step 5 gives one dummy every
   * message of a subject): their sort in runs and merges (indexesSteps) with yields between.
   */
  *sortChildrenSteps(p: number): Generator<void, void> {
    if (this.count[p]! <= STEP) return this.sortChildren(p);
    const kids: number[] = [];
    for (let c = this.first[p]!; c !== -1; c = this.next[c]!) kids.push(c);
    // Ties by position: the order Array.prototype.sort (stable) gives, as sortChildren() sorts.
    const order = yield* indexesSteps(kids.length, (a, b) => this.compare(kids[a]!, kids[b]!) || a - b);
    this.first[p] = kids[order[0]!]!;
    for (let i = 0; i < order.length; i++) {
      const k = kids[order[i]!]!;
      this.prev[k] = i === 0 ? -1 : kids[order[i - 1]!]!;
      this.next[k] = i === order.length - 1 ? -1 : kids[order[i + 1]!]!;
    }
    yield;
    if (this.mi[p] === -1) {
      this.date[p] = this.date[this.first[p]!]!;
      this.uid[p] = this.uid[this.first[p]!]!;
    }
  }

  sortRoots(roots: number[]): number[] {
    return roots.sort(this.compare);
  }

  /** The trees under `roots` (in this order) as Threads; yields every STEP nodes. */
  *flattenSteps(roots: readonly number[]): Generator<void, Threads> {
    const uid = new Float64Array(this.size);
    const children = new Uint32Array(this.size);
    const stack = new Int32Array(this.size);
    let top = 0;
    let k = 0;
    for (let i = roots.length - 1; i >= 0; i--) stack[top++] = roots[i]!;
    while (top > 0) {
      const x = stack[--top]!;
      uid[k] = this.mi[x] === -1 ? 0 : this.uid[x]!;
      children[k++] = this.count[x]!;
      if (k % STEP === 0) yield;
      // Children pushed last first, so they come off the stack in sibling order.
      let last = this.first[x]!;
      if (last === -1) continue;
      while (this.next[last] !== -1) last = this.next[last]!;
      for (let c = last; c !== -1; c = this.prev[c]!) stack[top++] = c;
    }
    return { uid: uid.subarray(0, k), children: children.subarray(0, k) };
  }
}

/** The selection's links, by the integer keys when every message has them, else by the strings. */
function linkInput(messages: readonly SortableMessage[]): LinkInput {
  return readLinks(messages, 'integers') ?? readLinks(messages, 'strings')!;
}

/** linkInput() letting the event loop run between steps (`pause`). */
async function linkInputInSlices(messages: readonly SortableMessage[], pause: () => Promise<void>): Promise<LinkInput> {
  return (await drainInSlices(readLinksSteps(messages, 'integers'), pause)) ?? (await drainInSlices(readLinksSteps(messages, 'strings'), pause))!;
}

/** Steps 1 and 2: every message and referenced ID as a node; returns the forest and its roots. */
function buildLinks(messages: readonly SortableMessage[], input = linkInput(messages)): { f: Forest; roots: number[] } {
  return drain(buildLinksSteps(messages, input));
}

/** buildLinks() as steps: it yields every STEP messages and every STEP nodes of the roots' pass. */
function* buildLinksSteps(messages: readonly SortableMessage[], input: LinkInput): Generator<void, { f: Forest; roots: number[] }> {
  const { own, refStart, refs } = input;
  // Every referenced ID, every message, and a dummy per merged pair at most (step 5).
  const f = new Forest(messages, input.ids + 2 * messages.length + 1);
  f.size = input.ids;
  for (let i = 0; i < messages.length; i++) {
    // A message with no valid Message-ID, or with one an earlier message took, gets a node no
    // reference can reach. A dummy references created for its ID becomes the message.
    const id = own[i]!;
    let node: number;
    if (id !== -1 && f.mi[id] === -1) {
      node = id;
      f.setMessage(node, i);
    } else {
      node = f.add(i);
    }
    // (1)(A) link the references pairwise, never changing an existing parent, never making a loop.
    let previous = -1;
    for (let j = refStart[i]!, end = refStart[i + 1]!; j < end; j++) {
      const ref = refs[j]!;
      if (previous !== -1 && previous !== ref && f.parent[ref] === -1 && !f.isDescendant(previous, ref)) f.link(previous, ref);
      previous = ref;
    }
    // (1)(B) the last reference is the parent: it replaces a parent an earlier (truncated)
    // References line gave this message, unless that would make a loop.
    if (previous === -1) f.unlink(node);
    else if (previous !== node && f.parent[node] !== previous && !f.isDescendant(previous, node)) f.link(previous, node);
    if (i % STEP === STEP - 1) yield;
  }
  const roots: number[] = [];
  for (let n = 0; n < f.size; n++) {
    if (f.parent[n] === -1) roots.push(n);
    if (n % STEP === STEP - 1) yield;
  }
  return { f, roots };
}

/**
 * Steps 3, 4 and 6 in one bottom-up pass. Dummies with no children go; a dummy's children take its
 * place — except at the top, where a dummy with several children stays (promoting them would make
 * them separate threads). Every set of siblings is sorted by sent date, ties by mailbox order, a
 * dummy sorting as its first child. Returns the top level, sorted.
 */
function pruneAndSort(f: Forest, roots: number[]): number[] {
  return f.sortRoots(drain(pruneSteps(f, roots)));
}

/** pruneAndSort() but for the last sort of the top level, as steps: it yields every STEP nodes. */
function* pruneSteps(f: Forest, roots: number[]): Generator<void, number[]> {
  const nodes = yield* f.preOrderSteps(roots);
  // Children before parents: a node's children are final (and sorted) when it is reached.
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    const p = f.parent[n]!;
    if (f.mi[n] === -1 && p !== -1) {
      // Its parent, reached later, sorts the children it receives.
      for (let c = f.first[n]!; c !== -1; c = f.first[n]!) f.link(p, c);
      f.unlink(n);
    } else if (f.count[n]! > 1 || f.mi[n] === -1) {
      yield* f.sortChildrenSteps(n);
    }
    if (i % STEP === 0) yield;
  }
  const top: number[] = [];
  for (let k = 0; k < roots.length; k++) {
    const r = roots[k]!;
    if (f.mi[r] !== -1 || f.count[r]! > 1) top.push(r);
    else if (f.count[r] === 1) {
      const only = f.first[r]!;
      f.unlink(only);
      top.push(only);
    }
    if (k % STEP === STEP - 1) yield;
  }
  return top;
}

/**
 * `nodes` sorted by `compare` as Array.prototype.sort (stable) sorts them, with the event loop let
 * go between time slices (`pause`): the top level of a large mailbox is a sort of 100,000 nodes.
 * Ties are broken by position, which makes the order strict and the result the stable sort's.
 */
async function sortNodesInSlices(nodes: readonly number[], compare: (a: number, b: number) => number, pause: () => Promise<void>): Promise<number[]> {
  const order = await indexesInSlices(nodes.length, (a, b) => compare(nodes[a]!, nodes[b]!) || a - b, pause);
  const out = new Array<number>(nodes.length);
  for (let k = 0; k < order.length; k++) {
    out[k] = nodes[order[k]!]!;
    if (k % STEP === STEP - 1) await pause();
  }
  return out;
}

/**
 * The dense subject number of each root's thread subject (5)(B)(i) — the message's, or its first
 * child's for a dummy — or -1 for an empty one, and how many distinct subjects there are.
 */
function* rootSubjects(f: Forest, roots: readonly number[]): Generator<void, { subject: Int32Array; subjects: number }> {
  const of = (k: number): SortableMessage | undefined => {
    const r = roots[k]!;
    return f.message(r) ?? (f.first[r] === -1 ? undefined : f.message(f.first[r]!));
  };
  // The store's integer subject keys when every root's message has a valid one, else the strings.
  return (yield* numberSubjects(roots.length, of, true)) ?? (yield* numberSubjects(roots.length, of, false))!;
}

/**
 * One pass over the roots' subjects, yielding every STEP roots; null when, numbering integers, a
 * message lacks a valid key.
 */
function* numberSubjects(
  count: number,
  of: (k: number) => SortableMessage | undefined,
  integers: boolean,
): Generator<void, { subject: Int32Array; subjects: number } | null> {
  const numbering = (integers ? integerNumbering(count) : stringNumbering()) as Numbering<number | string>;
  const subject = new Int32Array(count);
  for (let k = 0; k < count; k++) {
    const m = of(k);
    let key: number | string;
    if (m === undefined) key = '';
    else if (!integers) key = m.subject;
    else {
      const n = m.subjectKey;
      if (n === undefined || !validKey(n)) return null;
      key = n;
    }
    subject[k] = key === '' || key === 0 ? -1 : numbering.number(key);
    if (k % STEP === STEP - 1) yield;
  }
  return { subject, subjects: numbering.size };
}

/** Step 5: threads whose subjects match merge. `roots` are sorted (step 4). Returns the new top level. */
function mergeBySubject(f: Forest, roots: number[]): number[] {
  return drain(mergeBySubjectSteps(f, roots));
}

/**
 * mergeBySubject() as steps: it yields every STEP roots of each loop and after each thread it
 * re-sorts, so the THREAD command can let the event loop run there (threadMessagesInSlices).
 * Nothing else touches the forest meanwhile, so the steps are the one pass cut up.
 */
function* mergeBySubjectSteps(f: Forest, roots: number[]): Generator<void, number[]> {
  const { subject, subjects } = yield* rootSubjects(f, roots);
  const reply = new Uint8Array(roots.length);
  for (let k = 0; k < roots.length; k++) {
    if (k % STEP === STEP - 1) yield;
    const r = roots[k]!;
    if (subject[k] === -1) continue;
    const m = f.message(r) ?? f.message(f.first[r]!);
    reply[k] = m?.replyOrForward ? 1 : 0;
  }
  const replyOf = (n: number, k: number): boolean => (f.isDummy(n) ? false : k !== -1 && n === roots[k] ? reply[k] === 1 : f.message(n)!.replyOrForward);
  // The subject table: per subject, a node and, for a root, its position in `roots` (else -1).
  const tableNode = new Int32Array(subjects).fill(-1);
  const tableK = new Int32Array(subjects).fill(-1);
  // (5)(B)
  for (let k = 0; k < roots.length; k++) {
    if (k % STEP === STEP - 1) yield;
    const s = subject[k]!;
    if (s === -1) continue;
    const there = tableNode[s]!;
    if (there === -1 || (!f.isDummy(there) && (f.isDummy(roots[k]!) || (reply[tableK[s]!] === 1 && reply[k] === 0)))) {
      tableNode[s] = roots[k]!;
      tableK[s] = k;
    }
  }
  // (5)(C)
  const removed = new Uint8Array(f.size + roots.length);
  const changed = new Set<number>();
  const added: number[] = [];
  for (let k = 0; k < roots.length; k++) {
    if (k % STEP === STEP - 1) yield;
    const s = subject[k]!;
    if (s === -1) continue;
    const r = roots[k]!;
    const target = tableNode[s]!;
    const tk = tableK[s]!;
    if (target === r) continue;
    const curDummy = f.isDummy(r);
    const targetDummy = f.isDummy(target);
    if (curDummy && targetDummy) {
      for (let c = f.first[r]!; c !== -1; c = f.first[r]!) f.link(target, c);
      removed[r] = 1;
      changed.add(target);
    } else if (targetDummy || (reply[k] === 1 && !replyOf(target, tk))) {
      f.link(target, r);
      removed[r] = 1;
      changed.add(target);
    } else {
      const dummy = f.add(-1);
      f.link(dummy, target);
      f.link(dummy, r);
      removed[target] = removed[r] = 1;
      added.push(dummy);
      changed.add(dummy);
      tableNode[s] = dummy;
      tableK[s] = -1;
    }
  }
  // Step 6 for what changed; everything else was sorted already.
  for (const n of changed) {
    yield* f.sortChildrenSteps(n);
    yield;
  }
  return [...roots.filter((r) => removed[r] === 0), ...added];
}

// --- the algorithms ------------------------------------------------------------------------------------

/** REFS orders threads by their most recent message (Dovecot's reading of the draft), ties by mailbox order. */
function byLatest(f: Forest, roots: number[]): number[] {
  const latest = drain(latestSteps(f, roots));
  return roots.sort(byLatestOf(f, latest));
}

/** The order of threads by their latest message's date, ties by mailbox order. */
const byLatestOf =
  (f: Forest, latest: Float64Array) =>
  (a: number, b: number): number =>
    latest[a]! - latest[b]! || f.uid[a]! - f.uid[b]!;

/** Per root, the date of the latest message of its thread, as steps (every STEP nodes). */
function* latestSteps(f: Forest, roots: readonly number[]): Generator<void, Float64Array> {
  // One pass over every thread: parents come before children in pre-order, so each node finds
  // its thread's root through its parent.
  const rootOf = new Int32Array(f.size);
  const latest = new Float64Array(f.size);
  for (const r of roots) {
    rootOf[r] = r;
    latest[r] = f.date[r]!;
  }
  const nodes = yield* f.preOrderSteps(roots);
  for (let i = 0; i < nodes.length; i++) {
    if (i % STEP === STEP - 1) yield;
    const n = nodes[i]!;
    const p = f.parent[n]!;
    if (p === -1) continue;
    const r = (rootOf[n] = rootOf[p]!);
    if (f.date[n]! > latest[r]!) latest[r] = f.date[n]!;
  }
  return latest;
}

/** Threads `messages` (those the search matched, in mailbox order). */
/**
 * The message keys threading by `algorithm` reads (sortData's hint to the store): the integer keys,
 * which a store that has them gives for every message; the strings are read only when it does not.
 */
export function keysReadBy(algorithm: ThreadAlgorithm): SortKeyNames {
  return algorithm === 'orderedsubject'
    ? ['subjectKey', 'sentDate', 'internalDate']
    : ['messageIdKey', 'referenceKeys', 'subjectKey', 'replyOrForward', 'sentDate', 'internalDate'];
}

export function threadMessages(messages: readonly SortableMessage[], algorithm: ThreadAlgorithm): Threads {
  if (algorithm === 'orderedsubject') return orderedSubject(messages);
  const { f, roots } = buildLinks(messages);
  const top = pruneAndSort(f, roots);
  if (algorithm === 'refs') return drain(f.flattenSteps(byLatest(f, top)));
  // (4) sorted the top level, so (5) finds which message of a subject leads; then (6) again.
  return drain(f.flattenSteps(f.sortRoots(mergeBySubject(f, top))));
}

/**
 * threadMessages() letting the event loop run between time slices (`pause`): threading 100,000
 * messages by REFERENCES was one stretch of 60–130 ms of CPU (issue 13: no command may hold the
 * loop for more than a few milliseconds). The passes are those of threadMessages(), in the same
 * order on the same data, each cut into steps (generators that yield every STEP items), and the
 * sorts of the top level are stable sorts in slices (sortNodesInSlices), so the threads are the
 * same. ORDEREDSUBJECT is threaded by orderedSubjectInSlices().
 */
export async function threadMessagesInSlices(messages: readonly SortableMessage[], algorithm: ThreadAlgorithm, pause: () => Promise<void>): Promise<Threads> {
  if (algorithm === 'orderedsubject') return orderedSubjectInSlices(messages, pause);
  const input = await linkInputInSlices(messages, pause);
  const { f, roots } = await drainInSlices(buildLinksSteps(messages, input), pause);
  const top = await sortNodesInSlices(await drainInSlices(pruneSteps(f, roots), pause), f.compare, pause);
  if (algorithm === 'refs') {
    const latest = await drainInSlices(latestSteps(f, top), pause);
    return drainInSlices(f.flattenSteps(await sortNodesInSlices(top, byLatestOf(f, latest), pause)), pause);
  }
  const merged = await drainInSlices(mergeBySubjectSteps(f, top), pause);
  return drainInSlices(f.flattenSteps(await sortNodesInSlices(merged, f.compare, pause)), pause);
}

/** Threads cached per key list (sortData's array, by identity), algorithm and selection. */
const cache = new WeakMap<readonly SortableMessage[], Map<ThreadAlgorithm, { uids: readonly number[]; threads: Threads }>>();

function sameUids(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The threads of the messages of `list` whose UIDs are in `uids` (ascending): computed once, then
 * answered from the cache while the list and the selection are the same. The result is shared:
 * callers must not modify it.
 */
export function threadUids(list: readonly SortableMessage[], uids: readonly number[], algorithm: ThreadAlgorithm): Threads {
  return cachedThreads(list, uids, algorithm) ?? keepThreads(list, uids, algorithm, threadMessages(selectedMessages(list, uids), algorithm));
}

/** As threadUids(), letting the event loop run between the passes (threadMessagesInSlices) when not cached. */
export async function threadUidsInSlices(
  list: readonly SortableMessage[],
  uids: readonly number[],
  algorithm: ThreadAlgorithm,
  pause: () => Promise<void>,
): Promise<Threads> {
  const hit = cachedThreads(list, uids, algorithm);
  if (hit) return hit;
  const selected = await drainInSlices(selectedSteps(list, uids), pause);
  return keepThreads(list, uids, algorithm, await threadMessagesInSlices(selected, algorithm, pause));
}

function cachedThreads(list: readonly SortableMessage[], uids: readonly number[], algorithm: ThreadAlgorithm): Threads | undefined {
  const hit = cache.get(list)?.get(algorithm);
  return hit && sameUids(hit.uids, uids) ? hit.threads : undefined;
}

function keepThreads(list: readonly SortableMessage[], uids: readonly number[], algorithm: ThreadAlgorithm, threads: Threads): Threads {
  let perList = cache.get(list);
  if (!perList) cache.set(list, (perList = new Map()));
  perList.set(algorithm, { uids: [...uids], threads });
  return threads;
}

/** The messages of `list` whose UIDs are in `uids` (both ascending). */
function selectedMessages(list: readonly SortableMessage[], uids: readonly number[]): SortableMessage[] {
  return drain(selectedSteps(list, uids));
}

/** selectedMessages() as steps: it yields every STEP messages. */
function* selectedSteps(list: readonly SortableMessage[], uids: readonly number[]): Generator<void, SortableMessage[]> {
  const selected: SortableMessage[] = [];
  let j = 0;
  for (let i = 0; i < list.length; i++) {
    const m = list[i]!;
    const uid = m.uid;
    while (j < uids.length && uids[j]! < uid) j++;
    if (uids[j] === uid) selected.push(m);
    if (i % STEP === STEP - 1) yield;
  }
  return selected;
}
