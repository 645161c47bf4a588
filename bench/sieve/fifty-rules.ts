/**
 * The 50-rule Sieve script of `bench:lmtp`'s Sieve rows, the same text for Postroom and for
 * Dovecot's Pigeonhole, and the message variants that exercise it. Rules of the kinds people
 * write: mailing lists by List-Id, partners by sender domain (address tests), tickets by subject
 * (:matches), alerts by recipient local part, spam senders by envelope, invoices (allof), with
 * fileinto :create, flags and stop. Most messages run through all 50 rules and are kept with a
 * flag; one in ten is filed to a list folder early, one in ten to Tickets half-way.
 */
const rules: string[] = [];
for (let n = 1; n <= 10; n++) rules.push(`if header :contains "list-id" "<list${n}.lists.example.org>" { fileinto :create "Lists/list${n}"; stop; }`);
for (let n = 1; n <= 10; n++) rules.push(`if address :is :domain "from" "partner${n}.example.com" { addflag "$Partner"; }`);
for (let n = 1; n <= 10; n++) rules.push(`if header :matches "subject" "*[ticket #${n}]*" { fileinto :create "Tickets"; stop; }`);
for (let n = 1; n <= 10; n++) rules.push(`if address :localpart :is "to" "alerts${n}" { addflag "\\\\Flagged"; }`);
for (let n = 1; n <= 5; n++) rules.push(`if envelope :is :domain "from" "spam${n}.example.net" { discard; stop; }`);
for (let n = 1; n <= 4; n++) rules.push(`if allof (header :contains "subject" "invoice", address :is :domain "from" "billing${n}.example.com") { fileinto :create :flags "$Invoice" "Invoices"; stop; }`);
rules.push('if header :matches "from" "*@bench.test*" { addflag "$Bench"; }');

export const FIFTY_RULE_SCRIPT = `require ["fileinto", "mailbox", "imap4flags", "envelope"];\r\n${rules.join('\r\n')}\r\n`;

if (rules.length !== 50) throw new Error(`the benchmark script has ${rules.length} rules, not 50`);

/** Extra header fields of message `seq` (before the common header). */
export function sieveVariant(seq: number): string {
  if (seq % 10 === 0) return `List-Id: Announcements <list${1 + (seq % 7)}.lists.example.org>\r\n`;
  if (seq % 10 === 5) return `Subject: Re: [ticket #${1 + (seq % 9)}] the printer again\r\n`;
  return '';
}
