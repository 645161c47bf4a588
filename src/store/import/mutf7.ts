/**
 * Modified UTF-7 (RFC 3501 §5.1.3) as Dovecot and Courier use it for Maildir++ folder names on
 * disk. The reader is lenient (it accepts what real servers wrote), unlike the IMAP wire decoder,
 * which must insist on canonical spellings.
 */

function utf16beToString(bytes: Buffer): string {
  const swapped = Buffer.alloc(bytes.length - (bytes.length % 2));
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    swapped[i] = bytes[i + 1]!;
    swapped[i + 1] = bytes[i]!;
  }
  return swapped.toString('utf16le');
}

export function decodeFolderName(text: string): string {
  return text.replace(/&([^-]*)-/g, (_, b64: string) => (b64 === '' ? '&' : utf16beToString(Buffer.from(b64.replace(/,/g, '/'), 'base64'))));
}

export function encodeFolderName(name: string): string {
  let out = '';
  let run = '';
  const flush = (): void => {
    if (run === '') return;
    const le = Buffer.from(run, 'utf16le');
    const be = Buffer.alloc(le.length);
    for (let i = 0; i < le.length; i += 2) {
      be[i] = le[i + 1]!;
      be[i + 1] = le[i]!;
    }
    out += `&${be.toString('base64').replace(/=+$/, '').replace(/\//g, ',')}-`;
    run = '';
  };
  for (const ch of name) {
    const code = ch.codePointAt(0)!;
    if (code >= 0x20 && code <= 0x7e) {
      flush();
      out += ch === '&' ? '&-' : ch;
    } else run += ch;
  }
  flush();
  return out;
}
