/**
 * Replays every transcript in this folder against a live server (fresh MemoryStore each):
 *   C: <line>   sent as-is with CRLF
 *   S: <line>   the next line the server sends must match; `{{regex}}` embeds a regular expression
 *   # ...       comment
 *   !nologin    (first lines) start unauthenticated; otherwise `alice` is logged in first
 *   !utf8       (first lines) C: lines go out as UTF-8 (literal counts are UTF-8 octets); otherwise
 *               each character is one octet (Latin-1), so 8-bit input is written as its octets
 * alice is an administrator of the server (SETQUOTA; RFC 9208); bob is not. The METADATA server
 * entry /shared/admin is mailto:postmaster@example.com.
 *   !store sqlite   (reserved for store-specific runs)
 *   !limits name=N ...  IMAP limits of this file's server (e.g. maxMessagesPerCommand=3)
 * The suite runs once per store named in TRANSCRIPT_STORES (default "memory").
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serverForSuite, type TestServer } from '../helpers/imap-server.js';
import { storeFactories } from '../helpers/stores.js';
import { RawClient } from '../helpers/raw-client.js';
import type { ImapLimits } from '../../src/imap/limits.js';

const dir = dirname(fileURLToPath(import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();

interface Step {
  kind: 'C' | 'S';
  text: string;
  line: number;
}

/** The `!limits name=N ...` line of a transcript, if any. */
function limitsOf(text: string): Record<string, number> {
  const line = text.split(/\r?\n/).find((l) => l.startsWith('!limits '));
  if (!line) return {};
  return Object.fromEntries(line.slice('!limits '.length).trim().split(/\s+/).map((kv) => {
    const [k, v] = kv.split('=');
    return [k!, Number(v)];
  }));
}

function parseTranscript(text: string): { steps: Step[]; login: boolean; utf8: boolean } {
  const steps: Step[] = [];
  let login = true;
  let utf8 = false;
  text.split(/\r?\n/).forEach((raw, i) => {
    if (raw.startsWith('C: ') || raw === 'C:') steps.push({ kind: 'C', text: raw.slice(3), line: i + 1 });
    else if (raw.startsWith('S: ')) steps.push({ kind: 'S', text: raw.slice(3), line: i + 1 });
    else if (raw.trim() === '!nologin') login = false;
    else if (raw.trim() === '!utf8') utf8 = true;
  });
  return { steps, login, utf8 };
}

function toRegex(pattern: string): RegExp {
  let out = '';
  let rest = pattern;
  for (;;) {
    const open = rest.indexOf('{{');
    if (open < 0) break;
    const close = rest.indexOf('}}', open + 2);
    if (close < 0) break;
    out += rest.slice(0, open).replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '(?:' + rest.slice(open + 2, close) + ')';
    rest = rest.slice(close + 2);
  }
  out += rest.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${out}$`);
}

async function replay(server: TestServer, file: string): Promise<void> {
  const { steps, login, utf8 } = parseTranscript(readFileSync(join(dir, file), 'utf8'));
  assert.ok(steps.some((s) => s.kind === 'S'), `${file} has no expectations`);
  const c = new RawClient(server.port);
  const nextLine = (): Promise<string> => c.expect(/.*/);
  const sendLine = (text: string): void => c.send(Buffer.from(`${text}\r\n`, utf8 ? 'utf8' : 'latin1'));
  try {
    assert.match(await nextLine(), /^\* OK /);
    if (login) {
      sendLine('x0 LOGIN alice secret');
      for (;;) {
        const l = await nextLine();
        if (l.startsWith('x0 ')) {
          assert.match(l, /^x0 OK/);
          break;
        }
      }
    }
    const seen: string[] = [];
    for (const step of steps) {
      if (step.kind === 'C') {
        sendLine(step.text);
        seen.push(`C: ${step.text}`);
        continue;
      }
      const got = await nextLine().catch((err: Error) => `<<${err.message}>>`);
      seen.push(`S: ${got}`);
      if (!toRegex(step.text).test(got)) {
        assert.fail(`${file}:${step.line}\nexpected: ${step.text}\n     got: ${got}\n--- transcript so far ---\n${seen.slice(-15).join('\n')}`);
      }
    }
  } finally {
    c.destroy();
  }
}

for (const [storeName, factory] of Object.entries(storeFactories())) {
  describe(`transcripts (${storeName} store)`, () => {
    for (const file of files) {
      describe(file, () => {
        const limits = limitsOf(readFileSync(join(dir, file), 'utf8')) as Partial<ImapLimits>;
        const server = serverForSuite(factory, { administrators: ['alice'], adminContact: 'mailto:postmaster@example.com', limits });
        it('replays', async () => {
          await replay(server(), file);
        });
      });
    }
  });
}
