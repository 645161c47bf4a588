/** serve's PROXY protocol settings, shared by the IMAP/POP3 listeners and LMTP. */
import type { ServeSettings } from '../config/settings.js';
import { PROXY_DEFAULTS, type ProxyProtocolOptions } from '../net/proxy-gate.js';

/** The PROXY protocol settings (trustedProxies, proxyLimits) as the servers take them; undefined: off. */
export function proxyProtocolOptions(settings: ServeSettings): ProxyProtocolOptions | undefined {
  if (settings.trustedProxies.length === 0) return undefined;
  const limits = settings.proxyLimits ?? {};
  for (const name of Object.keys(limits)) {
    if (!(name in PROXY_DEFAULTS)) throw new Error(`proxyLimits.${name}: unknown limit (known: ${Object.keys(PROXY_DEFAULTS).join(', ')})`);
  }
  return { trustedProxies: settings.trustedProxies, ...limits };
}
