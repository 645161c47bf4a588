/**
 * The extensions, each with the examples of its RFC (section quoted in the test name), run
 * against a message with the actions expected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileError, run } from './helpers.js';

const fileinto = (mailbox: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ type: 'fileinto', mailbox, copy: false, create: false, ...extra });

test('RFC 3894 §3: fileinto :copy "incoming" keeps the implicit keep; redirect :copy too', async () => {
  assert.deepEqual((await run('require ["copy", "fileinto"];\nfileinto :copy "incoming";')).actions, [fileinto('incoming', { copy: true }), { type: 'keep' }]);
  assert.deepEqual((await run('require "copy"; redirect :copy "a@example.net";')).actions, [
    { type: 'redirect', address: 'a@example.net', copy: true },
    { type: 'keep' },
  ]);
  assert.match(compileError('require "fileinto"; fileinto :copy "x";').message, /":copy" needs require "copy"/);
});

test('RFC 5490 §3.1: mailboxexists "Partners" else reject; §3.2 fileinto :create', async () => {
  const script = `require ["fileinto", "reject", "mailbox"];
    if mailboxexists "Partners" { fileinto "Partners"; }
    else { reject "This message was not accepted by the Mailstore"; }`;
  assert.deepEqual((await run(script, { mailboxes: ['INBOX', 'Partners'] })).actions, [fileinto('Partners')]);
  assert.deepEqual((await run(script)).actions, [{ type: 'reject', reason: 'This message was not accepted by the Mailstore', ereject: false }]);
  assert.deepEqual((await run('require ["fileinto", "mailbox"]; fileinto :create "New/Box";')).actions, [fileinto('New/Box', { create: true })]);
});

test('RFC 5232 §3.1: setflag, and :flags with a flag variable', async () => {
  const big = 'x'.repeat(600 * 1024);
  const s1 = 'require "imap4flags"; if size :over 500K { setflag "\\\\Deleted"; }';
  assert.deepEqual((await run(s1, { body: big })).actions, [{ type: 'keep', flags: ['\\Deleted'] }]);
  assert.deepEqual((await run(s1)).actions, [{ type: 'keep' }]);
  const s2 = `require ["imap4flags", "fileinto", "variables"];
    if header :contains "from" "boss@frobnitzm.example.edu" {
      setflag "flagvar" "\\\\Flagged";
      fileinto :flags "\${flagvar}" "INBOX.From Boss";
    }`;
  assert.deepEqual((await run(s2, { headers: ['From: boss@frobnitzm.example.edu'] })).actions, [fileinto('INBOX.From Boss', { flags: ['\\Flagged'] })]);
});

test('RFC 5232 §3.2/§3.3: addflag and removeflag on a variable', async () => {
  const script = `require ["imap4flags", "fileinto", "variables"];
    if header :contains "Disposition-Notification-To" "mel@example.com" { addflag "flagvar" "$MDNRequired"; }
    if header :contains "from" "imap@cac.washington.example.edu" {
      removeflag "flagvar" "$MDNRequired";
      fileinto :flags "\${flagvar}" "INBOX.imap-list";
    }
    fileinto :flags "\${flagvar}" "other";`;
  const both = await run(script, { headers: ['Disposition-Notification-To: mel@example.com', 'From: imap@cac.washington.example.edu'] });
  assert.deepEqual(both.actions, [fileinto('INBOX.imap-list'), fileinto('other')]);
  const mdn = await run(script, { headers: ['Disposition-Notification-To: mel@example.com', 'From: x@y.example'] });
  assert.deepEqual(mdn.actions, [fileinto('other', { flags: ['$MDNRequired'] })]);
  // Flags are a set: duplicates (case-insensitive) dropped, internal variable used by implicit keep.
  const set = await run('require "imap4flags"; addflag ["\\\\Seen", "A"]; addflag "\\\\seen a B"; removeflag "b";');
  assert.deepEqual(set.actions, [{ type: 'keep', flags: ['\\Seen', 'A'] }]);
});

test('RFC 5232 §2: invalid flags, \\Recent and unknown system flags are ignored; spaces are delimiters', async () => {
  const out = await run('require ["imap4flags", "fileinto"]; addflag ["  \\\\seen   $Label1 ", "\\\\Recent", "\\\\Bogus", "bad(flag", "Grün", "", "ok]no"]; fileinto "a"; keep;');
  assert.deepEqual(out.actions, [fileinto('a', { flags: ['\\Seen', '$Label1'] }), { type: 'keep', flags: ['\\Seen', '$Label1'] }]);
});

test('RFC 5232 §4: hasflag examples', async () => {
  const t = async (setup: string, test: string): Promise<boolean> =>
    (await run(`require ["imap4flags", "variables", "relational", "comparator-i;ascii-numeric"]; ${setup} if ${test} { discard; }`)).actions.some((a) => a.type === 'discard');
  assert.equal(await t('setflag "A B";', 'hasflag :is "b A"'), true);
  assert.equal(await t('setflag "A B";', 'hasflag ["b","A"]'), true);
  assert.equal(await t('setflag "A B";', 'hasflag "C"'), false);
  const myVar = 'set "MyVar" "NonJunk Junk gnus-forward $Forwarded NotJunk JunkRecorded $Junk $NotJunk";';
  assert.equal(await t(myVar, 'hasflag :contains "MyVar" "Junk"'), true);
  assert.equal(await t(myVar, 'hasflag :contains "MyVar" "forward"'), true);
  assert.equal(await t(myVar, 'hasflag :contains "MyVar" ["label", "forward"]'), true);
  assert.equal(await t(myVar, 'hasflag :contains "MyVar" "junk forward"'), true);
  assert.equal(await t(myVar, 'hasflag :contains "MyVar" "label"'), false);
  assert.equal(await t('set "MyFlags" "A B";', 'hasflag :count "ge" :comparator "i;ascii-numeric" "MyFlags" "2"'), true);
  assert.equal(await t('set "MyFlags" "A B";', 'hasflag :count "ge" :comparator "i;ascii-numeric" "MyFlags" "3"'), false);
});

test('RFC 5229 §3, §4.1: set, modifiers in precedence order, expansion, case-insensitive names', async () => {
  const cases: Array<[string, string]> = [
    ['set "b" "${a}";', 'juMBlEd lETteRS'],
    ['set :length "b" "${a}";', '15'],
    ['set :lower "b" "${a}";', 'jumbled letters'],
    ['set :upperfirst "b" "${a}";', 'JuMBlEd lETteRS'],
    ['set :upperfirst :lower "b" "${a}";', 'Jumbled letters'],
    ['set :quotewildcard "b" "Rock*";', 'Rock\\*'],
  ];
  for (const [set, expected] of cases) {
    const out = await run(`require ["variables", "fileinto"]; set "a" "juMBlEd lETteRS"; ${set} fileinto "\${B}";`);
    assert.deepEqual(out.actions, [fileinto(expected)], set);
  }
  const letter = await run(`require ["variables", "reject"];
    set "honorific"  "Mr"; set "first_name" "Wile"; set "last_name"  "Coyote";
    set "vacation" text:
Dear \${HONORIFIC} \${last_name},
I'm out, please leave a message after the meep.
.
;
    reject "\${vacation}";`);
  assert.deepEqual(letter.actions, [{ type: 'reject', reason: "Dear Mr Coyote,\r\nI'm out, please leave a message after the meep.\r\n", ereject: false }]);
  assert.match(compileError('require "variables"; set :lower :upper "a" "b";').message, /":upper" cannot be used together with ":lower"/);
  assert.match(compileError('require "variables"; set "a-b" "c";').message, /not a valid variable name/);
  // §3: unknown variables are empty; malformed references stay as written.
  const odd = await run('require ["variables", "fileinto"]; fileinto "x${unknown}y${1a}${}";');
  assert.deepEqual(odd.actions, [fileinto('xy${1a}${}')]);
});

test('RFC 5229 §3.2: match variables from the last successful :matches', async () => {
  const list = await run('require ["fileinto", "variables"]; if header :matches "List-ID" "*<*@*" { fileinto "INBOX.lists.${2}"; stop; }', {
    headers: ['List-ID: Sieve list <sieve.ietf.example.org@lists.example.org>'],
  });
  assert.deepEqual(list.actions, [fileinto('INBOX.lists.sieve.ietf.example.org')]);
  const subj = await run('require ["fileinto", "variables"]; if header :matches "Subject" "[*] *" { fileinto "INBOX.lists.${1}/${2}"; }', {
    headers: ['Subject: [acme-users] [fwd] version 1.0 is out'],
  });
  assert.deepEqual(subj.actions, [fileinto('INBOX.lists.acme-users/[fwd] version 1.0 is out')]);
  const addr = await run('require ["fileinto", "variables"]; if address :matches ["To", "Cc"] ["coyote@**.com", "wile@**.com"] { fileinto "INBOX.business.${2}|${1}|${0}"; }', {
    headers: ['To: coyote@ACME.Example.COM'],
  });
  assert.deepEqual(addr.actions, [fileinto('INBOX.business.ACME.Example||coyote@ACME.Example.COM')]);
  const state = await run('require ["variables", "fileinto"]; set "state" "x"; set "state" "${state} pending"; if string :matches " ${state} " "* pending *" { fileinto "yes"; }');
  assert.deepEqual(state.actions, [fileinto('yes')]);
});

test('RFC 5233 §4: subaddress :user and :detail (separator "+" or configured)', async () => {
  const script = `require ["envelope", "subaddress", "fileinto"];
    if envelope :user "to" "postmaster" { fileinto "inbox.postmaster"; stop; }
    if envelope :detail "to" "mta-filters" { fileinto "inbox.ietf-mta-filters"; }
    if envelope :detail "to" "foo" { redirect "ken@example.net"; }`;
  assert.deepEqual((await run(script, { to: 'postmaster+x@example.com' })).actions, [fileinto('inbox.postmaster')]);
  assert.deepEqual((await run(script, { to: 'ken+mta-filters@example.com' })).actions, [fileinto('inbox.ietf-mta-filters')]);
  assert.deepEqual((await run(script, { to: 'ken+foo@example.com' })).actions, [{ type: 'redirect', address: 'ken@example.net', copy: false }]);
  assert.deepEqual((await run(script, { to: 'ken-foo@example.com', subaddressSeparator: '-' })).actions, [{ type: 'redirect', address: 'ken@example.net', copy: false }]);
  // No detail: :detail matches nothing, not even "" (RFC 5233 §4); an empty detail is "".
  const empty = 'require ["envelope", "subaddress"]; if envelope :detail "to" "" { discard; }';
  assert.deepEqual((await run(empty, { to: 'ken@example.com' })).actions, [{ type: 'keep' }]);
  assert.deepEqual((await run(empty, { to: 'ken+@example.com' })).actions, [{ type: 'discard' }]);
});

test('RFC 5231 §6 and §7: relational :count and :value', async () => {
  const headers = ['Received: a', 'Received: b', 'Subject: example', 'To: foo@example.com, baz@example.com', 'Cc: qux@example.com'];
  const t = async (test: string): Promise<boolean> =>
    (await run(`require ["relational", "comparator-i;ascii-numeric"]; if ${test} { discard; }`, { headers })).actions[0]!.type === 'discard';
  assert.equal(await t('address :count "ge" :comparator "i;ascii-numeric" ["to", "cc"] ["3"]'), true);
  assert.equal(await t('anyof (address :count "ge" :comparator "i;ascii-numeric" ["to"] ["3"], address :count "ge" :comparator "i;ascii-numeric" ["cc"] ["3"])'), false);
  assert.equal(await t('header :count "ge" :comparator "i;ascii-numeric" ["received"] ["3"]'), false);
  assert.equal(await t('header :count "ge" :comparator "i;ascii-numeric" ["received", "subject"] ["3"]'), true);
  assert.equal(await t('header :count "ge" :comparator "i;ascii-numeric" ["to", "cc"] ["3"]'), false);
  const ext = `require ["relational", "comparator-i;ascii-numeric", "fileinto"];
    if header :value "lt" :comparator "i;ascii-numeric" ["x-priority"] ["3"] { fileinto "Priority"; }
    elsif address :count "gt" :comparator "i;ascii-numeric" ["to"] ["5"] { fileinto "SPAM"; }
    elsif address :value "gt" :all :comparator "i;ascii-casemap" ["from"] ["M"] { fileinto "From N-Z"; }
    else { fileinto "From A-M"; }
    if allof (address :count "eq" :comparator "i;ascii-numeric" ["to", "cc"] ["1"],
              address :all :comparator "i;ascii-casemap" ["to", "cc"] ["me@foo.example.com"]) { fileinto "Only me"; }`;
  assert.deepEqual((await run(ext, { headers: ['X-Priority: 1', 'From: zed@x.example', 'To: me@foo.example.com'] })).actions, [fileinto('Priority'), fileinto('Only me')]);
  assert.deepEqual((await run(ext, { headers: ['From: a@x.example', 'To: a@b.c, b@b.c, c@b.c, d@b.c, e@b.c, f@b.c'] })).actions, [fileinto('SPAM')]);
  assert.deepEqual((await run(ext, { headers: ['From: zed@x.example', 'To: me@foo.example.com, x@y.example'] })).actions, [fileinto('From N-Z')]);
  assert.deepEqual((await run(ext, { headers: ['From: adam@x.example', 'To: y@y.example'] })).actions, [fileinto('From A-M')]);
  assert.match(compileError('require "relational"; if header :value "bigger" "a" "b" {}').message, /unknown relational operator "bigger"/);
});

test('RFC 5173 §5–§6: body :raw, :content, :text with a MIME walk, within maxBodyBytes', async () => {
  const mime = {
    headers: ['From: a@b.example', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b1"'],
    body: [
      'preamble',
      '--b1',
      'Content-Type: text/plain; charset=iso-8859-1',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Caf=E9 MAKE MONEY FAST',
      '--b1',
      'Content-Type: text/html',
      '',
      '<p>html part</p>',
      '--b1',
      'Content-Type: application/octet-stream',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('secret attachment').toString('base64'),
      '--b1--',
      '',
    ].join('\r\n'),
  };
  const t = async (test: string, limits = {}): Promise<boolean> =>
    (await run(`require "body"; if ${test} { discard; }`, mime, limits)).actions[0]!.type === 'discard';
  assert.equal(await t('body :text :contains "café make money"'), true);
  assert.equal(await t('body :content "text/html" :contains "html part"'), true);
  assert.equal(await t('body :content "text/html" :contains "money"'), false);
  assert.equal(await t('body :content "application" :contains "secret attachment"'), true);
  assert.equal(await t('body :text :contains "secret attachment"'), false);
  assert.equal(await t('body :raw :contains "Caf=E9"'), true);
  assert.equal(await t('body :raw :contains "preamble"'), true);
  assert.equal(await t('body :contains "html part"'), true);
  // :text reduces HTML to its text (RFC 5173 §5.3); :content gives the markup as written.
  assert.equal(await t('body :text :contains "<p>"'), false);
  assert.equal(await t('body :content "text/html" :contains "<p>html"'), true);
  // Only the first maxBodyBytes are looked at.
  assert.equal(await t('body :raw :contains "secret"', { maxBodyBytes: 20 }), false);
  assert.equal(await t('body :raw :contains "preamble"', { maxBodyBytes: 20 }), true);
  // RFC 5173 §6 example.
  const spam = await run('require ["body", "fileinto"]; if body :text :contains "MAKE MONEY FAST" { discard; }', mime);
  assert.deepEqual(spam.actions, [{ type: 'discard' }]);
});

test('RFC 5429 §2.1/§2.2: reject and ereject; incompatible with vacation and with delivery', async () => {
  assert.deepEqual((await run('require "ereject"; ereject "No thanks";')).actions, [{ type: 'reject', reason: 'No thanks', ereject: true }]);
  const both = await run('require ["reject", "fileinto"]; fileinto "a"; reject "no";');
  assert.deepEqual(both.actions, [{ type: 'keep' }]);
  assert.match(both.error ?? '', /line 1: reject cannot be combined with fileinto/);
  const vac = await run('require ["reject", "vacation"]; reject "no"; vacation "away";', { headers: ['To: user@example.com'] });
  assert.match(vac.error ?? '', /vacation cannot be combined with reject/);
  assert.deepEqual((await run('require "reject"; reject "no"; discard;')).actions, [{ type: 'reject', reason: 'no', ereject: false }, { type: 'discard' }]);
});

test('RFC 5260 §4.4 and §5.1: date and currentdate', async () => {
  const boss = `require ["date", "relational", "fileinto"];
    if allof(header :is "from" "boss@example.com",
             date :value "ge" :originalzone "date" "hour" "09",
             date :value "lt" :originalzone "date" "hour" "17") { fileinto "urgent"; }`;
  assert.deepEqual((await run(boss, { headers: ['From: boss@example.com', 'Date: Tue, 1 Apr 1997 09:06:31 -0800 (PST)'] })).actions, [fileinto('urgent')]);
  assert.deepEqual((await run(boss, { headers: ['From: boss@example.com', 'Date: Tue, 1 Apr 1997 08:06:31 -0800'] })).actions, [{ type: 'keep' }]);
  assert.deepEqual((await run(boss, { headers: ['From: boss@example.com'] })).actions, [{ type: 'keep' }]);
  // Saturday noon UTC is Saturday or Sunday in every zone the machine may be in.
  const weekend = 'require ["date", "relational", "fileinto"]; if anyof(date :is "received" "weekday" "0", date :is "received" "weekday" "6") { fileinto "weekend"; }';
  assert.deepEqual((await run(weekend, { headers: ['Received: from x by y; Sat, 6 Dec 2025 12:00:00 +0000', 'Received: from a by b; Mon, 1 Dec 2025 12:00:00 +0000'] })).actions, [fileinto('weekend')]);
  const parts = async (part: string, zone = '+0000'): Promise<string> => {
    const out = await run(`require ["date", "variables", "fileinto"]; if date :zone "${zone}" :matches "date" "${part}" "*" { fileinto "\${0}"; }`, {
      headers: ['Date: Tue, 1 Apr 1997 09:06:31 -0800'],
    });
    return (out.actions[0] as { mailbox: string }).mailbox;
  };
  assert.equal(await parts('date'), '1997-04-01');
  assert.equal(await parts('time'), '17:06:31');
  assert.equal(await parts('iso8601'), '1997-04-01T17:06:31+00:00');
  assert.equal(await parts('std11', '-0800'), 'Tue, 1 Apr 1997 09:06:31 -0800');
  assert.equal(await parts('zone', '+0530'), '+0530');
  assert.equal(await parts('julian'), '50539');
  assert.equal(await parts('weekday'), '2');
  assert.equal(await parts('year'), '1997');
  const now = new Date('2007-07-01T10:00:00Z');
  const inJuly = `require ["date", "relational", "vacation"];
    if allof(currentdate :zone "+0000" :value "ge" "date" "2007-06-30", currentdate :zone "+0000" :value "le" "date" "2007-07-07") { vacation :days 7 "I'm away during the first week in July."; }`;
  const v = await run(inJuly, { now, headers: ['From: a@b.example', 'To: user@example.com'] });
  assert.equal(v.actions[0]!.type, 'vacation');
  const month = await run('require ["date", "variables", "fileinto"]; if currentdate :zone "+0000" :matches "month" "*" { set "month" "${1}"; } if currentdate :zone "+0000" :matches "year" "*" { set "year" "${1}"; } fileinto "${month}-${year}";', { now });
  assert.deepEqual(month.actions, [fileinto('07-2007')]);
  assert.match(compileError('require "date"; if currentdate "fortnight" "1" {}').message, /unknown date part "fortnight"/);
  assert.match(compileError('require "date"; if currentdate :zone "CET" "hour" "1" {}').message, /":zone" must be "\+hhmm"/);
});

test('RFC 5228 §2.4.2.4: encoded-character', async () => {
  const B = { headers: ['Subject: $$$ YOU, TOO, CAN BE A MILLIONAIRE! $$$'] };
  assert.deepEqual((await run('require "encoded-character"; if header :contains "Subject" "$${hex:24 24}" { discard; }', B)).actions, [{ type: 'discard' }]);
  const cases: Array<[string, string]> = [
    ['$${hex:40}', '$@'],
    ['${hex: 40 }', '@'],
    ['${HEX: 40}', '@'],
    ['${hex:40', '${hex:40'],
    ['${hex:400}', '${hex:400}'],
    ['${hex:4${hex:30}}', '${hex:40}'],
    ['${unicode:40}', '@'],
    ['${ unicode:40}', '${ unicode:40}'],
    ['${UNICODE:40}', '@'],
    ['${UnICoDE:0000040}', '@'],
    ['${Unicode:40}', '@'],
    ['${hex:C3 A9}', 'é'],
    ['${unicode:1F600}', '😀'],
  ];
  for (const [input, expected] of cases) {
    const out = await run(`require ["encoded-character", "fileinto"]; fileinto "${input}";`);
    assert.deepEqual(out.actions, [fileinto(expected)], input);
  }
  // Without the require, nothing is decoded.
  assert.deepEqual((await run('require "fileinto"; fileinto "${hex:40}";')).actions, [fileinto('${hex:40}')]);
  const bad = compileError('require ["encoded-character", "fileinto"];\nfileinto "${unicode:D800}";');
  assert.deepEqual([bad.line, bad.column], [2, 10]);
  assert.match(bad.message, /not a Unicode character/);
});

test('RFC 5260 §6: index — :index N (and :last) on header, address and date', async () => {
  const headers = [
    'Received: from c by d; Mon, 1 Dec 2025 12:00:00 +0000',
    'Received: from a by b; Sat, 6 Dec 2025 12:00:00 +0000',
    'X-Tag: one',
    'X-Tag: two',
    'X-Tag: three',
    'To: a@first.example',
    'To: b@second.example',
  ];
  const t = async (test: string): Promise<boolean> =>
    (await run(`require ["index", "date"]; if ${test} { discard; }`, { headers })).actions[0]!.type === 'discard';
  assert.equal(await t('header :index 2 "x-tag" "two"'), true);
  assert.equal(await t('header :index 2 "x-tag" "one"'), false);
  assert.equal(await t('header :index 1 :last "x-tag" "three"'), true);
  assert.equal(await t('header :index 3 :last "x-tag" "one"'), true);
  assert.equal(await t('header :index 4 "x-tag" ["one", "two", "three"]'), false);
  assert.equal(await t('address :index 2 :domain "to" "second.example"'), true);
  assert.equal(await t('address :index 1 :domain "to" "second.example"'), false);
  assert.equal(await t('date :zone "+0000" "received" "date" "2025-12-01"'), true);
  assert.equal(await t('date :index 2 :zone "+0000" "received" "date" "2025-12-06"'), true);
  assert.equal(await t('date :index 1 :last :zone "+0000" "received" "weekday" "6"'), true);
  assert.match(compileError('require "index"; if header :last "a" "b" {}').message, /":last" needs ":index"/);
  assert.match(compileError('if header :index 1 "a" "b" {}').message, /":index" needs require "index"/);
  assert.match(compileError('require "index"; if header :index 0 "a" "b" {}').message, /counts from 1/);
});
