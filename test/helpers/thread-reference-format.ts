/** The THREAD response writer as it was at commit d0b8d2f, for ThreadNode trees (thread-reference.ts). */
import type { ThreadNode } from './thread-reference.js';

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
