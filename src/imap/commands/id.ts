import type { CommandSpec } from './types.js';
import { ArgReader, ParseError } from '../wire/args.js';
import { atom, type ImapValue } from '../wire/types.js';

/** RFC 2971 §3.3 limits: at most 30 pairs, field names up to 30 octets, values up to 1024. */
const MAX_PAIRS = 30;

/** RFC 2971 — the client's fields are logged; the server answers with its configured identity. */
export const idCommand: CommandSpec<Record<string, string | null> | null> = {
  name: 'ID',
  states: ['notAuthenticated', 'authenticated', 'selected'],
  capabilities: ['ID'],
  parse(args) {
    const r = new ArgReader(args);
    if (r.acceptAtom('NIL')) {
      r.end();
      return null;
    }
    const list = r.list('ID parameter list');
    r.end();
    const fields: Record<string, string | null> = {};
    let pairs = 0;
    while (list.remaining) {
      if (++pairs > MAX_PAIRS) throw new ParseError('Too many ID fields');
      const key = list.string('field name');
      const value = list.nstring('field value');
      if (key.length > 30 || (value && value.length > 1024)) throw new ParseError('ID field too long');
      fields[key] = value;
    }
    return fields;
  },
  async run(ctx, fields) {
    if (fields) ctx.logger.info({ clientId: fields }, 'client ID');
    const values: ImapValue[] = [];
    for (const [k, v] of Object.entries(ctx.server.id)) values.push(k, v);
    ctx.untagged(atom('ID'), values.length ? values : null);
  },
};
