/**
 * THREAD (RFC 5256 §4): ORDEREDSUBJECT, REFERENCES, and REFS (draft-ietf-morg-inthread, as
 * Dovecot and Cyrus offer it). Protocol-free: messages in, a forest of thread nodes out.
 *
 * Every walk over the trees is iterative: a reply chain 100,000 messages deep, or a References
 * header with 10,000 IDs, must not exhaust the stack. Loops in References are never created (the
 * RFC's rule), so parent chains stay finite; a link is checked for a loop only when the would-be
 * child has children of its own, which keeps long fresh chains linear.
 */
import type { SortableMessage } from '../types.js';
import { sortDate } from './sort.js';

export type ThreadAlgorithm = 'orderedsubject' | 'references' | 'refs';

/** A thread node: a message, or a dummy (uid null) standing for a message that is not there. */
export interface ThreadNode {
  uid: number | null;
  children: ThreadNode[];
}

interface Node {
  msg: SortableMessage | null;
  parent: Node | null;
  /** Insertion order does not matter: siblings are sorted with full tie-breaks at the end. */
  children: Set<Node>;
}

/** Date and mailbox position: the sort key of a message node (RFC 5256 §2.2, ties by sequence). */
interface SortKeyOf {
  date: number;
  uid: number;
}

function byKey(a: SortKeyOf, b: SortKeyOf): number {
  return a.date !== b.date ? a.date - b.date : a.uid - b.uid;
}

// --- ORDEREDSUBJECT ------------------------------------------------------------------------------

function orderedSubject(messages: readonly SortableMessage[]): ThreadNode[] {
  const groups = new Map<string, SortableMessage[]>();
  for (const m of messages) {
    const g = groups.get(m.subject);
    if (g) g.push(m);
    else groups.set(m.subject, [m]);
  }
  const key = (m: SortableMessage): SortKeyOf => ({ date: sortDate(m), uid: m.uid });
  const threads: Array<{ first: SortKeyOf; node: ThreadNode }> = [];
  for (const group of groups.values()) {
    group.sort((a, b) => byKey(key(a), key(b)));
    const [first, ...rest] = group;
    // The second and later messages are all children of the first: no grandchildren (§4).
    threads.push({ first: key(first!), node: { uid: first!.uid, children: rest.map((m) => ({ uid: m.uid, children: [] })) } });
  }
  threads.sort((a, b) => byKey(a.first, b.first));
  return threads.map((t) => t.node);
}

// --- REFERENCES step 1: the links ------------------------------------------------------------------

function isDescendant(candidate: Node, of: Node): boolean {
  if (of.children.size === 0) return false;
  for (let n: Node | null = candidate; n; n = n.parent) if (n === of) return true;
  return false;
}

function unlink(child: Node): void {
  child.parent?.children.delete(child);
  child.parent = null;
}

function link(parent: Node, child: Node): void {
  child.parent?.children.delete(child);
  child.parent = parent;
  parent.children.add(child);
}

/** Steps 1 and 2: every message and referenced ID as a node; returns the nodes without a parent. */
function buildLinks(messages: readonly SortableMessage[]): Node[] {
  const byId = new Map<string, Node>();
  const all: Node[] = [];
  const idNode = (id: string): Node => {
    let n = byId.get(id);
    if (!n) {
      n = { msg: null, parent: null, children: new Set() };
      byId.set(id, n);
      all.push(n);
    }
    return n;
  };
  for (const m of messages) {
    // A message with no valid Message-ID, or with one an earlier message took, gets a unique one:
    // a node no reference can reach.
    let own: Node;
    const existing = m.messageId === null ? undefined : byId.get(m.messageId);
    if (m.messageId !== null && (!existing || existing.msg === null)) {
      own = idNode(m.messageId);
      own.msg = m;
    } else {
      own = { msg: m, parent: null, children: new Set() };
      all.push(own);
    }
    // (1)(A) link the references pairwise, never changing an existing parent, never making a loop.
    const refs = m.references;
    let previous: Node | null = null;
    for (const id of refs) {
      const node = idNode(id);
      if (previous && previous !== node && node.parent === null && !isDescendant(previous, node)) link(previous, node);
      previous = node;
    }
    // (1)(B) the last reference is the parent: it replaces a parent an earlier (truncated)
    // References line gave this message, unless that would make a loop.
    if (previous === null) {
      unlink(own);
    } else if (previous !== own && own.parent !== previous && !isDescendant(previous, own)) {
      unlink(own);
      link(previous, own);
    }
  }
  return all.filter((n) => n.parent === null);
}

// --- REFERENCES step 3: prune dummies ------------------------------------------------------------

/** Nodes of the forest in pre-order (parents before children), without recursion. */
function preOrder(roots: Iterable<Node>): Node[] {
  const out: Node[] = [];
  const stack = [...roots];
  while (stack.length > 0) {
    const n = stack.pop()!;
    out.push(n);
    for (const c of n.children) stack.push(c);
  }
  return out;
}

/**
 * Dummies with no children go; a dummy's children take its place — except at the top, where a
 * dummy with several children stays (promoting them would make them separate threads).
 */
function prune(roots: Node[]): Node[] {
  const nodes = preOrder(roots);
  // Children before parents: each node's children are final when it is reached.
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if (n.children.size === 0) continue;
    let promote = false;
    for (const c of n.children) if (c.msg === null) promote = true;
    if (!promote) continue;
    const kept = new Set<Node>();
    for (const c of n.children) {
      if (c.msg !== null) kept.add(c);
      else for (const g of c.children) kept.add(g);
    }
    for (const c of kept) c.parent = n;
    n.children = kept;
  }
  const top: Node[] = [];
  for (const r of roots) {
    if (r.msg !== null || r.children.size > 1) top.push(r);
    else if (r.children.size === 1) {
      const only = r.children.values().next().value as Node;
      only.parent = null;
      top.push(only);
    }
  }
  return top;
}

// --- sorting and output ----------------------------------------------------------------------------

interface Sorted {
  node: Node;
  key: SortKeyOf;
  children: Sorted[];
}

/**
 * Step 6 (and 4): every set of siblings by sent date, ties by mailbox order; a dummy sorts as its
 * first child. Bottom-up, iteratively.
 */
function sortForest(roots: Iterable<Node>): Sorted[] {
  const nodes = preOrder(roots);
  const sorted = new Map<Node, Sorted>();
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    const children = [...n.children].map((c) => sorted.get(c)!).sort((a, b) => byKey(a.key, b.key));
    const key = n.msg ? { date: sortDate(n.msg), uid: n.msg.uid } : (children[0]?.key ?? { date: 0, uid: 0 });
    sorted.set(n, { node: n, key, children });
  }
  return [...roots].map((r) => sorted.get(r)!).sort((a, b) => byKey(a.key, b.key));
}

function toThreadNodes(roots: Sorted[]): ThreadNode[] {
  const out = roots.map((r) => ({ uid: r.node.msg?.uid ?? null, children: [] as ThreadNode[] }));
  const stack: Array<[Sorted, ThreadNode]> = roots.map((r, i) => [r, out[i]!]);
  while (stack.length > 0) {
    const [s, t] = stack.pop()!;
    for (const c of s.children) {
      const child: ThreadNode = { uid: c.node.msg?.uid ?? null, children: [] };
      t.children.push(child);
      stack.push([c, child]);
    }
  }
  return out;
}

// --- REFERENCES step 5: merge threads by subject ---------------------------------------------------

/** The thread subject of a top-level node: its own, or its first child's for a dummy (5.B.i). */
function threadMessage(s: Sorted): SortableMessage | null {
  return s.node.msg ?? s.children[0]?.node.msg ?? null;
}

function mergeBySubject(roots: Sorted[]): Node[] {
  const table = new Map<string, Sorted>();
  // (5)(B)
  for (const r of roots) {
    const m = threadMessage(r);
    if (!m || m.subject === '') continue;
    const there = table.get(m.subject);
    if (!there) table.set(m.subject, r);
    else if (there.node.msg !== null && (r.node.msg === null || (there.node.msg.replyOrForward && !m.replyOrForward))) table.set(m.subject, r);
  }
  // (5)(C)
  const removed = new Set<Node>();
  const added: Node[] = [];
  for (const r of roots) {
    const m = threadMessage(r);
    if (!m || m.subject === '') continue;
    const there = table.get(m.subject)!;
    if (there === r) continue;
    const cur = r.node;
    const target = there.node;
    if (cur.msg === null && target.msg === null) {
      for (const c of cur.children) link(target, c);
      cur.children.clear();
      removed.add(cur);
    } else if (target.msg === null || (cur.msg!.replyOrForward && !target.msg.replyOrForward)) {
      link(target, cur);
      removed.add(cur);
    } else {
      const dummy: Node = { msg: null, parent: null, children: new Set() };
      link(dummy, target);
      link(dummy, cur);
      removed.add(target).add(cur);
      added.push(dummy);
      table.set(m.subject, { node: dummy, key: there.key, children: [] });
    }
  }
  return [...roots.map((r) => r.node).filter((n) => !removed.has(n)), ...added];
}

// --- the algorithms ------------------------------------------------------------------------------------

/** REFS sorts threads by their most recent message (Dovecot's reading of the draft), ties by mailbox order. */
function byLatest(roots: Sorted[]): Sorted[] {
  const latest = new Map<Sorted, SortKeyOf>();
  for (const r of roots) {
    let best = r.key;
    const stack = [...r.children];
    while (stack.length > 0) {
      const s = stack.pop()!;
      if (s.key.date > best.date) best = { date: s.key.date, uid: r.key.uid };
      stack.push(...s.children);
    }
    latest.set(r, best);
  }
  return roots.sort((a, b) => byKey(latest.get(a)!, latest.get(b)!));
}

/** Threads `messages` (those the search matched, in mailbox order). */
export function threadMessages(messages: readonly SortableMessage[], algorithm: ThreadAlgorithm): ThreadNode[] {
  if (algorithm === 'orderedsubject') return orderedSubject(messages);
  const roots = prune(buildLinks(messages));
  if (algorithm === 'refs') return toThreadNodes(byLatest(sortForest(roots)));
  // (4) then (5): sorting the top level first decides which message of a subject leads.
  return toThreadNodes(sortForest(mergeBySubject(sortForest(roots))));
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
