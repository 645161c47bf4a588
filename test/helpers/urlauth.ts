/** Reading URLAUTH answers in raw-socket tests (test/e2e/urlauth*.test.ts). */
import assert from 'node:assert/strict';

/** The URL of `* GENURLAUTH "url"`. */
export function generated(lines: string[]): string {
  const line = lines.find((l) => l.startsWith('* GENURLAUTH '));
  assert.ok(line, lines.join('\n'));
  return /^\* GENURLAUTH "([^"]+)"$/.exec(line)![1]!;
}

/** What URLFETCH answered for its one URL: the literal's text, or null for NIL. */
export function fetched(lines: string[]): string | null {
  const wire = lines.join('\r\n');
  if (/^\* URLFETCH "[^"]*" NIL$/m.test(wire)) return null;
  const m = /^\* URLFETCH "[^"]*" \{(\d+)\}\r\n/m.exec(wire);
  assert.ok(m, wire);
  return wire.slice(m.index + m[0].length, m.index + m[0].length + Number(m[1]));
}
