/**
 * Replays the LMTP transcripts in ./transcripts against a live server on a fresh MemoryStore:
 *   C: <line>        sent with CRLF; consecutive C: lines go out in one write (pipelined)
 *   S: <line>        the next line the server sends must match; `{{regex}}` embeds a regular expression
 *   !limits {json}   LMTP limits for this transcript (default: maxMessageSize 2000)
 *   !stored USER MAILBOX N   after the session: USER's MAILBOX holds exactly N messages
 *   !contains USER MAILBOX N TEXT   message N (1-based) of USER's MAILBOX is exactly TEXT (\r\n escapes)
 *   # ...            comment
 * Users: ann (with a mailbox "Lists"), bob, carol; broken (the store is unreachable for them),
 * full (the disk is full), quota (over quota), ailing (an I/O error), closed (the mailbox refuses
 * appends) — test/helpers/fault-store.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryStore } from '../../src/store/memory/index.js';
import { FaultStore } from '../helpers/fault-store.js';
import { startLmtpServer, storedMessages } from '../helpers/lmtp-server.js';
import { RawClient } from '../helpers/raw-client.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'transcripts');
const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();

type Step = { kind: 'C' | 'S'; text: string; line: number };
type Check = { kind: 'stored'; user: string; mailbox: string; count: number } | { kind: 'contains'; user: string; mailbox: string; n: number; text: string };

function parse(text: string): { steps: Step[]; limits: Record<string, number>; checks: Check[] } {
  const steps: Step[] = [];
  const checks: Check[] = [];
  let limits: Record<string, number> = { maxMessageSize: 2000 };
  text.split(/\r?\n/).forEach((raw, i) => {
    if (raw.startsWith('C: ') || raw === 'C:') steps.push({ kind: 'C', text: raw.slice(3), line: i + 1 });
    else if (raw.startsWith('S: ')) steps.push({ kind: 'S', text: raw.slice(3), line: i + 1 });
    else if (raw.startsWith('!limits ')) limits = { ...limits, ...(JSON.parse(raw.slice(8)) as Record<string, number>) };
    else if (raw.startsWith('!stored ')) {
      const [user = '', mailbox = '', count = ''] = raw.slice(8).split(' ');
      checks.push({ kind: 'stored', user, mailbox, count: Number(count) });
    } else if (raw.startsWith('!contains ')) {
      const [user = '', mailbox = '', n = '', ...rest] = raw.slice(10).split(' ');
      checks.push({ kind: 'contains', user, mailbox, n: Number(n), text: rest.join(' ').replace(/\\r\\n/g, '\r\n') });
    }
  });
  return { steps, limits, checks };
}

function toRegex(pattern: string): RegExp {
  let out = '';
  let rest = pattern;
  for (let open = rest.indexOf('{{'); open >= 0; open = rest.indexOf('{{')) {
    const close = rest.indexOf('}}', open + 2);
    out += rest.slice(0, open).replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '(?:' + rest.slice(open + 2, close) + ')';
    rest = rest.slice(close + 2);
  }
  return new RegExp(`^${out}${rest.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
}

describe('LMTP transcripts', () => {
  for (const file of files) {
    it(file.replace(/\.txt$/, ''), async () => {
      const { steps, limits, checks } = parse(readFileSync(join(dir, file), 'utf8'));
      assert.ok(steps.some((s) => s.kind === 'S'), `${file} has no expectations`);
      const memory = new MemoryStore();
      const store = new FaultStore(
        memory,
        new Map([
          ['broken', 'unavailable'],
          ['full', 'diskfull'],
          ['quota', 'overquota'],
          ['ailing', 'io'],
          ['closed', 'noperm'],
        ]),
      );
      await (await memory.open('ann')).create('Lists');
      const lmtp = await startLmtpServer({ store, limits });
      const c = new RawClient(lmtp.port);
      try {
        for (let i = 0; i < steps.length; ) {
          const step = steps[i]!;
          if (step.kind === 'C') {
            let batch = '';
            for (; i < steps.length && steps[i]!.kind === 'C'; i++) batch += `${steps[i]!.text}\r\n`;
            // latin1: a transcript's non-ASCII characters go out as single bytes (not valid UTF-8).
            c.send(Buffer.from(batch, 'latin1'));
            continue;
          }
          const got = await c.expect(/.*/).catch((err: Error) => assert.fail(`${file}:${step.line}: expected ${step.text}: ${err.message}`));
          assert.match(got, toRegex(step.text), `${file}:${step.line}`);
          i++;
        }
      } finally {
        c.destroy();
        await lmtp.close();
      }
      for (const check of checks) {
        const messages = await storedMessages(memory, check.user, check.mailbox);
        if (check.kind === 'stored') assert.equal(messages.length, check.count, `${file}: ${check.user}'s ${check.mailbox} holds ${messages.length}`);
        else assert.equal(messages[check.n - 1]?.toString('latin1'), check.text, `${file}: message ${check.n} of ${check.user}'s ${check.mailbox}`);
      }
    });
  }
});
