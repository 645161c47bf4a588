/**
 * SETMETADATA (RFC 5464 §4.3): sets or (with NIL) removes annotations of a mailbox, or of the
 * server when the name is "" — all of them or, on any NO, none (§4.3).
 *
 * Limits (docs/metadata.md): a value over maxMetadataValueSize is `NO [METADATA MAXSIZE n]`,
 * before the continuation when it comes as a literal (literalTooLargeCode); an annotation beyond
 * maxMetadataEntries for the target is `NO [METADATA TOOMANY]`, counted inside the store's write.
 * Private annotations are kept on every mailbox, so `[METADATA NOPRIVATE]` is never needed.
 * Computed entries — the server's /shared/admin (§3.2.1.1: "always read-only") and a mailbox's
 * /private/specialuse (RFC 6154 §4; set at CREATE, not here) — are refused with NO [NOPERM].
 * Rights (§3.3 with ACL) are the shared view's to check: `l` and one of `r s w i p`, and `w`
 * for /shared entries of another user's mailbox.
 */
import type { CommandSpec } from './types.js';
import type { MetadataWrite } from '../../store/types.js';
import { StoreError } from '../../store/errors.js';
import { atom } from '../wire/types.js';
import { ArgReader, ParseError } from '../wire/args.js';
import { ImapError } from '../errors.js';
import { MAX_ENTRY_NAME_LENGTH } from '../../store/metadata.js';
import { mailboxNameFrom } from './mailbox-name.js';
import { METADATA_CAPABILITIES, SERVER_ADMIN_ENTRY, SPECIAL_USE_ENTRY, entryName, metadataTarget, requireMetadata } from './metadata-common.js';

export interface SetMetadataArgs {
  name: string;
  writes: MetadataWrite[];
}

export const setMetadataCommand: CommandSpec<SetMetadataArgs> = {
  name: 'SETMETADATA',
  states: ['authenticated', 'selected'],
  capabilities: [...METADATA_CAPABILITIES],
  // The literals of SETMETADATA are values (and, rarely, entry names).
  maxLiteralSize: (limits) => Math.max(limits.maxMetadataValueSize, MAX_ENTRY_NAME_LENGTH),
  literalTooLargeCode: (limits) => ({ name: 'METADATA', args: [atom('MAXSIZE'), limits.maxMetadataValueSize] }),
  parse(tokens, env) {
    const r = new ArgReader(tokens);
    const name = mailboxNameFrom(r.bytes('mailbox name'), env.enabled);
    const list = r.list('entry values');
    r.end();
    if (list.remaining === 0) throw new ParseError('Empty entry-value list');
    const writes: MetadataWrite[] = [];
    while (list.remaining > 0) {
      const entry = entryName(list);
      const t = list.next('value');
      if (t.type === 'atom' && !t.section && t.value.toUpperCase() === 'NIL') writes.push({ entry, value: null });
      else if (t.type === 'string') writes.push({ entry, value: t.value });
      else throw new ParseError('Expected a value: a string, a literal or NIL');
    }
    return { name, writes };
  },
  async run(ctx, args) {
    const max = ctx.server.limits.maxMetadataValueSize;
    if (args.writes.some((w) => w.value !== null && w.value.length > max)) {
      throw ImapError.no(`Annotation value larger than ${max} octets`, { name: 'METADATA', args: [atom('MAXSIZE'), max] });
    }
    const target = await metadataTarget(ctx, args.name);
    const mail = requireMetadata(target.mail);
    const computed = target.mailbox === null ? SERVER_ADMIN_ENTRY : SPECIAL_USE_ENTRY;
    if (args.writes.some((w) => w.entry === computed)) {
      // Asked for rights first, so the answer does not tell a mailbox the user cannot see apart.
      await mail.getMetadata(target.mailbox?.id ?? null);
      throw ImapError.no(`${computed} is read-only`, 'NOPERM');
    }
    try {
      await mail.setMetadata(target.mailbox?.id ?? null, args.writes, { maxEntries: ctx.server.limits.maxMetadataEntries });
    } catch (err) {
      if (err instanceof StoreError && err.kind === 'limit') {
        throw ImapError.no(`Too many annotations (limit ${ctx.server.limits.maxMetadataEntries})`, { name: 'METADATA', args: [atom('TOOMANY')] });
      }
      throw err;
    }
    return { text: 'SETMETADATA completed' };
  },
};
