/**
 * The THREAD response (RFC 5256 §4): `* THREAD (2)(3 6 (4 23)(44 7 96))`. A chain of single
 * replies is one list of numbers; where a message has several children each starts a nested
 * list; a dummy at the top is a list of lists. Written without recursion: a thread can be as
 * deep as the mailbox is large.
 */
import type { ThreadNode } from '../../store/sort/thread.js';

export function formatThreads(roots: readonly ThreadNode[], number: (uid: number) => number): string {
  const parts: string[] = [];
  const stack: Array<ThreadNode | ')'> = [...roots].reverse();
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (item === ')') {
      parts.push(')');
      continue;
    }
    parts.push('(');
    let node = item;
    let first = true;
    for (;;) {
      if (node.uid !== null) {
        parts.push(first ? `${number(node.uid)}` : ` ${number(node.uid)}`);
        first = false;
        if (node.children.length === 1) {
          node = node.children[0]!;
          continue;
        }
      }
      if (node.children.length === 0) {
        parts.push(')');
      } else {
        if (!first) parts.push(' ');
        stack.push(')');
        for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]!);
      }
      break;
    }
  }
  return parts.join('');
}
