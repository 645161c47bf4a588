/**
 * Which names a LIST or LSUB returns, and with which attributes. Pure: the command reads the
 * mailbox tree and the subscriptions from the store and hands them in; the wire form is written by
 * the command.
 *
 * The model (RFC 5258 §3.3, which also explains the older RFC 3501 rules): every name is either
 * "meeting the selection criteria" (exists; or is subscribed; or has a special use) or not. A name
 * is returned when it matches a pattern and
 *   A. meets the criteria itself, or
 *   B. has a descendant that meets them but does not match the pattern — the "%" parent of RFC 3501
 *      §6.3.8 ("LIST "" %" shows foo as \Noselect when only foo/bar exists) and of LSUB (§6.3.9:
 *      a non-subscribed parent of a subscribed child is returned with \Noselect). With
 *      RECURSIVEMATCH, reason B is reported as CHILDINFO instead.
 */
import type { MailboxInfo } from '../../store/types.js';

export type ListMode =
  /** RFC 3501 LIST (no extended syntax used): missing names are \Noselect. */
  | 'list'
  /** RFC 5258 extended LIST (or IMAP4rev2): missing names are \NonExistent. */
  | 'extended'
  /** RFC 3501 LSUB: the subscription list, \Noselect meaning "not itself subscribed". */
  | 'lsub';

export interface ListSelection {
  mode: ListMode;
  /** RFC 5258 SUBSCRIBED selection option (list subscribed names, existing or not). */
  subscribed?: boolean;
  /** RFC 6154 SPECIAL-USE selection option (only mailboxes with a special use). */
  specialUse?: boolean;
  /** RFC 5258 RECURSIVEMATCH: report parents of matching names with CHILDINFO. */
  recursiveMatch?: boolean;
  /** Report \Subscribed (RFC 5258 SUBSCRIBED return option, implied by the selection option). */
  returnSubscribed?: boolean;
}

export interface ListEntry {
  name: string;
  attributes: string[];
  /** RFC 5258 §3.5 CHILDINFO selection criteria, e.g. ["SUBSCRIBED"]; absent when not reported. */
  childInfo?: string[];
  /** The mailbox, when the name exists and meets the selection criteria (LIST-STATUS looks at it). */
  mailbox?: MailboxInfo;
  /** True when STATUS may be reported for it (RFC 5819: selectable and meeting the criteria). */
  statusable: boolean;
}

export interface ListInput {
  mailboxes: readonly MailboxInfo[];
  subscriptions: readonly string[];
  delimiter: string;
  matches: (name: string) => boolean;
  selection: ListSelection;
}

interface Node {
  name: string;
  mailbox?: MailboxInfo;
  subscribed: boolean;
  /** Some existing mailbox lies below this name (RFC 3348 \HasChildren). */
  hasChildren: boolean;
  /** Some descendant meets the criteria without matching the pattern (reason B above). */
  hiddenMatchBelow: boolean;
  /** The name matches a pattern (computed once; matching is the costly part). */
  matched: boolean;
}

export function selectListEntries(input: ListInput): ListEntry[] {
  const { delimiter, matches, selection } = input;
  const nodes = buildTree(input);

  for (const node of nodes.values()) node.matched = matches(node.name);
  for (const node of nodes.values()) {
    if (node.mailbox) forEachAncestor(nodes, node.name, delimiter, markHasChildren);
    if (meets(node, selection) && !node.matched) forEachAncestor(nodes, node.name, delimiter, markHiddenMatchBelow);
  }

  const entries: ListEntry[] = [];
  for (const node of nodes.values()) {
    if (!node.matched) continue;
    const meetsItself = meets(node, selection);
    const childInfo = selection.recursiveMatch && node.hiddenMatchBelow ? criteriaNames(selection) : undefined;
    // Reason B without RECURSIVEMATCH only applies to plain LIST/LSUB; RFC 5258 §3.3 keeps
    // SUBSCRIBED/SPECIAL-USE selections to names that meet them unless RECURSIVEMATCH is given.
    const plainParent = !selection.recursiveMatch && !selection.subscribed && !selection.specialUse && node.hiddenMatchBelow;
    if (!meetsItself && !childInfo && !plainParent) continue;
    entries.push({
      name: node.name,
      attributes: selection.mode === 'lsub' ? lsubAttributes(node, meetsItself) : listAttributes(node, selection),
      ...(childInfo ? { childInfo } : {}),
      ...(meetsItself && node.mailbox ? { mailbox: node.mailbox } : {}),
      statusable: meetsItself && node.mailbox !== undefined && !node.mailbox.noselect,
    });
  }
  return entries.sort((a, b) => compareNames(a.name, b.name, delimiter));
}

function buildTree(input: ListInput): Map<string, Node> {
  const { delimiter, selection } = input;
  const nodes = new Map<string, Node>();
  for (const mailbox of input.mailboxes) {
    ensure(nodes, mailbox.name).mailbox = mailbox;
  }
  // Missing parents exist as names in the hierarchy even when no mailbox holds them.
  for (const name of [...nodes.keys()]) forEachAncestor(nodes, name, delimiter, ensure);
  // A subscription to a name that is not in the tree only becomes a node when subscriptions are
  // what is being listed; otherwise it would invent names (and parents) for a plain LIST.
  const listsSubscriptions = selection.mode === 'lsub' || selection.subscribed === true;
  for (const name of input.subscriptions) {
    const node = nodes.get(name);
    if (node) node.subscribed = true;
    else if (listsSubscriptions) {
      ensure(nodes, name).subscribed = true;
      forEachAncestor(nodes, name, delimiter, ensure);
    }
  }
  return nodes;
}

/*
 * The helpers below are module functions, not closures made per LIST: V8 keeps a closure's
 * optimized code only while a closure of it lives, so closures made per call were compiled again
 * after every full GC for as long as the server ran (bench/RESULTS.md, bench/jit-compiles.ts).
 */

/** The node for `name`, made (not yet matched, no mailbox) if the tree lacks it. */
function ensure(nodes: Map<string, Node>, name: string): Node {
  let node = nodes.get(name);
  if (!node) {
    node = { name, subscribed: false, hasChildren: false, hiddenMatchBelow: false, matched: false };
    nodes.set(name, node);
  }
  return node;
}

function markHasChildren(nodes: Map<string, Node>, ancestor: string): void {
  (nodes.get(ancestor) as Node).hasChildren = true;
}

function markHiddenMatchBelow(nodes: Map<string, Node>, ancestor: string): void {
  (nodes.get(ancestor) as Node).hiddenMatchBelow = true;
}

/** The node meets the selection criteria (RFC 5258 §3.1), pattern aside. */
function meets(node: Node, selection: ListSelection): boolean {
  if (selection.mode === 'lsub') return node.subscribed;
  if (selection.subscribed && !node.subscribed) return false;
  if (selection.specialUse && !node.mailbox?.specialUse) return false;
  return selection.subscribed ? true : node.mailbox !== undefined;
}

/** RFC 5258 §6: the selection options, quoted, that explain a CHILDINFO item. */
function criteriaNames(selection: ListSelection): string[] {
  const names: string[] = [];
  if (selection.subscribed) names.push('SUBSCRIBED');
  if (selection.specialUse) names.push('SPECIAL-USE');
  return names;
}

function listAttributes(node: Node, selection: ListSelection): string[] {
  const attrs: string[] = [];
  const mailbox = node.mailbox;
  // mbx-list-sflag allows only one of \Noselect / \NonExistent (RFC 3501 §9, RFC 5258 §6); the
  // latter implies the former for extended clients.
  if (!mailbox) attrs.push(selection.mode === 'list' ? '\\Noselect' : '\\NonExistent');
  else if (mailbox.noselect) attrs.push('\\Noselect');
  // \Noinferiors implies \HasNoChildren (RFC 5258 §3.4), so it replaces it.
  if (mailbox?.noinferiors) attrs.push('\\Noinferiors');
  else attrs.push(node.hasChildren ? '\\HasChildren' : '\\HasNoChildren');
  if (mailbox?.specialUse) attrs.push(mailbox.specialUse);
  if (selection.returnSubscribed || selection.subscribed) {
    if (node.subscribed) attrs.push('\\Subscribed');
  }
  return attrs;
}

function lsubAttributes(node: Node, subscribed: boolean): string[] {
  // RFC 3501 §6.3.9: \Noselect in LSUB also marks a returned parent that is not itself subscribed.
  // A subscribed name that cannot be selected (missing, or a \Noselect placeholder) says so too.
  if (!subscribed || !node.mailbox || node.mailbox.noselect) return ['\\Noselect'];
  return node.mailbox.noinferiors ? ['\\Noinferiors'] : [];
}

function forEachAncestor(nodes: Map<string, Node>, name: string, delimiter: string, fn: (nodes: Map<string, Node>, ancestor: string) => void): void {
  if (!delimiter) return;
  let at = name.indexOf(delimiter);
  while (at > 0) {
    fn(nodes, name.slice(0, at));
    at = name.indexOf(delimiter, at + delimiter.length);
  }
}

/** Tree order: INBOX first, then level by level, so a parent always precedes its children. */
export function compareNames(a: string, b: string, delimiter: string): number {
  const inboxA = a === 'INBOX' || a.startsWith(`INBOX${delimiter}`);
  const inboxB = b === 'INBOX' || b.startsWith(`INBOX${delimiter}`);
  if (inboxA !== inboxB) return inboxA ? -1 : 1;
  const la = delimiter ? a.split(delimiter) : [a];
  const lb = delimiter ? b.split(delimiter) : [b];
  for (let i = 0; i < Math.min(la.length, lb.length); i++) {
    const x = la[i] as string;
    const y = lb[i] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return la.length - lb.length;
}
