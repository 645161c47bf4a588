/**
 * What a script's actions mean for a message already in a mailbox (RFC 6785 §3):
 *
 *   keep (explicit or implicit)  the message stays; with imap4flags its flags become the keep's
 *                                (§3.8: "as though a client had made the change"); header edits
 *                                are not kept (§3.1, §3.7: messages are immutable)
 *   fileinto                     a new copy in that mailbox (§3.3), with the action's flags and
 *                                header edits; never an event of its own (§6)
 *   redirect                     sent through the relay, from the user's address (§3.4)
 *   discard                      nothing is kept (§3.5)
 *
 * When no keep is in effect at the end the message is marked \Deleted (§2.2.4), and expunged
 * too with `expungeDiscarded` (alone, as a UID EXPUNGE of it would). An action that fails —
 * fileinto a mailbox that does not exist, a redirect without a relay — is logged and the message
 * is then not marked: nothing is lost to a script.
 */
import type { SieveAction } from '../sieve/types.js';
import type { MailSender } from '../delivery/sender.js';
import { LOOP_HEADER } from '../delivery/sieve-filter.js';
import { isStoreError } from '../store/errors.js';
import type { Flag, MailboxInfo, MessageRecord, UserMailbox } from '../store/types.js';
import type { Logger } from '../util/logger.js';

export interface CarryContext {
  /** A handle of the user's that reports no events (RFC 6785 §6: actions raise none). */
  mail: UserMailbox;
  mailbox: MailboxInfo;
  record: MessageRecord;
  /** The message's header section as stored (edited headers of actions replace it). */
  header: Buffer;
  /** The user's address: redirect's MAIL FROM (§3.4). */
  email: string;
  sender: MailSender | undefined;
  expungeDiscarded: boolean;
  log: Logger;
}

export async function carryOut(actions: readonly SieveAction[], c: CarryContext): Promise<void> {
  const { mail, mailbox, record } = c;
  let kept = false;
  let failed = false;
  for (const action of actions) {
    switch (action.type) {
      case 'keep':
        kept = true;
        if (action.flags !== undefined && !sameFlags(current(record.flags), action.flags)) {
          await mail.updateFlags(mailbox.id, [record.uid], 'set', [...action.flags]);
        }
        break;
      case 'fileinto':
        if (!(await fileInto(action, c))) failed = true;
        break;
      case 'redirect':
        if (!(await redirect(action, c))) failed = true;
        break;
      case 'discard':
        break;
      default:
        // reject, ereject and vacation end the run before it acts (src/sieve/run.ts).
        c.log.warn({ action: action.type }, 'IMAP Sieve: an action that applies only at delivery was ignored');
        failed = true;
    }
  }
  if (kept || failed) return;
  await mail.updateFlags(mailbox.id, [record.uid], 'add', ['\\Deleted']);
  if (c.expungeDiscarded) await mail.expunge(mailbox.id, [record.uid]);
}

/** The flags a message carries for a script: its own, without the session's \Recent. */
export function current(flags: readonly Flag[]): Flag[] {
  return flags.filter((f) => f.toLowerCase() !== '\\recent');
}

function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  const x = new Set(a.map((f) => f.toLowerCase()));
  const y = new Set(b.map((f) => f.toLowerCase()));
  return x.size === y.size && [...x].every((f) => y.has(f));
}

async function fileInto(action: Extract<SieveAction, { type: 'fileinto' }>, c: CarryContext): Promise<boolean> {
  const { mail, mailbox, record } = c;
  let target: MailboxInfo | null = null;
  try {
    target = await mail.get(action.mailbox);
  } catch (err) {
    if (!(isStoreError(err) && err.kind === 'nonexistent')) throw err;
  }
  if (!target || target.noselect) {
    if (!action.create) {
      c.log.warn({ mailbox: action.mailbox }, 'IMAP Sieve fileinto: no such mailbox (and no :create); the message stays');
      return false;
    }
    // RFC 5490 :create; CREATE of a \Noselect name makes it a mailbox (RFC 3501 §6.3.3).
    target = await mail.create(action.mailbox);
  }
  if (target.id === mailbox.id) return true; // the message is there already (Pigeonhole: a redundant store)
  if (action.header) {
    // editheader changed it: the copy is the edited header and the stored body.
    const whole = await mail.read(mailbox.id, record.uid);
    const content = Buffer.concat([action.header, whole.subarray(c.header.length)]);
    await mail.append(target.id, { content, flags: [...(action.flags ?? current(record.flags))], internalDate: record.internalDate });
    return true;
  }
  const copied = await mail.copy(mailbox.id, [record.uid], target.id);
  const uid = copied.mapping[0]?.[1];
  if (uid === undefined) return false; // expunged meanwhile
  if (action.flags !== undefined && !sameFlags(current(record.flags), action.flags)) await mail.updateFlags(target.id, [uid], 'set', [...action.flags]);
  return true;
}

async function redirect(action: Extract<SieveAction, { type: 'redirect' }>, c: CarryContext): Promise<boolean> {
  if (!c.sender) {
    c.log.warn({ address: action.address }, 'IMAP Sieve redirect not sent: no sieveRelay is configured; the message stays');
    return false;
  }
  try {
    const whole = await c.mail.read(c.mailbox.id, c.record.uid);
    const body = action.header ? Buffer.concat([action.header, whole.subarray(c.header.length)]) : whole;
    // RFC 6785 §3.4: MAIL FROM is the address of the mailbox's owner; the loop header as at delivery.
    await c.sender.send({ from: c.email, to: [action.address] }, Buffer.concat([Buffer.from(`${LOOP_HEADER}: ${c.email}\r\n`), body]));
    c.log.info({ address: action.address }, 'IMAP Sieve redirect sent');
    return true;
  } catch (err) {
    c.log.error({ err, address: action.address }, 'IMAP Sieve redirect could not be sent; the message stays');
    return false;
  }
}
