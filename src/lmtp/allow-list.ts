/**
 * Which client addresses may use the LMTP TCP listener. LMTP has no authentication, so the
 * listener is open only to the MTA's addresses (by default: this machine).
 */
import { AddressList } from '../net/address-list.js';

export const DEFAULT_LMTP_ALLOW_FROM: readonly string[] = ['127.0.0.0/8', '::1'];

export class AllowList {
  private readonly list: AddressList;

  /** `entries`: addresses ("192.0.2.7", "::1") or CIDR ranges ("10.0.0.0/8"). Throws on anything else. */
  constructor(entries: readonly string[]) {
    this.list = new AddressList(entries, 'LMTP allowFrom');
  }

  allows(remoteAddress: string | undefined): boolean {
    return this.list.includes(remoteAddress);
  }
}
