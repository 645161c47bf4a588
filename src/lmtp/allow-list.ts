/**
 * Which client addresses may use the LMTP TCP listener. LMTP has no authentication, so the
 * listener is open only to the MTA's addresses (by default: this machine).
 */
import net from 'node:net';

export const DEFAULT_LMTP_ALLOW_FROM: readonly string[] = ['127.0.0.0/8', '::1'];

export class AllowList {
  private readonly list = new net.BlockList();

  /** `entries`: addresses ("192.0.2.7", "::1") or CIDR ranges ("10.0.0.0/8"). Throws on anything else. */
  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const [address = '', prefix, extra] = entry.trim().split('/');
      const family = net.isIP(address);
      const type = family === 6 ? 'ipv6' : 'ipv4';
      const bits = prefix === undefined ? null : Number(prefix);
      if (family === 0 || extra !== undefined || (bits !== null && (!/^\d+$/.test(prefix!) || bits > (family === 6 ? 128 : 32)))) {
        throw new RangeError(`LMTP allowFrom: "${entry}" is not an IP address or CIDR range`);
      }
      if (bits === null) this.list.addAddress(address, type);
      else this.list.addSubnet(address, bits, type);
    }
  }

  allows(remoteAddress: string | undefined): boolean {
    if (!remoteAddress) return false;
    // A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remoteAddress);
    const address = mapped ? mapped[1]! : remoteAddress;
    const family = net.isIP(address);
    if (family === 0) return false;
    return this.list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  }
}
