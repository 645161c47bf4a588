/**
 * Hostile shapes for the live fuzz run (issue 13): inputs built to cost the server time or memory
 * rather than to confuse its parser. Each knows the answer the server owes it; a different answer
 * is a failure of the run. The bystander's NOOPs (probe.mjs) are timed while they run.
 */
import { FuzzSession } from './session.js';

export interface ShapeTarget {
  imapPort: number;
  pop3Port: number;
  /** POP3 users (password "pw") no other client of the run logs in as: a maildrop has one session. */
  pop3Users: readonly string[];
}

export interface ShapeOutcome {
  shape: string;
  ok: boolean;
  detail?: string;
}

type Shape = (target: ShapeTarget, round: number) => Promise<ShapeOutcome>;

async function imapLogin(port: number): Promise<FuzzSession | null> {
  const s = new FuzzSession(port);
  s.send('L LOGIN bob hunter2\r\nS SELECT INBOX\r\n');
  if (await s.until(/^S (OK|NO)/m, 10_000)) return s;
  s.destroy();
  return null;
}

function outcome(shape: string, ok: boolean, s: FuzzSession | null): ShapeOutcome {
  s?.destroy();
  return ok ? { shape, ok } : { shape, ok, detail: JSON.stringify(s?.tail.slice(-300) ?? 'no session') };
}

/** Up to 1,000 tiny literals in one SEARCH are served; one more ends the connection. */
const manyLiterals: Shape = async ({ imapPort }, round) => {
  const s = await imapLogin(imapPort);
  if (!s) return outcome('manyLiterals', false, s);
  const count = round % 2 === 0 ? 900 : 1500;
  s.send(`m SEARCH${' SUBJECT {1+}\r\nz'.repeat(count)}\r\n`);
  const ok = count <= 1000 ? await s.until(/^m OK/m, 30_000) : await s.until(/^\* BYE Too many literals/m, 30_000);
  return outcome('manyLiterals', ok, s);
};

/** 60 KB non-synchronising literals before login: BYE at the first, nothing more read. */
const preauthFlood: Shape = async ({ imapPort }) => {
  const s = new FuzzSession(imapPort);
  if (!(await s.until(/^\* OK/m, 10_000))) return outcome('preauthFlood', false, s);
  const literal = Buffer.concat([Buffer.from(' {60000+}\r\n'), Buffer.alloc(60_000, 0x61)]);
  await s.write(Buffer.from('x LOGIN'));
  for (let i = 0; i < 30 && !s.closed; i++) if (!(await s.write(literal))) break;
  const ok = await s.until(/\* BYE Command too large before authentication/, 10_000);
  return outcome('preauthFlood', ok, s);
};

/**
 * Deep and wide criteria: 50 nested ORs around 2,000 keys of every kind. Strings go as literals,
 * so no line is long (the run's server allows 4 KB lines), and there are 900 of them.
 */
const deepCriteria: Shape = async ({ imapPort }, round) => {
  const s = await imapLogin(imapPort);
  if (!s) return outcome('deepCriteria', false, s);
  const withString = ['NOT SUBJECT', 'NOT BODY', 'NOT HEADER X-F', 'NOT TEXT'];
  const plain = ['UNDELETED', 'LARGER 1', 'SINCE 1-Jan-1990', 'NOT KEYWORD kw', 'UNDRAFT'];
  let text = `d SEARCH ${'OR SUBJECT "never" '.repeat(50)}(`;
  for (let i = 0; i < 2000; i++) {
    if (i % 20 < 9) {
      const value = `v${i}x${round}`;
      text += ` ${withString[i % withString.length]!} {${value.length}+}\r\n${value}`;
    } else {
      text += ` ${plain[i % plain.length]!}`;
    }
  }
  s.send(`${text})\r\n`);
  return outcome('deepCriteria', await s.until(/^d OK/m, 30_000), s);
};

/** Lines of words that each look like the start of a section (split by literals: 4 KB lines). */
const brackets: Shape = async ({ imapPort }) => {
  const s = await imapLogin(imapPort);
  if (!s) return outcome('brackets', false, s);
  s.send(`b FETCH 1 ${Array.from({ length: 8 }, () => 'x[ '.repeat(1300)).join('{1+}\r\nz ')}\r\n`);
  return outcome('brackets', await s.until(/^b BAD/m, 30_000), s);
};

/** POP3: a 200 KB line before login, then thousands of pipelined commands after it. */
const pop3Flood: Shape = async ({ pop3Port, pop3Users }, round) => {
  const s = new FuzzSession(pop3Port);
  if (!(await s.until(/^\+OK/m, 10_000))) return outcome('pop3Flood', false, s);
  await s.write(Buffer.from(`USER ${'u'.repeat(200_000)}\r\n`));
  if (!(await s.until(/^-ERR .*[Ll]ine too long/m, 10_000))) return outcome('pop3Flood', false, s);
  s.send(`USER ${pop3Users[round % pop3Users.length]!}\r\nPASS pw\r\n`);
  if (!(await s.until(/^\+OK .*\r\n\+OK/m, 10_000))) return outcome('pop3Flood', false, s);
  await s.write(Buffer.from('NOOP\r\nSTAT\r\n'.repeat(5000)));
  s.send('UIDL 1\r\n');
  return outcome('pop3Flood', await s.until(/^\+OK 1 \S+\r\n/m, 30_000), s);
};

export const SHAPES: readonly Shape[] = [manyLiterals, preauthFlood, deepCriteria, brackets, pop3Flood];
