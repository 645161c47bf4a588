/**
 * The THREAD response (RFC 5256 §4): `* THREAD (2)(3 6 (4 23)(44 7 96))`. A chain of single
 * replies is one list of numbers; where a message has several children each starts a nested
 * list; a dummy at the top is a list of lists. Written without recursion: a thread can be as
 * deep as the mailbox is large.
 *
 * The walk over the forest is done once per forest (threads are cached, thread.ts) and kept as a
 * flat list of tokens; each THREAD then only maps UIDs to the numbers it answers with.
 */
import type { ThreadNode } from '../../store/sort/thread.js';

const OPEN = 0;
const CLOSE = -1;
const SPACE = -2;

/** The response as tokens: a UID (> 0), or one of OPEN, CLOSE, SPACE. */
function tokens(roots: readonly ThreadNode[]): Int32Array {
  const out: number[] = [];
  const stack: Array<ThreadNode | typeof CLOSE> = [...roots].reverse();
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (item === CLOSE) {
      out.push(CLOSE);
      continue;
    }
    out.push(OPEN);
    let node = item;
    let first = true;
    for (;;) {
      if (node.uid !== null) {
        if (!first) out.push(SPACE);
        out.push(node.uid);
        first = false;
        if (node.children.length === 1) {
          node = node.children[0]!;
          continue;
        }
      }
      if (node.children.length === 0) {
        out.push(CLOSE);
      } else {
        if (!first) out.push(SPACE);
        stack.push(CLOSE);
        for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]!);
      }
      break;
    }
  }
  return Int32Array.from(out);
}

const cache = new WeakMap<readonly ThreadNode[], Int32Array>();

export function formatThreads(roots: readonly ThreadNode[], number: (uid: number) => number): string {
  let t = cache.get(roots);
  if (!t) cache.set(roots, (t = tokens(roots)));
  let text = '';
  for (let i = 0; i < t.length; i++) {
    const v = t[i]!;
    text += v > 0 ? number(v) : v === OPEN ? '(' : v === CLOSE ? ')' : ' ';
  }
  return text;
}
