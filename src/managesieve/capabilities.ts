/** The capability lines (RFC 5804 §1.7): in the greeting, for CAPABILITY, and after STARTTLS. */
import { usableSaslMechanisms } from '../auth/sasl/index.js';
import type { ManageSieveContext } from './types.js';
import { encodeString } from './wire/encode.js';

export function capabilityLines(ctx: ManageSieveContext): string[] {
  const { services } = ctx;
  const sasl = ctx.user === undefined ? usableSaslMechanisms(services.auth, { secure: ctx.secure, allowInsecureAuth: services.allowInsecureAuth }).map((m) => m.name) : [];
  const line = (name: string, value?: string): string => `${encodeString(name)}${value === undefined ? '' : ` ${encodeString(value)}`}\r\n`;
  const lines = [
    line('IMPLEMENTATION', services.implementation),
    line('SASL', sasl.join(' ')),
    line('SIEVE', services.extensions.join(' ')),
    line('MAXREDIRECTS', String(services.maxRedirects)),
  ];
  // §1.7: not once TLS is on or the user has logged in.
  if (services.tlsContext && !ctx.secure && ctx.user === undefined) lines.push(line('STARTTLS'));
  if (ctx.user !== undefined) lines.push(line('OWNER', ctx.user));
  lines.push(line('UNAUTHENTICATE'));
  lines.push(line('VERSION', '1.0'));
  return lines;
}
