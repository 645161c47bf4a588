/**
 * Writes LIST/LSUB results: `* LIST (attrs) "/" name [extended items]`, each optionally followed by
 * its `* STATUS` (RFC 5819 LIST-STATUS).
 */
import type { CommandContext } from '../commands/types.js';
import { atom, type ImapValue } from '../wire/types.js';
import type { UserMailbox } from '../../store/types.js';
import { StoreError } from '../../store/errors.js';
import { mailboxNameValue } from '../commands/mailbox-name.js';
import { statusValues, type StatusItem } from '../commands/status.js';
import type { ListEntry } from './select.js';

/** Flush to the socket every so many responses so a huge tree cannot pile up in memory. */
const DRAIN_EVERY = 256;

export interface WriteListOptions {
  response: 'LIST' | 'LSUB';
  delimiter: string;
  /** RFC 5819 STATUS return option. */
  status?: readonly StatusItem[];
}

export async function writeListEntries(
  ctx: CommandContext,
  mail: UserMailbox,
  entries: readonly ListEntry[],
  options: WriteListOptions,
): Promise<void> {
  const delimiter: ImapValue = options.delimiter === '' ? null : options.delimiter;
  let written = 0;
  for (const entry of entries) {
    let attributes = entry.attributes;
    let status: ImapValue[] | undefined;
    if (options.status && entry.statusable && entry.mailbox) {
      try {
        status = await statusValues(ctx, mail, entry.mailbox, options.status);
      } catch (err) {
        if (!(err instanceof StoreError)) throw err;
        // RFC 5819 §2: the mailbox vanished between LIST and STATUS — no STATUS, and LIST must
        // then say \Noselect.
        if (err.kind === 'nonexistent') attributes = ['\\Noselect', ...attributes.filter((a) => a !== '\\Noselect')];
      }
    }
    const name = mailboxNameValue(entry.name, ctx.enabled);
    const values: ImapValue[] = [atom(options.response), attributes.map(atom), delimiter, name];
    // RFC 5258 §6 childinfo-extended-item: the selection options are always quoted.
    if (entry.childInfo) values.push(['CHILDINFO', [...entry.childInfo]]);
    ctx.untagged(...values);
    if (status) ctx.untagged(atom('STATUS'), name, status);
    if (++written % DRAIN_EVERY === 0) await ctx.drain();
  }
}
