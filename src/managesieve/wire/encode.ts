/** ManageSieve output (RFC 5804 §4): strings quoted when they can be, literal otherwise; OK/NO/BYE lines. */

/** A string as the server sends it: quoted (≤ 1024 octets, no CR/LF/NUL) or a literal `{n}`. */
export function encodeString(value: string | Buffer): string {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const text = bytes.toString('utf8');
  if (bytes.length <= 1024 && !/[\r\n\0]/.test(text)) return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  return `{${bytes.length}}\r\n${text}`;
}

/** A response code: `QUOTA/MAXSIZE`, `SASL "…"`, `TAG "…"`… */
export type ResponseCode = string;

export function statusLine(status: 'OK' | 'NO' | 'BYE', text?: string, code?: ResponseCode): string {
  let line = status;
  if (code) line += ` (${code})`;
  if (text !== undefined && text !== '') line += ` ${encodeString(text)}`;
  return `${line}\r\n`;
}
