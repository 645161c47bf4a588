/**
 * The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2): what a proxy in
 * front of the server sends first on each connection to say who the client really is.
 *
 * parseProxyHeader() reads the bytes received so far and says whether they hold a complete header,
 * need more bytes, or can never be one. It never looks past the header, so whatever follows (a TLS
 * ClientHello, an LMTP command) stays for the protocol.
 *
 * Version 1 is one text line of at most 107 bytes: `PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n`, or
 * `PROXY UNKNOWN …\r\n` (then the connection's own endpoints count). Version 2 is binary: a 12-byte
 * signature, version and command, family and transport, a 16-bit length, the addresses, then
 * type-length-value extensions (TLVs), which are checked for shape and skipped. The LOCAL command
 * (a proxy's own health check) and the UNSPEC and UNIX families carry no client IP address: the
 * connection's own endpoints count, as the spec asks.
 */
import net from 'node:net';

export const PROXY_V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** The longest version-1 line the spec allows, CRLF included (§2.1). */
export const PROXY_V1_MAX_BYTES = 107;
const V2_FIXED = 16;

export interface ProxyHeader {
  version: 1 | 2;
  /**
   * `proxy`: a relayed connection with the client's address in `source`. `local`: the proxy's own
   * connection (health check) or an address the proxy could not give (v1 UNKNOWN, v2 UNSPEC or
   * UNIX): use the connection's own endpoints.
   */
  command: 'proxy' | 'local';
  family: 'tcp4' | 'tcp6' | 'unix' | 'unspec';
  /** The client's address and port (only when command is `proxy` and family tcp4/tcp6). */
  source?: { address: string; port: number };
  destination?: { address: string; port: number };
  /** For the UNIX family: the client's socket path, as sent (may be empty). */
  unixSource?: string;
  /** Bytes the header took: the protocol's own bytes start after them. */
  length: number;
}

export type ProxyParse = { status: 'incomplete' } | { status: 'invalid'; reason: string } | { status: 'done'; header: ProxyHeader };

/** True when `bytes` (at least 1 byte) could be the start of a version 1 or 2 header. */
export function mayBeProxyHeader(bytes: Buffer): boolean {
  const n = Math.min(bytes.length, PROXY_V2_SIGNATURE.length);
  if (n === 0) return true;
  return bytes.subarray(0, Math.min(n, V1_PREFIX.length)).equals(V1_PREFIX.subarray(0, Math.min(n, V1_PREFIX.length))) || bytes.subarray(0, n).equals(PROXY_V2_SIGNATURE.subarray(0, n));
}

/**
 * Parses the header at the start of `bytes`. `maxBytes` bounds a version-2 header (addresses and
 * TLVs): a longer one is invalid, so a proxy (or an impostor) cannot make the server buffer 64 KiB.
 */
export function parseProxyHeader(bytes: Buffer, maxBytes = 4096): ProxyParse {
  if (bytes.length === 0) return { status: 'incomplete' };
  if (!mayBeProxyHeader(bytes)) return { status: 'invalid', reason: 'the connection did not start with a PROXY protocol header' };
  if (bytes[0] === 0x50) return parseV1(bytes);
  return parseV2(bytes, maxBytes);
}

function parseV1(bytes: Buffer): ProxyParse {
  const end = bytes.indexOf('\r\n', 0, 'latin1');
  if (end < 0) {
    return bytes.length >= PROXY_V1_MAX_BYTES ? { status: 'invalid', reason: `PROXY v1 header longer than ${PROXY_V1_MAX_BYTES} bytes` } : { status: 'incomplete' };
  }
  const length = end + 2;
  if (length > PROXY_V1_MAX_BYTES) return { status: 'invalid', reason: `PROXY v1 header longer than ${PROXY_V1_MAX_BYTES} bytes` };
  const line = bytes.toString('latin1', 0, end);
  const parts = line.split(' ');
  if (parts[1] === 'UNKNOWN') return { status: 'done', header: { version: 1, command: 'local', family: 'unspec', length } };
  if (parts.length !== 6) return { status: 'invalid', reason: 'PROXY v1 header: expected "PROXY TCP4|TCP6 SRC DST SPORT DPORT"' };
  const [, proto, src, dst, sport, dport] = parts as [string, string, string, string, string, string];
  const family = proto === 'TCP4' ? 4 : proto === 'TCP6' ? 6 : 0;
  if (family === 0) return { status: 'invalid', reason: `PROXY v1 header: unknown protocol "${printable(proto)}"` };
  if (net.isIP(src) !== family || net.isIP(dst) !== family) return { status: 'invalid', reason: `PROXY v1 header: addresses are not ${proto} addresses` };
  const sourcePort = v1Port(sport);
  const destinationPort = v1Port(dport);
  if (sourcePort === null || destinationPort === null) return { status: 'invalid', reason: 'PROXY v1 header: a port is not a number from 0 to 65535' };
  return {
    status: 'done',
    header: {
      version: 1,
      command: 'proxy',
      family: family === 4 ? 'tcp4' : 'tcp6',
      source: { address: src, port: sourcePort },
      destination: { address: dst, port: destinationPort },
      length,
    },
  };
}

/** A decimal port without leading zeros (§2.1), 0 to 65535. */
function v1Port(text: string): number | null {
  if (!/^(0|[1-9]\d{0,4})$/.test(text)) return null;
  const n = Number(text);
  return n <= 65535 ? n : null;
}

function parseV2(bytes: Buffer, maxBytes: number): ProxyParse {
  if (bytes.length < V2_FIXED) return { status: 'incomplete' };
  const versionCommand = bytes[12]!;
  if (versionCommand >> 4 !== 2) return { status: 'invalid', reason: `PROXY v2 header: version ${versionCommand >> 4} (only 2 exists)` };
  const commandBits = versionCommand & 0x0f;
  // Unassigned commands must make the receiver drop the connection (§2.2).
  if (commandBits > 1) return { status: 'invalid', reason: `PROXY v2 header: unknown command ${commandBits}` };
  const familyBits = bytes[13]! >> 4;
  const transport = bytes[13]! & 0x0f;
  const blockLength = bytes.readUInt16BE(14);
  const length = V2_FIXED + blockLength;
  if (length > maxBytes) return { status: 'invalid', reason: `PROXY v2 header of ${length} bytes, more than the ${maxBytes} allowed (proxyHeaderMaxBytes)` };
  if (familyBits > 3 || transport > 2) return { status: 'invalid', reason: 'PROXY v2 header: unknown address family or transport' };
  if (bytes.length < length) return { status: 'incomplete' };
  const block = bytes.subarray(V2_FIXED, length);
  const family = (['unspec', 'tcp4', 'tcp6', 'unix'] as const)[familyBits]!;
  // LOCAL (the proxy's own connection, e.g. a health check) and UNSPEC: the whole block is
  // skipped unread and the connection's own endpoints count (§2.2).
  if (commandBits === 0 || family === 'unspec') return { status: 'done', header: { version: 2, command: 'local', family, length } };
  const addressLength = [0, 12, 36, 216][familyBits]!;
  if (block.length < addressLength) return { status: 'invalid', reason: 'PROXY v2 header: address block shorter than its family needs' };
  const tlvs = checkTlvs(block.subarray(addressLength));
  if (tlvs) return { status: 'invalid', reason: `PROXY v2 header: ${tlvs}` };
  if (family === 'unix') {
    const nul = block.indexOf(0);
    const path = block.toString('latin1', 0, nul >= 0 && nul < 108 ? nul : 108);
    return { status: 'done', header: { version: 2, command: 'local', family, unixSource: path, length } };
  }
  const size = family === 'tcp4' ? 4 : 16;
  const source = ipText(block.subarray(0, size));
  const destination = ipText(block.subarray(size, 2 * size));
  const sourcePort = block.readUInt16BE(2 * size);
  const destinationPort = block.readUInt16BE(2 * size + 2);
  return {
    status: 'done',
    header: { version: 2, command: 'proxy', family, source: { address: source, port: sourcePort }, destination: { address: destination, port: destinationPort }, length },
  };
}

/** Null when the TLVs tile the rest of the block exactly; else why not. Their contents are not used. */
function checkTlvs(rest: Buffer): string | null {
  let at = 0;
  while (at < rest.length) {
    if (rest.length - at < 3) return 'a TLV is cut short';
    const valueLength = rest.readUInt16BE(at + 1);
    at += 3 + valueLength;
    if (at > rest.length) return 'a TLV runs past the header';
  }
  return null;
}

function ipText(raw: Buffer): string {
  if (raw.length === 4) return `${raw[0]}.${raw[1]}.${raw[2]}.${raw[3]}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(raw.readUInt16BE(i).toString(16));
  // Node's own canonical form (compressed zeros), as socket.remoteAddress would give it.
  const text = groups.join(':');
  return new net.SocketAddress({ address: text, family: 'ipv6' }).address;
}

function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 20);
}
