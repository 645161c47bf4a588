/**
 * A seeded generator of varied RFC 5322 messages that also says, independently of Postroom's MIME
 * parser, what their structure is: multipart/alternative inside multipart/mixed, base64 and
 * quoted-printable parts, attached message/rfc822, RFC 2047 encoded non-ASCII headers.
 */

export type PartSpec =
  | { kind: 'text'; subtype: 'plain' | 'html'; charset: 'utf-8' | 'iso-8859-1' | 'us-ascii'; encoding: '7bit' | 'quoted-printable' | 'base64'; text: string }
  | { kind: 'multipart'; subtype: 'alternative' | 'mixed'; parts: PartSpec[] }
  | { kind: 'attachment'; subtype: 'octet-stream' | 'pdf'; filename: string; bytes: Buffer }
  | { kind: 'message'; inner: MessageSpec };

export interface MessageSpec {
  from: { name: string; address: string };
  to: Array<{ name: string; address: string }>;
  subject: string;
  date: Date;
  messageId: string;
  body: PartSpec;
}

/** What a client should see for one body part (imapflow's bodyStructure vocabulary). */
export interface ExpectedPart {
  part?: string;
  type: string;
  encoding?: string;
  charset?: string;
  size?: number;
  filename?: string;
  childNodes?: ExpectedPart[];
  innerSubject?: string;
}

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['mail', 'server', 'über', 'naïve', 'café', 'report', 'quarterly', 'déjà', 'vu', 'hello', 'world', '日本', 'ταχύ', 'budget', 'meeting', 'needle'];
const NAMES = ['Alice Example', 'Bob Müller', 'Zoë Smith', 'José García', 'Li Wei', 'Plain Name'];

function pick<T>(r: () => number, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)]!;
}

function sentence(r: () => number, n: number): string {
  return Array.from({ length: n }, () => pick(r, WORDS)).join(' ');
}

function ascii(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s);
}

/** RFC 2047 B-encoding when the text is not plain ASCII. */
export function encodeWord(text: string): string {
  if (ascii(text)) return text;
  return `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}

function addr(a: { name: string; address: string }): string {
  return `${ascii(a.name) ? `"${a.name}"` : encodeWord(a.name)} <${a.address}>`;
}

function qpEncode(buf: Buffer): string {
  let out = '';
  let lineLen = 0;
  for (const b of buf) {
    let tok: string;
    if (b === 0x0a) {
      out += '\r\n';
      lineLen = 0;
      continue;
    }
    if (b === 0x0d) continue;
    if ((b >= 33 && b <= 126 && b !== 61) || b === 32) tok = String.fromCharCode(b);
    else tok = '=' + b.toString(16).toUpperCase().padStart(2, '0');
    if (lineLen + tok.length > 75) {
      out += '=\r\n';
      lineLen = 0;
    }
    out += tok;
    lineLen += tok.length;
  }
  return out;
}

function b64Lines(buf: Buffer): string {
  return (buf.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
}

function charsetBytes(text: string, charset: string): Buffer {
  if (charset === 'iso-8859-1') return Buffer.from(text.replace(/[^\x00-\xff]/g, '?'), 'latin1');
  if (charset === 'us-ascii') return Buffer.from(text.replace(/[^\x00-\x7f]/g, '?'), 'latin1');
  return Buffer.from(text, 'utf8');
}

interface Built {
  headers: string;
  body: string;
  expected: ExpectedPart;
}

let boundaryCounter = 0;

function buildPart(spec: PartSpec, partNo: string): Built {
  switch (spec.kind) {
    case 'text': {
      const raw = charsetBytes(spec.text, spec.charset);
      let body: string;
      if (spec.encoding === 'base64') body = b64Lines(raw);
      else if (spec.encoding === 'quoted-printable') body = qpEncode(raw);
      else body = raw.toString('latin1').replace(/[^\x00-\x7f]/g, '?').replace(/\r?\n/g, '\r\n');
      const headers = `Content-Type: text/${spec.subtype}; charset=${spec.charset}\r\nContent-Transfer-Encoding: ${spec.encoding}\r\n`;
      return { headers, body, expected: { part: partNo, type: `text/${spec.subtype}`, encoding: spec.encoding, charset: spec.charset, size: Buffer.byteLength(body, 'latin1') } };
    }
    case 'attachment': {
      const body = b64Lines(spec.bytes);
      const type = `application/${spec.subtype}`;
      const headers = `Content-Type: ${type}; name="${spec.filename}"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="${spec.filename}"\r\n`;
      return { headers, body, expected: { part: partNo, type, encoding: 'base64', filename: spec.filename, size: body.length } };
    }
    case 'message': {
      const inner = buildMessageParts(spec.inner);
      const body = inner.raw;
      const headers = `Content-Type: message/rfc822\r\nContent-Disposition: attachment\r\n`;
      return { headers, body, expected: { part: partNo, type: 'message/rfc822', size: Buffer.byteLength(body, 'latin1'), innerSubject: spec.inner.subject } };
    }
    case 'multipart': {
      const boundary = `=_postroom_${++boundaryCounter}_${spec.subtype}`;
      const children = spec.parts.map((p, i) => buildPart(p, partNo ? `${partNo}.${i + 1}` : `${i + 1}`));
      let body = 'This is a multi-part message in MIME format.\r\n';
      for (const c of children) body += `--${boundary}\r\n${c.headers}\r\n${c.body}\r\n`;
      body += `--${boundary}--\r\n`;
      const headers = `Content-Type: multipart/${spec.subtype}; boundary="${boundary}"\r\n`;
      return { headers, body, expected: { part: partNo || undefined, type: `multipart/${spec.subtype}`, childNodes: children.map((c) => c.expected) } };
    }
  }
}

function buildMessageParts(spec: MessageSpec): { raw: string; expected: ExpectedPart } {
  const top = buildPart(spec.body, '');
  const head =
    `From: ${addr(spec.from)}\r\n` +
    `To: ${spec.to.map(addr).join(', ')}\r\n` +
    `Subject: ${encodeWord(spec.subject)}\r\n` +
    `Date: ${spec.date.toUTCString().replace('GMT', '+0000')}\r\n` +
    `Message-ID: ${spec.messageId}\r\n` +
    `MIME-Version: 1.0\r\n` +
    top.headers;
  // The root of a single-part message has no part number in a client's tree (it is BODY[1] on
  // the wire, but imapflow leaves the root unnumbered).
  const expected = top.expected.childNodes ? top.expected : { ...top.expected, part: undefined };
  return { raw: `${head}\r\n${top.body}`, expected };
}

export function buildMessage(spec: MessageSpec): { raw: Buffer; expected: ExpectedPart } {
  const { raw, expected } = buildMessageParts(spec);
  return { raw: Buffer.from(raw, 'latin1'), expected };
}

function textPart(r: () => number): PartSpec {
  const subtype = r() < 0.3 ? 'html' : 'plain';
  const charset = pick(r, ['utf-8', 'iso-8859-1', 'us-ascii'] as const);
  const encoding = charset === 'us-ascii' ? pick(r, ['7bit', 'base64'] as const) : pick(r, ['quoted-printable', 'base64'] as const);
  const lines = Array.from({ length: 1 + Math.floor(r() * 20) }, () => sentence(r, 3 + Math.floor(r() * 12)));
  const text = subtype === 'html' ? `<html><body><p>${lines.join('</p>\n<p>')}</p></body></html>\n` : lines.join('\n') + '\n';
  return { kind: 'text', subtype, charset, encoding, text };
}

function person(r: () => number, i: number): { name: string; address: string } {
  const name = pick(r, NAMES);
  return { name, address: `${name.split(' ')[0]!.toLowerCase().normalize('NFD').replace(/[^a-z]/g, '')}${i}@example.org` };
}

export function randomMessageSpec(r: () => number, i: number, depth = 0): MessageSpec {
  const shape = depth > 0 ? Math.floor(r() * 3) : Math.floor(r() * 5);
  let body: PartSpec;
  if (shape === 0) body = textPart(r);
  else if (shape === 1) body = { kind: 'multipart', subtype: 'alternative', parts: [{ ...textPart(r), subtype: 'plain' } as PartSpec, { ...textPart(r), subtype: 'html' } as PartSpec] };
  else if (shape === 2) body = { kind: 'multipart', subtype: 'mixed', parts: [textPart(r), { kind: 'attachment', subtype: 'pdf', filename: `doc${i}.pdf`, bytes: Buffer.from(Array.from({ length: 200 + Math.floor(r() * 3000) }, () => Math.floor(r() * 256))) }] };
  else if (shape === 3)
    body = {
      kind: 'multipart',
      subtype: 'mixed',
      parts: [
        { kind: 'multipart', subtype: 'alternative', parts: [{ ...textPart(r), subtype: 'plain' } as PartSpec, { ...textPart(r), subtype: 'html' } as PartSpec] },
        { kind: 'attachment', subtype: 'octet-stream', filename: `data${i}.bin`, bytes: Buffer.from(sentence(r, 50)) },
      ],
    };
  else body = { kind: 'multipart', subtype: 'mixed', parts: [textPart(r), { kind: 'message', inner: randomMessageSpec(r, i + 1000, depth + 1) }] };
  return {
    from: person(r, i),
    to: [person(r, i + 1), person(r, i + 2)],
    subject: `${sentence(r, 2 + Math.floor(r() * 4))} #${i}`,
    date: new Date(Date.UTC(2024, Math.floor(r() * 12), 1 + Math.floor(r() * 28), Math.floor(r() * 24), Math.floor(r() * 60), 0)),
    messageId: `<msg-${i}-${Math.floor(r() * 1e9)}@example.org>`,
    body,
  };
}
