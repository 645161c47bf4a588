/**
 * A reference for the THREAD algorithms: src/store/sort/thread.ts as it was at commit d0b8d2f, before
 * the integer keys, the typed-array numbering and the flat answer (sixth session's code, itself
 * checked against hand-built trees). Kept only so test/unit/thread-keys.test.ts can show that the
 * faster code answers exactly as it did, over generated mailboxes. Not used by the server.
 */
import type { SortableMessage } from '../../src/store/types.js';
import { sortDate } from '../../src/store/sort/sort.js';

export type ThreadAlgorithm = 'orderedsubject' | 'references' | 'refs';

/** A thread node: a message, or a dummy (uid null) standing for a message that is not there. */
export interface ThreadNode {
  uid: number | null;
  children: ThreadNode[];
}

/** Date and mailbox position: the sort key of a message (RFC 5256 §2.2, ties by sequence). */
function compareMessages(a: SortableMessage, b: SortableMessage): number {
  const x = sortDate(a);
  const y = sortDate(b);
  return x !== y ? x - y : a.uid - b.uid;
}

// --- ORDEREDSUBJECT ------------------------------------------------------------------------------

function orderedSubject(messages: readonly SortableMessage[]): ThreadNode[] {
  const groups = new Map<string, SortableMessage[]>();
  for (const m of messages) {
    const g = groups.get(m.subject);
    if (g) g.push(m);
    else groups.set(m.subject, [m]);
  }
  const threads: SortableMessage[][] = [];
  for (const group of groups.values()) {
    if (group.length > 1) group.sort(compareMessages);
    threads.push(group);
  }
  threads.sort((a, b) => compareMessages(a[0]!, b[0]!));
  // The second and later messages are all children of the first: no grandchildren (§4).
  return threads.map(([first, ...rest]) => ({ uid: first!.uid, children: rest.map((m) => ({ uid: m.uid, children: [] })) }));
}

// --- the REFERENCES forest ---------------------------------------------------------------------------

/**
 * The thread forest as parallel arrays indexed by node: messages and dummies alike, children as
 * doubly linked sibling lists so a node moves between parents in constant time. (An object and a
 * Set per node made threading 100,000 messages spend a quarter of its time collecting garbage.)
 */
class Forest {
  /** Nodes in use; the arrays are sized once for the most a threading can need (no regrowth). */
  size = 0;
  readonly msg: Array<SortableMessage | null>;
  readonly parent: Int32Array;
  readonly first: Int32Array;
  readonly next: Int32Array;
  readonly prev: Int32Array;
  readonly count: Int32Array;
  /** Sort key of the node: its message's, or a dummy's first child's once sorted. */
  readonly date: Float64Array;
  readonly uid: Float64Array;

  constructor(capacity: number) {
    this.msg = new Array<SortableMessage | null>(capacity).fill(null);
    this.parent = new Int32Array(capacity).fill(-1);
    this.first = new Int32Array(capacity).fill(-1);
    this.next = new Int32Array(capacity).fill(-1);
    this.prev = new Int32Array(capacity).fill(-1);
    this.count = new Int32Array(capacity);
    this.date = new Float64Array(capacity);
    this.uid = new Float64Array(capacity);
  }

  add(m: SortableMessage | null): number {
    const n = this.size++;
    if (m) this.setMessage(n, m);
    return n;
  }

  setMessage(n: number, m: SortableMessage): void {
    this.msg[n] = m;
    this.date[n] = sortDate(m);
    this.uid[n] = m.uid;
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

  children(p: number): number[] {
    const out: number[] = [];
    for (let c = this.first[p]!; c !== -1; c = this.next[c]!) out.push(c);
    return out;
  }

  /** Nodes under `roots` in pre-order (parents before children), without recursion. */
  preOrder(roots: readonly number[]): Int32Array {
    const out = new Int32Array(this.size);
    const stack = new Int32Array(this.size);
    let n = 0;
    let top = 0;
    for (let i = roots.length - 1; i >= 0; i--) stack[top++] = roots[i]!;
    while (top > 0) {
      const x = stack[--top]!;
      out[n++] = x;
      for (let c = this.first[x]!; c !== -1; c = this.next[c]!) stack[top++] = c;
    }
    return out.subarray(0, n);
  }

  private compare = (a: number, b: number): number => {
    const x = this.date[a]!;
    const y = this.date[b]!;
    return x !== y ? x - y : this.uid[a]! - this.uid[b]!;
  };

  /** Sorts one node's children by sent date (ties by mailbox order) and takes a dummy's key from the first. */
  sortChildren(p: number): void {
    if (this.count[p]! > 1) {
      const kids = this.children(p).sort(this.compare);
      this.first[p] = kids[0]!;
      for (let i = 0; i < kids.length; i++) {
        this.prev[kids[i]!] = i === 0 ? -1 : kids[i - 1]!;
        this.next[kids[i]!] = i === kids.length - 1 ? -1 : kids[i + 1]!;
      }
    }
    if (this.msg[p] === null && this.first[p] !== -1) {
      this.date[p] = this.date[this.first[p]!]!;
      this.uid[p] = this.uid[this.first[p]!]!;
    }
  }

  sortRoots(roots: number[]): number[] {
    return roots.sort(this.compare);
  }

  toThreadNodes(roots: readonly number[]): ThreadNode[] {
    const make = (n: number): ThreadNode => ({ uid: this.msg[n]?.uid ?? null, children: [] });
    const out = roots.map(make);
    const stack: Array<[number, ThreadNode]> = roots.map((r, i) => [r, out[i]!]);
    while (stack.length > 0) {
      const [n, t] = stack.pop()!;
      for (let c = this.first[n]!; c !== -1; c = this.next[c]!) {
        const child = make(c);
        t.children.push(child);
        stack.push([c, child]);
      }
    }
    return out;
  }
}

/** Steps 1 and 2: every message and referenced ID as a node; returns the forest and its roots. */
function buildLinks(messages: readonly SortableMessage[]): { f: Forest; roots: number[] } {
  // Every message, every referenced ID, and a dummy per merged pair at most (step 5).
  let capacity = 2 * messages.length + 1;
  for (const m of messages) capacity += m.references.length;
  const f = new Forest(capacity);
  // Only an ID some message references can link anything: most messages (those nobody answered)
  // need no entry in the ID table at all, which is the costly part of threading a large mailbox.
  const referenced = new Set<string>();
  for (const m of messages) for (const id of m.references) referenced.add(id);
  const byId = new Map<string, number>();
  const idNode = (id: string): number => {
    let n = byId.get(id);
    if (n === undefined) {
      n = f.add(null);
      byId.set(id, n);
    }
    return n;
  };
  for (const m of messages) {
    // A message with no valid Message-ID, or with one an earlier message took, gets a unique one:
    // a node no reference can reach. A dummy a reference created for its ID becomes the message.
    let own: number;
    const id = m.messageId !== null && referenced.has(m.messageId) ? m.messageId : null;
    const existing = id === null ? undefined : byId.get(id);
    if (existing !== undefined && f.msg[existing] === null) {
      own = existing;
      f.setMessage(own, m);
    } else {
      own = f.add(m);
      if (id !== null && existing === undefined) byId.set(id, own);
    }
    // (1)(A) link the references pairwise, never changing an existing parent, never making a loop.
    let previous = -1;
    for (const id of m.references) {
      const node = idNode(id);
      if (previous !== -1 && previous !== node && f.parent[node] === -1 && !f.isDescendant(previous, node)) f.link(previous, node);
      previous = node;
    }
    // (1)(B) the last reference is the parent: it replaces a parent an earlier (truncated)
    // References line gave this message, unless that would make a loop.
    if (previous === -1) f.unlink(own);
    else if (previous !== own && f.parent[own] !== previous && !f.isDescendant(previous, own)) f.link(previous, own);
  }
  const roots: number[] = [];
  for (let n = 0; n < f.size; n++) if (f.parent[n] === -1) roots.push(n);
  return { f, roots };
}

/**
 * Steps 3, 4 and 6 in one bottom-up pass. Dummies with no children go; a dummy's children take its
 * place — except at the top, where a dummy with several children stays (promoting them would make
 * them separate threads). Every set of siblings is sorted by sent date, ties by mailbox order, a
 * dummy sorting as its first child. Returns the top level, sorted.
 */
function pruneAndSort(f: Forest, roots: number[]): number[] {
  const nodes = f.preOrder(roots);
  // Children before parents: a node's children are final (and sorted) when it is reached.
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    const p = f.parent[n]!;
    if (f.msg[n] === null && p !== -1) {
      // Its parent, reached later, sorts the children it receives.
      for (let c = f.first[n]!; c !== -1; c = f.first[n]!) f.link(p, c);
      f.unlink(n);
    } else {
      f.sortChildren(n);
    }
  }
  const top: number[] = [];
  for (const r of roots) {
    if (f.msg[r] !== null || f.count[r]! > 1) top.push(r);
    else if (f.count[r] === 1) {
      const only = f.first[r]!;
      f.unlink(only);
      top.push(only);
    }
  }
  return f.sortRoots(top);
}

/** Step 5: threads whose subjects match merge. `roots` are sorted (step 4). Returns the new top level. */
function mergeBySubject(f: Forest, roots: number[]): number[] {
  // (5)(B)(i) The thread subject: the message's, or its first child's for a dummy; read once per root.
  const subject: string[] = new Array<string>(roots.length);
  const reply = new Uint8Array(roots.length);
  for (let k = 0; k < roots.length; k++) {
    const r = roots[k]!;
    const m = f.msg[r] ?? (f.first[r] === -1 ? null : f.msg[f.first[r]!]);
    subject[k] = m?.subject ?? '';
    reply[k] = m?.replyOrForward ? 1 : 0;
  }
  const replyOf = (n: number, k: number): boolean => (f.msg[n] === null ? false : n === roots[k] ? reply[k] === 1 : f.msg[n]!.replyOrForward);
  // The subject table holds a node and, for a root, its position in `roots`.
  const table = new Map<string, [node: number, k: number]>();
  // (5)(B)
  for (let k = 0; k < roots.length; k++) {
    const s = subject[k]!;
    if (s === '') continue;
    const there = table.get(s);
    if (there === undefined) table.set(s, [roots[k]!, k]);
    else if (f.msg[there[0]] !== null && (f.msg[roots[k]!] === null || (reply[there[1]] === 1 && reply[k] === 0))) table.set(s, [roots[k]!, k]);
  }
  // (5)(C)
  const removed = new Uint8Array(f.size + roots.length);
  const changed = new Set<number>();
  const added: number[] = [];
  for (let k = 0; k < roots.length; k++) {
    const s = subject[k]!;
    if (s === '') continue;
    const r = roots[k]!;
    const [target, tk] = table.get(s)!;
    if (target === r) continue;
    const curDummy = f.msg[r] === null;
    const targetDummy = f.msg[target] === null;
    if (curDummy && targetDummy) {
      for (let c = f.first[r]!; c !== -1; c = f.first[r]!) f.link(target, c);
      removed[r] = 1;
      changed.add(target);
    } else if (targetDummy || (reply[k] === 1 && !replyOf(target, tk))) {
      f.link(target, r);
      removed[r] = 1;
      changed.add(target);
    } else {
      const dummy = f.add(null);
      f.link(dummy, target);
      f.link(dummy, r);
      removed[target] = removed[r] = 1;
      added.push(dummy);
      changed.add(dummy);
      table.set(s, [dummy, -1]);
    }
  }
  // Step 6 for what changed; everything else was sorted already.
  for (const n of changed) f.sortChildren(n);
  return [...roots.filter((r) => removed[r] === 0), ...added];
}

// --- the algorithms ------------------------------------------------------------------------------------

/** REFS orders threads by their most recent message (Dovecot's reading of the draft), ties by mailbox order. */
function byLatest(f: Forest, roots: number[]): number[] {
  // One pass over every thread: parents come before children in pre-order, so each node finds
  // its thread's root through its parent.
  const rootOf = new Int32Array(f.size);
  const latest = new Float64Array(f.size);
  for (const r of roots) {
    rootOf[r] = r;
    latest[r] = f.date[r]!;
  }
  const nodes = f.preOrder(roots);
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!;
    const p = f.parent[n]!;
    if (p === -1) continue;
    const r = (rootOf[n] = rootOf[p]!);
    if (f.date[n]! > latest[r]!) latest[r] = f.date[n]!;
  }
  return roots.sort((a, b) => latest[a]! - latest[b]! || f.uid[a]! - f.uid[b]!);
}

/** Threads `messages` (those the search matched, in mailbox order). */
export function threadMessages(messages: readonly SortableMessage[], algorithm: ThreadAlgorithm): ThreadNode[] {
  if (algorithm === 'orderedsubject') return orderedSubject(messages);
  const { f, roots } = buildLinks(messages);
  const top = pruneAndSort(f, roots);
  if (algorithm === 'refs') return f.toThreadNodes(byLatest(f, top));
  // (4) sorted the top level, so (5) finds which message of a subject leads; then (6) again.
  return f.toThreadNodes(f.sortRoots(mergeBySubject(f, top)));
}

/** Threads cached per key list (sortData's array, by identity), algorithm and selection. */
const cache = new WeakMap<readonly SortableMessage[], Map<ThreadAlgorithm, { uids: readonly number[]; threads: ThreadNode[] }>>();

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
export function threadUids(list: readonly SortableMessage[], uids: readonly number[], algorithm: ThreadAlgorithm): ThreadNode[] {
  let perList = cache.get(list);
  if (!perList) cache.set(list, (perList = new Map()));
  const hit = perList.get(algorithm);
  if (hit && sameUids(hit.uids, uids)) return hit.threads;
  const selected: SortableMessage[] = [];
  let j = 0;
  for (const m of list) {
    while (j < uids.length && uids[j]! < m.uid) j++;
    if (uids[j] === m.uid) selected.push(m);
  }
  const threads = threadMessages(selected, algorithm);
  perList.set(algorithm, { uids: [...uids], threads });
  return threads;
}
