/**
 * A list of IP addresses and CIDR ranges, and the question "is this client address in it?".
 * Used for the LMTP allow-list and the proxies trusted to send a PROXY protocol header.
 */
import net from 'node:net';

export class AddressList {
  private readonly list = new net.BlockList();
  readonly size: number;

  /**
   * `entries`: addresses ("192.0.2.7", "::1") or CIDR ranges ("10.0.0.0/8"). Throws a RangeError
   * starting with `what` on anything else.
   */
  constructor(entries: readonly string[], what = 'address list') {
    for (const entry of entries) {
      const [address = '', prefix, extra] = entry.trim().split('/');
      const family = net.isIP(address);
      const type = family === 6 ? 'ipv6' : 'ipv4';
      const bits = prefix === undefined ? null : Number(prefix);
      if (family === 0 || extra !== undefined || (bits !== null && (!/^\d+$/.test(prefix!) || bits > (family === 6 ? 128 : 32)))) {
        throw new RangeError(`${what}: "${entry}" is not an IP address or CIDR range`);
      }
      if (bits === null) this.list.addAddress(address, type);
      else this.list.addSubnet(address, bits, type);
    }
    this.size = entries.length;
  }

  includes(remoteAddress: string | undefined): boolean {
    if (!remoteAddress) return false;
    const address = unmapIPv4(remoteAddress);
    const family = net.isIP(address);
    if (family === 0) return false;
    return this.list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  }
}

/** A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d; this gives a.b.c.d. */
export function unmapIPv4(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}
