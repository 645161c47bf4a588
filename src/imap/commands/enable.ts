import type { CommandSpec } from './types.js';
import { ArgReader } from '../wire/args.js';
import { atom } from '../wire/types.js';

/** Extensions ENABLE can turn on in this server (RFC 5161 §3.1: unknown names are ignored). */
export const ENABLEABLE = new Set<string>([]);

/** RFC 5161 */
export const enableCommand: CommandSpec<string[]> = {
  name: 'ENABLE',
  states: ['authenticated'],
  capabilities: ['ENABLE'],
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
    }
    ctx.untagged(atom('ENABLED'), ...newly.map(atom));
  },
};
