/**
 * The THREAD response (RFC 5256 §4): `* THREAD (2)(3 6 (4 23)(44 7 96))`. A chain of single
 * replies is one list of numbers; where a message has several children each starts a nested
 * list; a dummy at the top is a list of lists. Written without recursion: a thread can be as
 * deep as the mailbox is large.
 *
 * The walk over the forest is done once per forest (threads are cached, thread.ts) and kept as a
 * flat list of tokens; each THREAD then only maps UIDs to the numbers it answers with.
 */
import type { Threads } from '../../store/sort/thread.js';
import { drain, drainInSlices } from '../../util/time-slice.js';

const OPEN = 0;
const CLOSE = -1;
const SPACE = -2;

/**
 * The response as tokens: a UID (> 0), or one of OPEN, CLOSE, SPACE. The flat pre-order walk of
 * Threads is already the order the response is written in; `pending` counts, per node with
 * several children (or a dummy) still open, the child lists left before its ")".
 */
function tokens(t: Threads): Float64Array {
  return drain(tokenSteps(t));
}

/** tokens() as steps: it yields every STEP nodes (a forest of 100,000 is one pass of several ms). */
function* tokenSteps(t: Threads): Generator<void, Float64Array> {
  const { uid, children } = t;
  // At most a UID and three marks per node: sized once, filled in place.
  const out = new Float64Array(4 * uid.length + 2);
  let o = 0;
  const pending: number[] = [];
  let i = 0;
  let nextYield = STEP;
  while (i < uid.length) {
    // A list starts: a thread, or one child of a node with several.
    out[o++] = OPEN;
    let first = true;
    let closed = false;
    for (;;) {
      const u = uid[i]!;
      const count = children[i++]!;
      if (u !== 0) {
        if (!first) out[o++] = SPACE;
        out[o++] = u;
        first = false;
        // A single reply continues the same list.
        if (count === 1) continue;
      }
      if (count === 0) {
        out[o++] = CLOSE;
        closed = true;
      } else {
        if (!first) out[o++] = SPACE;
        pending.push(count);
      }
      break;
    }
    // A finished list may finish the lists around it.
    while (closed && pending.length > 0) {
      const left = --pending[pending.length - 1]!;
      if (left > 0) break;
      pending.pop();
      out[o++] = CLOSE;
    }
    if (i >= nextYield) {
      nextYield = i + STEP;
      yield;
    }
  }
  return out.subarray(0, o);
}

const cache = new WeakMap<Threads, Float64Array>();

export function formatThreads(threads: Threads, number: (uid: number) => number): string {
  const t = tokensOf(threads);
  let text = '';
  for (let i = 0; i < t.length; i++) text += textOf(t[i]!, number);
  return text;
}

/** Tokens written between looks at the clock (formatThreadsInSlices). */
const STEP = 16_384;

/**
 * formatThreads() letting the event loop run between time slices (`pause`): the answer of a THREAD
 * over 100,000 messages is a pass of several milliseconds (issue 13: no command may hold the loop
 * for long). The same text.
 */
export async function formatThreadsInSlices(threads: Threads, number: (uid: number) => number, pause: () => Promise<void>): Promise<string> {
  let t = cache.get(threads);
  if (!t) cache.set(threads, (t = await drainInSlices(tokenSteps(threads), pause)));
  // Each step's text is made flat there (an array's join), and the steps joined at the end in one
  // copy: a string grown by += per token is a rope of 400,000 pieces at 100,000 messages, which the
  // encoder then flattened in one stretch of its own.
  const parts: string[] = [];
  for (let i = 0; i < t.length; i += STEP) {
    const end = Math.min(t.length, i + STEP);
    const step = new Array<string | number>(end - i);
    for (let k = i; k < end; k++) step[k - i] = textOf(t[k]!, number);
    parts.push(step.join(''));
    await pause();
  }
  return parts.join('');
}

function tokensOf(threads: Threads): Float64Array {
  let t = cache.get(threads);
  if (!t) cache.set(threads, (t = tokens(threads)));
  return t;
}

const textOf = (v: number, number: (uid: number) => number): string | number => (v > 0 ? number(v) : v === OPEN ? '(' : v === CLOSE ? ')' : ' ');
