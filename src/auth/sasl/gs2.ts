/**
 * The GS2 header that SCRAM (RFC 5802 §7) and OAUTHBEARER (RFC 7628 §3.1) start with:
 * `gs2-cbind-flag "," [ "a=" saslname ] ","`.
 */
import { decodeSaslString } from './utf8.js';

export interface Gs2Header {
  /** 'n': client does not support channel binding; 'y': supports it but thinks the server does not; 'p': uses it. */
  cbindFlag: 'n' | 'y' | 'p';
  /** Channel binding type after `p=`. */
  cbName?: string;
  /** Decoded authorization identity, '' when absent. */
  authzid: string;
  /** The header's exact text, which SCRAM echoes back in `c=`. */
  raw: string;
  /** Everything after the header. */
  rest: string;
}

/**
 * Decodes a saslname: `=2C` is ",", `=3D` is "=", any other "=" is an error (RFC 5802 §5.1), as
 * is a bare "," (it ends the field).
 */
export function decodeSaslName(text: string): string | null {
  if (text.includes(',')) return null;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch !== '=') {
      out += ch;
      continue;
    }
    const code = text.slice(i + 1, i + 3);
    if (code === '2C') out += ',';
    else if (code === '3D') out += '=';
    else return null;
    i += 2;
  }
  return out;
}

/** Parses the header from the start of `message` (already valid UTF-8, no NUL); null when malformed. */
export function parseGs2Header(message: string): Gs2Header | null {
  const first = message.indexOf(',');
  if (first < 0) return null;
  const flag = message.slice(0, first);
  const second = message.indexOf(',', first + 1);
  if (second < 0) return null;
  const authzField = message.slice(first + 1, second);
  let cbindFlag: Gs2Header['cbindFlag'];
  let cbName: string | undefined;
  if (flag === 'n' || flag === 'y') cbindFlag = flag;
  else if (/^p=[A-Za-z0-9.-]+$/.test(flag)) {
    cbindFlag = 'p';
    cbName = flag.slice(2);
  } else return null;
  let authzid = '';
  if (authzField !== '') {
    if (!authzField.startsWith('a=')) return null;
    const decoded = decodeSaslName(authzField.slice(2));
    if (decoded === null || decoded === '') return null;
    authzid = decoded;
  }
  return { cbindFlag, ...(cbName === undefined ? {} : { cbName }), authzid, raw: message.slice(0, second + 1), rest: message.slice(second + 1) };
}

/** Decodes a whole client message as strict UTF-8 (NUL refused); null when it is not. */
export function utf8Message(bytes: Buffer): string | null {
  return decodeSaslString(bytes);
}
