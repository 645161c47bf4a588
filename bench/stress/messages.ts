/**
 * Messages the stress appends. Each names itself: its Message-ID carries a token and a checksum of
 * its body, so a fetched ENVELOPE or BODY[] tells which message the server gave for a UID and
 * whether the bytes are intact — without asking anyone. A few bodies come from a shared pool and
 * are appended, byte for byte the same, by many clients: identical content is stored once, so
 * those APPENDs race the EXPUNGEs that release the same bytes.
 */
import { createHash } from 'node:crypto';

const WORDS = 'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon'.split(' ');

export interface StressMessage {
  /** What the Message-ID says: `<token.checksum@stress.test>`. */
  token: string;
  bytes: Buffer;
}

function pick(rand: () => number, n: number): number {
  return Math.floor(rand() * n);
}

export function bodyChecksum(body: Buffer): string {
  return createHash('sha1').update(body).digest('hex').slice(0, 10);
}

/** A message with `token` and a body of about `size` octets. */
export function makeMessage(token: string, size: number, rand: () => number): StressMessage {
  const lines: string[] = [];
  let n = 0;
  while (n < size) {
    const line = Array.from({ length: 1 + pick(rand, 12) }, () => WORDS[pick(rand, WORDS.length)]).join(' ');
    lines.push(line);
    n += line.length + 2;
  }
  const body = Buffer.from(`${lines.join('\r\n')}\r\n`);
  const head = [
    `From: ${WORDS[pick(rand, WORDS.length)]} <sender${pick(rand, 50)}@stress.test>`,
    `To: rcpt${pick(rand, 50)}@stress.test`,
    `Subject: ${WORDS[pick(rand, WORDS.length)]} ${token}`,
    'Date: Mon, 1 Jan 2024 00:00:00 +0000',
    `Message-ID: <${token}.${bodyChecksum(body)}@stress.test>`,
    '',
    '',
  ].join('\r\n');
  return { token, bytes: Buffer.concat([Buffer.from(head), body]) };
}

/** Token and checksum from a Message-ID value (`<token.sum@stress.test>`), or null. */
export function parseMessageId(value: string): { token: string; sum: string } | null {
  const m = /<([A-Za-z0-9.]+)\.([0-9a-f]{10})@stress\.test>/.exec(value);
  return m ? { token: m[1]!, sum: m[2]! } : null;
}

/** Checks a whole fetched message: its Message-ID names the checksum of its body. */
export function verifyMessage(bytes: Buffer): { token: string } | string {
  const split = bytes.indexOf('\r\n\r\n');
  if (split < 0) return 'no header/body separator';
  const id = parseMessageId(bytes.subarray(0, split).toString('latin1'));
  if (!id) return 'no stress Message-ID';
  const sum = bodyChecksum(bytes.subarray(split + 4));
  return sum === id.sum ? { token: id.token } : `body checksum ${sum} but Message-ID says ${id.sum}`;
}

/** A small deterministic PRNG (mulberry32), so a run can be repeated with its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The shared pool: the same bytes for every client that picks slot k. */
export function poolMessage(k: number): StressMessage {
  // Every 5th is large enough to be kept as a file by the SQLite store (256 KiB inline limit).
  return makeMessage(`pool${k}`, k % 5 === 4 ? 300_000 : 500 + k * 97, prng(1000 + k));
}
