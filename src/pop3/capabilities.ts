/**
 * The CAPA list (RFC 2449 §5-6). It depends on the state and on TLS: before login it shows what
 * can be used to log in (USER only where clear-text passwords are allowed, SASL mechanisms, STLS
 * on a plain connection); LOGIN-DELAY and EXPIRE show the per-user value after login and the
 * server-wide bound, tagged USER, before it (§6.5, §6.7).
 */
import { usableSaslMechanisms } from '../auth/sasl/index.js';
import type { Pop3Context } from './commands/types.js';
import { loginDelayFor, plaintextAllowed } from './session/login.js';

export function capabilities(ctx: Pop3Context): string[] {
  const { services, connection, state } = ctx;
  const user = state.name === 'transaction' ? state.user : null;
  const caps = ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING'];
  if (state.name === 'authorization') {
    if (plaintextAllowed(ctx)) caps.push('USER');
    const mechanisms = usableSaslMechanisms(services.auth.authenticator, {
      secure: connection.secure,
      allowInsecureAuth: services.allowInsecureAuth,
    });
    if (mechanisms.length > 0) caps.push(`SASL ${mechanisms.map((m) => m.name).join(' ')}`);
    if (services.tlsContext && !connection.secure) caps.push('STLS');
  }
  const perUser = user === null ? ' USER' : '';
  const delay = loginDelayFor(ctx, user);
  if (delay !== undefined) caps.push(`LOGIN-DELAY ${delay}${typeof services.loginDelay === 'function' ? perUser : ''}`);
  const expire = services.expireTime;
  if (expire !== undefined) {
    const value = typeof expire === 'function' ? expire(user) : expire;
    caps.push(`EXPIRE ${value}${typeof expire === 'function' ? perUser : ''}`);
  }
  caps.push(`IMPLEMENTATION ${services.implementation}`);
  return caps;
}
