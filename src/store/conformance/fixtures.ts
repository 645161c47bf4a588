/** Test messages for the conformance suite (CRLF line ends, as IMAP APPEND delivers them). */

export function crlf(lines: string[]): Buffer {
  return Buffer.from(lines.join('\r\n'), 'utf8');
}

export interface SimpleMessage {
  from?: string;
  to?: string;
  subject?: string;
  date?: string;
  body?: string;
  extra?: string[];
}

export function simpleMessage(m: SimpleMessage = {}): Buffer {
  return crlf([
    `From: ${m.from ?? 'Alice <alice@example.org>'}`,
    `To: ${m.to ?? 'Bob <bob@example.net>'}`,
    `Subject: ${m.subject ?? 'Hello'}`,
    `Date: ${m.date ?? 'Mon, 7 Feb 1994 21:52:25 -0800'}`,
    'Message-ID: <conformance@example.org>',
    ...(m.extra ?? []),
    '',
    m.body ?? 'Hello World',
    '',
  ]);
}

/** A multipart message whose searchable text is only visible after decoding. */
export const encodedMessage = crlf([
  'From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.de>',
  'To: team@example.de',
  'Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=',
  'Date: Tue, 1 Jul 2003 23:30:00 -0700',
  'X-Tracking: alpha-7',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b1"',
  '',
  'preamble is not body text',
  '--b1',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Die Stra=C3=9Fe ist gesperrt, sagt der B=C3=A4cker.',
  '--b1',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.from('Secret word: zebracorn\r\n', 'utf8').toString('base64'),
  '--b1--',
  '',
]);

/** Bytes that must survive exactly: 8-bit text, a NUL, bare LF and trailing garbage. */
export const awkwardMessage = Buffer.concat([
  crlf(['Subject: bytes', 'Content-Type: application/octet-stream', 'Content-Transfer-Encoding: binary', '', '']),
  Buffer.from([0x00, 0xff, 0xfe, 0x0a, 0x0d, 0x0a, 0xc3, 0x28, 0x41]),
]);

export function bigMessage(octets: number): Buffer {
  const head = crlf(['Subject: big', 'Content-Type: text/plain', '', '']);
  const line = 'The quick brown fox jumps over the lazy dog 0123456789.\r\n';
  const body = Buffer.from(line.repeat(Math.ceil(octets / line.length)), 'ascii');
  return Buffer.concat([head, body]).subarray(0, Math.max(octets, head.length));
}
