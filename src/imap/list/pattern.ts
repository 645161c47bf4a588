/**
 * LIST/LSUB mailbox patterns (RFC 3501 §6.3.8): "*" matches any run of characters, "%" any run
 * that does not contain the hierarchy delimiter.
 *
 * Patterns are matched by simulating them as a small NFA — one pass over the name, carrying the set
 * of pattern positions still alive — instead of a regular expression or backtracking, so a hostile
 * pattern such as "*a*a*a*a*b" costs O(name × pattern) and never explodes.
 */

type Piece = { kind: 'literal'; char: string } | { kind: 'star' } | { kind: 'percent' };

export interface MailboxPattern {
  /** The canonical pattern text (reference + pattern), for logs and tests. */
  readonly source: string;
  matches(name: string): boolean;
}

/**
 * Builds the canonical pattern of RFC 3501 §6.3.8: this server has no "break out" characters, so
 * the interpreted form is simply the reference followed by the pattern. Wildcard characters in the
 * reference are taken literally: the reference names a mailbox or a level of hierarchy, never a set.
 */
export function compilePattern(reference: string, pattern: string, delimiter: string): MailboxPattern {
  const pieces: Piece[] = [];
  // Code units, not code points: names are walked one code unit at a time, and a surrogate pair
  // simply becomes two literal pieces.
  for (const char of reference.split('')) pieces.push({ kind: 'literal', char });
  for (const char of pattern.split('')) {
    if (char === '*' || char === '%') {
      const prev = pieces[pieces.length - 1];
      // Adjacent wildcards collapse: "**" = "*", "%%" = "%", and "*%" = "%*" = "*". Fewer states,
      // same language.
      if (prev && prev.kind !== 'literal') {
        if (char === '*') pieces[pieces.length - 1] = { kind: 'star' };
        continue;
      }
      pieces.push({ kind: char === '*' ? 'star' : 'percent' });
    } else {
      pieces.push({ kind: 'literal', char });
    }
  }
  const source = reference + pattern;
  // "*" alone (the `LIST "" "*"` every client sends at each sync) matches every name: no automaton,
  // and none of its two arrays per name.
  if (pieces.length === 1 && pieces[0]!.kind === 'star') return { source, matches: matchesAll };
  return { source, matches: (name) => matchPieces(pieces, name, delimiter) };
}

/** One module function, not a closure per LIST (see select.ts on closures made per call). */
function matchesAll(): boolean {
  return true;
}

/** True when any of the patterns matches (RFC 5258 §3: a list of patterns is a union). */
export function anyPattern(patterns: readonly MailboxPattern[]): (name: string) => boolean {
  return (name) => patterns.some((p) => p.matches(name));
}

/**
 * Length of the leading "INBOX" of `name` when the first level is INBOX, else 0. Those characters
 * are compared case-insensitively (RFC 3501 §5.1: INBOX is case-insensitive), so "inbox/%" lists
 * INBOX's children and "inbox" lists INBOX.
 */
function inboxPrefixLength(name: string, delimiter: string): number {
  if (!name.startsWith('INBOX')) return 0;
  return name.length === 5 || name.startsWith(delimiter, 5) ? 5 : 0;
}

function matchPieces(pieces: readonly Piece[], name: string, delimiter: string): boolean {
  const n = pieces.length;
  const inboxLen = inboxPrefixLength(name, delimiter);
  // A multi-character delimiter cannot be tested one character at a time; the built-in stores use
  // "/", and a store with a longer one only loses the "%" refinement for the characters it spans.
  const delimChar = delimiter.length === 1 ? delimiter : undefined;
  let current = new Uint8Array(n + 1);
  let next = new Uint8Array(n + 1);
  addWithClosure(pieces, current, 0);
  for (let i = 0; i < name.length; i++) {
    const c = name[i] as string;
    const insensitive = i < inboxLen;
    next.fill(0);
    let alive = false;
    for (let s = 0; s < n; s++) {
      if (!current[s]) continue;
      const piece = pieces[s] as Piece;
      if (piece.kind === 'star' || (piece.kind === 'percent' && c !== delimChar)) {
        addWithClosure(pieces, next, s);
        alive = true;
      } else if (piece.kind === 'literal' && charEquals(piece.char, c, insensitive)) {
        addWithClosure(pieces, next, s + 1);
        alive = true;
      }
    }
    if (!alive) return false;
    [current, next] = [next, current];
  }
  return current[n] === 1;
}

/** Marks state `s` and every state reachable from it by letting wildcards match nothing. */
function addWithClosure(pieces: readonly Piece[], set: Uint8Array, s: number): void {
  let i = s;
  while (i < pieces.length && !set[i]) {
    set[i] = 1;
    if ((pieces[i] as Piece).kind === 'literal') return;
    i++;
  }
  if (i === pieces.length) set[i] = 1;
}

function charEquals(patternChar: string, nameChar: string, insensitive: boolean): boolean {
  if (patternChar === nameChar) return true;
  // ASCII folding only: "ınbox" (dotless i) must not reach INBOX through toUpperCase().
  return insensitive && patternChar >= 'a' && patternChar <= 'z' && patternChar.toUpperCase() === nameChar;
}
