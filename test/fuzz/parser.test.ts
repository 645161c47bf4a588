/**
 * Property tests of the IMAP and POP3 input side without sockets: random byte streams and
 * corrupted valid commands, fed through framer → tokenizer → every command's parse(), only ever
 * produce commands, BAD (ParseError / ImapError) or a fatal framing result — never another
 * exception — and the framer never holds more than its limits allow.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CommandFramer } from '../../src/imap/wire/framer.js';
import { parseCommand } from '../../src/imap/wire/tokenizer.js';
import { resolveLimits } from '../../src/imap/limits.js';
import { CommandRegistry } from '../../src/imap/commands/registry.js';
import { toErrorReply } from '../../src/imap/errors.js';
import { LineFramer } from '../../src/pop3/wire/framer.js';
import { parseCommandLine, CommandSyntaxError as Pop3SyntaxError } from '../../src/pop3/wire/command-line.js';
import { VALID_COMMANDS, corrupt, corruptionArb } from './corpus.js';

const limits = resolveLimits({ maxLineLength: 1024, maxPipelinedBytes: 4096, maxLiteralSize: 2048, maxCommandSize: 8192 });
const registry = new CommandRegistry();
const env = { enabled: new Set<string>(['CONDSTORE']), limits };

/** Runs one command through the tokenizer and its spec's parse(); returns how it ended. */
function parseOne(text: string[], literals: Buffer[][]): 'ok' | 'bad' {
  try {
    const parsed = parseCommand({ text, literals, size: 0 }, limits);
    let name = parsed.name;
    let args = parsed.args;
    if (name === 'UID' && args[0]?.type === 'atom') {
      name = `UID ${args[0].value.toUpperCase()}`;
      args = args.slice(1);
    }
    const spec = registry.get(name);
    if (!spec) return 'bad';
    spec.parse(args, env);
    return 'ok';
  } catch (err) {
    // ParseError and ImapError are the expected answers (BAD / NO); anything else is a bug.
    const reply = toErrorReply(err);
    if (reply.unexpected) throw err;
    return 'bad';
  }
}

/** Frames every command in `input` (pushed in `chunks`), accepting each literal up to the limit. */
async function frameAll(input: Buffer, cuts: number[]): Promise<{ commands: number; bad: number; maxBuffered: number }> {
  const framer = new CommandFramer(limits);
  let maxBuffered = 0;
  const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  for (const p of [...points, input.length]) {
    framer.push(input.subarray(from, p));
    from = p;
    maxBuffered = Math.max(maxBuffered, framer.buffered);
  }
  framer.end();
  let commands = 0;
  let bad = 0;
  for (let guard = 0; guard < 10_000; guard++) {
    const r = await framer.nextCommand((req) => (req.size > limits.maxLiteralSize ? { reject: true } : null));
    if (r === null || r.type === 'fatal') break;
    if (r.type === 'rejected') continue;
    commands++;
    if (parseOne(r.command.text, r.command.literals) === 'bad') bad++;
  }
  return { commands, bad, maxBuffered };
}

it('IMAP: random byte streams never throw past the parser', async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.nat(), { maxLength: 6 }), async (bytes, cuts) => {
      const r = await frameAll(Buffer.from(bytes), cuts);
      assert.ok(r.commands >= 0);
    }),
    { numRuns: 500 },
  );
});

it('IMAP: random printable command-like lines never throw past the parser', async () => {
  const token = fc.oneof(
    fc.constantFrom(...'( ) [ ] { } " \\ * % < > . : , + - ~ NIL 1 2:* 1:4 BODY[] BODY.PEEK[HEADER] {3} {99999999999} {2+} ~{1}'.split(' ')),
    fc.stringMatching(/^[A-Za-z0-9.\\]{1,8}$/),
  );
  const line = fc.tuple(fc.constantFrom(...[...new Set(VALID_COMMANDS.map((c) => c.split(' ')[0]!))], 'UID FETCH', 'UID SEARCH'), fc.array(token, { maxLength: 20 }));
  await fc.assert(
    fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 8 }), async (lines) => {
      const input = Buffer.from(lines.map(([name, toks], i) => `t${i} ${name} ${toks.join(' ')}\r\n`).join(''), 'latin1');
      const r = await frameAll(input, []);
      assert.ok(r.commands + r.bad >= 0);
    }),
    { numRuns: 1000 },
  );
});

it('IMAP: valid commands stay parseable, corrupted ones are refused cleanly', async () => {
  // The uncorrupted corpus parses: the property below is not vacuous.
  for (const c of VALID_COMMANDS) {
    const r = await frameAll(Buffer.from(`t ${c}\r\n`, 'latin1'), []);
    assert.deepEqual([r.commands, r.bad], [1, 0], c);
  }
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...VALID_COMMANDS), fc.array(corruptionArb, { maxLength: 3 }), fc.array(fc.nat(), { maxLength: 4 }), async (command, corruptions, cuts) => {
      let body: Buffer = Buffer.from(command, 'latin1');
      for (const c of corruptions) body = corrupt(body, c);
      const input = Buffer.concat([Buffer.from('t '), body, Buffer.from('\r\nz NOOP\r\n')]);
      const r = await frameAll(input, cuts);
      assert.ok(r.maxBuffered <= input.length);
    }),
    { numRuns: 3000 },
  );
});

it('POP3: random byte streams become lines within the limit, and parsing never throws anything else', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 4000 }), fc.array(fc.nat(), { maxLength: 6 }), (bytes, cuts) => {
      const framer = new LineFramer(512);
      const input = Buffer.from(bytes);
      const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
      let from = 0;
      for (const p of [...points, input.length]) {
        framer.push(input.subarray(from, p));
        from = p;
        // Held bytes: at most one partial line within the limit plus complete lines.
        assert.ok(framer.buffered <= input.length);
      }
      for (let item = framer.next(); item; item = framer.next()) {
        if (item.kind === 'overlong') continue;
        assert.ok(Buffer.byteLength(item.text, 'latin1') <= 512);
        try {
          parseCommandLine(item.text);
        } catch (err) {
          if (!(err instanceof Pop3SyntaxError)) throw err;
        }
      }
    }),
    { numRuns: 500 },
  );
});
