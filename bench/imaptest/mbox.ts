/** The mbox imaptest's APPEND reads its messages from: the bench's own varied messages (bench/load/messages.ts). */
import { writeFileSync } from 'node:fs';
import { benchMessage } from '../load/messages.js';

export function writeBenchMbox(path: string, count: number): void {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) {
    const raw = benchMessage(4_000_000_000 + i, 'imaptest').toString('latin1');
    // mboxrd: a body line starting with "From " (after any '>') gets one more '>'.
    const body = raw.replace(/\r\n/g, '\n').replace(/^(>*From )/gm, '>$1');
    parts.push(`From imaptest@bench Thu Jan  1 00:00:00 2025\n${body}${body.endsWith('\n') ? '' : '\n'}\n`);
  }
  writeFileSync(path, parts.join(''), 'latin1');
}
