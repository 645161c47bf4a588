import type { CommandSpec } from './types.js';
import { ArgReader } from '../wire/args.js';
import { atom } from '../wire/types.js';

/**
 * Extensions ENABLE can turn on in this server (RFC 5161 §3.1: unknown names are ignored).
 * ENABLE runs only in the authenticated state, so enabling CONDSTORE here never owes the client a
 * HIGHESTMODSEQ (RFC 7162 §3.1 asks for one only when a mailbox is selected); the next SELECT sends it.
 */
export const ENABLEABLE = new Set<string>(['CONDSTORE', 'QRESYNC', 'UTF8=ACCEPT', 'IMAP4REV2', 'UIDONLY']);

/** How ENABLED names an extension (the CAPABILITY spelling; names compare case-insensitively). */
const SPELLING: Record<string, string> = { IMAP4REV2: 'IMAP4rev2' };

/** RFC 5161 */
export const enableCommand: CommandSpec<string[]> = {
  name: 'ENABLE',
  states: ['authenticated'],
  // RFC 9586 UIDONLY: after ENABLE UIDONLY no message sequence numbers, in commands or responses.
  capabilities: ['ENABLE', 'UIDONLY'],
  parse(args) {
    const r = new ArgReader(args);
    const names: string[] = [];
    names.push(r.atom('capability').toUpperCase());
    while (r.remaining) names.push(r.atom('capability').toUpperCase());
    return names;
  },
  async run(ctx, names) {
    const newly: string[] = [];
    for (const name of names) {
      if (ENABLEABLE.has(name) && !ctx.enabled.has(name)) {
        ctx.enabled.add(name);
        newly.push(name);
      }
      // RFC 7162 §3.2.3: enabling QRESYNC enables CONDSTORE as well (ENABLED names what was asked).
      if (name === 'QRESYNC') ctx.enabled.add('CONDSTORE');
    }
    ctx.untagged(atom('ENABLED'), ...newly.map((name) => atom(SPELLING[name] ?? name)));
  },
};
