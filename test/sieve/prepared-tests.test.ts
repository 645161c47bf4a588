/**
 * Prepared tests (src/sieve/prepare.ts) must answer exactly as the general path does: a script
 * without variables has its header/address/envelope tests prepared at compile time and its header
 * fields found by slot (MessageView's scan of only the names it uses); the same script requiring
 * "variables" prepares nothing. Both are run over headers of every awkward shape — folded and
 * continuation lines, malformed lines, white space before the colon, LF line ends, repeated
 * fields, case — and must give the same actions. The slot scan itself is compared with
 * scanFields' reading, field by field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSieve, runSieve } from '../../src/sieve/index.js';
import { programOf } from '../../src/sieve/compile.js';
import { MessageView } from '../../src/sieve/message.js';
import { compile, env, rng } from './helpers.js';

const RULES = [
  'if header :contains "list-id" "<list1.example.org>" { fileinto "Lists"; stop; }',
  'if header :is "X-Flag" "" { addflag "$EmptyXFlag"; }',
  'if header :is "subject" "Hello" { addflag "$Hello"; }',
  'if header :comparator "i;octet" :contains "Subject" "HELLO" { addflag "$Loud"; }',
  'if header :matches "subject" "*[ticket #?]*" { addflag "$Ticket"; }',
  'if header :comparator "i;octet" :matches "subject" "[ticket*" { addflag "$TicketExact"; }',
  'if header :matches "x-spam" "y*s" { addflag "$Spam"; }',
  'if address :is :domain "from" "Partner.example.com" { addflag "$Partner"; }',
  'if address :localpart :matches "to" "alert*" { addflag "$Alert"; }',
  'if address :all :comparator "i;octet" :is "cc" "Someone@example.com" { addflag "$CcExact"; }',
  'if address :user :is "to" "box" { addflag "$User"; }',
  'if address :detail :contains "to" "ta" { addflag "$Detail"; }',
  'if envelope :is :domain "from" "spam.example.net" { addflag "$EnvSpam"; }',
  'if envelope :localpart :matches "to" "us*r" { addflag "$EnvTo"; }',
  'if header :contains ["subject", "x-other"] "bulk" { addflag "$TwoNames"; }',
  'if exists "x-weird" { addflag "$Weird"; }',
  'if not header :matches "received" "*" { addflag "$NoReceived"; }',
];
const SCRIPT = `require ["fileinto", "imap4flags", "envelope", "subaddress"];\r\n${RULES.join('\r\n')}\r\n`;
const WITH_VARIABLES = SCRIPT.replace('"subaddress"]', '"subaddress", "variables"]');

const LINES = [
  'Subject: Hello',
  'subject: hello',
  'SUBJECT : [ticket #7] printer',
  'Subject: Re: [ticket #3] the printer\r\n again',
  'Subject:\r\n\t=?utf-8?q?HELLO_world?=',
  'Subject: bulk offer',
  'X-Other: bulk',
  'List-Id: Announcements <list1.example.org>',
  'List-ID:<LIST1.example.org>',
  'From: Bench <bench@partner.example.com>',
  'From: "Quoted, Name" <a@PARTNER.example.com>',
  'from: a@example.org, b@partner.example.com',
  'To: alerts@example.com',
  'To: box+data@example.com',
  'Cc: Someone@example.com',
  'Cc: someone@example.com',
  'X-Spam: yes',
  'X-Spam: y',
  'X-Flag:',
  'X-Flag: not empty',
  'X Weird: a name with a space is no field',
  'X-Weird : white space before the colon',
  ': no name',
  'no colon at all',
  '\tcontinuation of what came before',
  'Received: from somewhere',
  'X-Bench: x-1',
];

function header(lines: string[], eol: string): string[] {
  return lines.map((l) => l.replace(/\r\n/g, eol));
}

test('prepared tests answer as the general path does, over headers of every shape', async () => {
  const prepared = compile(SCRIPT);
  const general = compile(WITH_VARIABLES);
  assert.ok(programOf(prepared)!.fields.names.length > 0, 'the script without variables is prepared');
  assert.equal(programOf(general)!.fields.names.length, 0, 'a script with variables is not');
  const random = rng(17);
  let differing = 0;
  const seen = new Set<string>();
  for (let i = 0; i < 400; i++) {
    const count = 1 + Math.floor(random() * 8);
    const lines = Array.from({ length: count }, () => LINES[Math.floor(random() * LINES.length)]!);
    const o = { headers: header(lines, random() < 0.2 ? '\n' : '\r\n'), from: random() < 0.3 ? 'x@spam.example.net' : 'x@example.org', to: random() < 0.5 ? 'user@example.com' : 'other@example.com' };
    const a = await runSieve(prepared, env(o));
    const b = await runSieve(general, env(o));
    assert.deepEqual(a, b, `differ for ${JSON.stringify(o)}`);
    const key = JSON.stringify(a.actions);
    if (!seen.has(key)) differing++;
    seen.add(key);
  }
  // Sanity: the headers took many different ways through the rules.
  assert.ok(differing >= 20, `only ${differing} different outcomes`);
});

test('a prepared run flags and files as the rules say (a fixed message)', async () => {
  const outcome = await runSieve(
    compile(SCRIPT),
    env({ headers: ['SUBJECT : [ticket #7] printer', 'From: Bench <bench@PARTNER.example.com>', 'To: box+data@example.com', 'X-Weird : yes'], from: 'a@spam.example.net' }),
  );
  assert.deepEqual(outcome.actions, [{ type: 'keep', flags: ['$Ticket', '$TicketExact', '$Partner', '$User', '$Detail', '$EnvSpam', '$EnvTo', '$Weird', '$NoReceived'] }]);
});

test("MessageView's slot scan finds the fields scanFields finds, continuation lines included", () => {
  const script = compileSieve(SCRIPT);
  assert.ok(script.ok);
  const fields = programOf(script.script)!.fields;
  const random = rng(5);
  for (let i = 0; i < 300; i++) {
    const count = Math.floor(random() * 10);
    const lines = Array.from({ length: count }, () => LINES[Math.floor(random() * LINES.length)]!);
    const eol = random() < 0.2 ? '\n' : '\r\n';
    const text = header(lines, eol).map((l) => l + eol).join('') + (random() < 0.8 ? eol : '');
    const slotted = new MessageView(Buffer.from(text), fields);
    const plain = new MessageView(Buffer.from(text));
    for (const name of [...fields.names, 'x-weird', 'received', 'Subject', 'X-FLAG']) {
      assert.deepEqual(slotted.raw(name), plain.raw(name), `${name} in ${JSON.stringify(text)}`);
      assert.deepEqual(slotted.decoded(name), plain.decoded(name));
      assert.deepEqual(slotted.addressesByField(name), plain.addressesByField(name));
      assert.equal(slotted.has(name), plain.has(name));
    }
    for (const [name, slot] of fields.slots) assert.deepEqual(slotted.decodedAt(slot), plain.decoded(name));
  }
});
