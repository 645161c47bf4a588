import type { CommandSpec } from './types.js';
import { ArgReader } from '../wire/args.js';
import { ParseError } from '../wire/args.js';
import { ImapError } from '../errors.js';

/**
 * RFC 4978 COMPRESS DEFLATE. The session knows nothing of compression beyond this: the connection
 * puts a compression transport (src/net/deflate-transport.ts) on its socket once the tagged OK is
 * out, and everything after that OK is compressed in both directions (§3).
 */
export const compressCommand: CommandSpec<void> = {
  name: 'COMPRESS',
  states: ['authenticated', 'selected'],
  capabilities: ['COMPRESS=DEFLATE'],
  parse(args) {
    const r = new ArgReader(args);
    const mechanism = r.atom('compression mechanism');
    r.end();
    // §3: an unknown mechanism is BAD (DEFLATE is the only one defined).
    if (mechanism.toUpperCase() !== 'DEFLATE') throw new ParseError(`Unknown compression mechanism ${mechanism}`);
  },
  async run(ctx) {
    // §3 and Dovecot: compression already on is refused with COMPRESSIONACTIVE, naming the layer.
    if (ctx.connection.compressed) throw ImapError.no('DEFLATE active via COMPRESS', 'COMPRESSIONACTIVE');
    ctx.startCompression();
    return { text: 'DEFLATE active' };
  },
};
