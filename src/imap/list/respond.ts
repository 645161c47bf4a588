/**
 * Writes LIST/LSUB results: `* LIST (attrs) "/" name [extended items]`, each optionally followed by
 * its `* STATUS` (RFC 5819 LIST-STATUS).
 */
import type { CommandContext } from '../commands/types.js';
import { atom, type ImapValue } from '../wire/types.js';
import { encodeResponse } from '../wire/encoder.js';
import type { UserMailbox } from '../../store/types.js';
import { StoreError } from '../../store/errors.js';
import { mailboxNameValue, utf8Names } from '../commands/mailbox-name.js';
import { statusValues, type StatusItem } from '../commands/status.js';
import type { ListEntry } from './select.js';

/** Flush to the socket every so many responses so a huge tree cannot pile up in memory. */
export const DRAIN_EVERY = 256;

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
    ctx.untagged(...listValues(options.response, entry, attributes, delimiter, name));
    if (status) ctx.untagged(atom('STATUS'), name, status);
    if (++written % DRAIN_EVERY === 0) await ctx.drain();
  }
}

/**
 * The LIST/LSUB lines of `entries` (no STATUS) as one Buffer — the bytes writeListEntries would
 * send — for list.ts to keep (answer-memo.ts). Undefined when a line does not encode to plain bytes.
 */
export function encodeListEntries(entries: readonly ListEntry[], options: Omit<WriteListOptions, 'status'>, enabled: ReadonlySet<string>): Buffer | undefined {
  const delimiter: ImapValue = options.delimiter === '' ? null : options.delimiter;
  const utf8 = utf8Names(enabled);
  const lines: Buffer[] = [];
  let size = 0;
  for (const entry of entries) {
    const values = listValues(options.response, entry, entry.attributes, delimiter, mailboxNameValue(entry.name, enabled));
    for (const chunk of encodeResponse({ type: 'data', values }, { utf8 })) {
      if (!Buffer.isBuffer(chunk)) return undefined;
      lines.push(chunk);
      size += chunk.length;
    }
  }
  // Its own memory, not a slice of Node's shared 8 KB pool: the answer may be kept for long
  // (answer-memo.ts), and a kept slice would keep its whole pool chunk alive.
  const out = Buffer.allocUnsafeSlow(size);
  let at = 0;
  for (const line of lines) at += line.copy(out, at);
  return out;
}

function listValues(response: 'LIST' | 'LSUB', entry: ListEntry, attributes: readonly string[], delimiter: ImapValue, name: ImapValue): ImapValue[] {
  const values: ImapValue[] = [atom(response), attributes.map(atom), delimiter, name];
  // RFC 5258 §6 childinfo-extended-item: the selection options are always quoted.
  if (entry.childInfo) values.push(['CHILDINFO', [...entry.childInfo]]);
  return values;
}
