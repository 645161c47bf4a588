/** Shared helpers of the Sieve tests: compile-or-fail, a message environment, and running. */
import assert from 'node:assert/strict';
import { compileSieve, runSieve, type SieveEnvironment, type SieveOutcome, type SieveScript, type SieveLimits } from '../../src/sieve/index.js';

export function compile(source: string, limits?: Partial<SieveLimits>): SieveScript {
  const r = compileSieve(source, limits ? { limits } : {});
  if (!r.ok) assert.fail(`expected the script to compile: ${JSON.stringify(r.errors)}\n${source}`);
  return r.script;
}

export function compileError(source: string, options: { limits?: Partial<SieveLimits>; extensions?: readonly string[] } = {}): { line: number; column: number; message: string } {
  const r = compileSieve(source, options);
  if (r.ok) assert.fail(`expected a compile error:\n${source}`);
  assert.equal(r.errors.length, 1);
  return r.errors[0]!;
}

/** A message from header lines and a body, CRLF line ends. */
export function message(headerLines: string[], body = ''): { header: Buffer; body: Buffer } {
  return { header: Buffer.from(headerLines.map((l) => `${l}\r\n`).join('') + '\r\n'), body: Buffer.from(body) };
}

export interface EnvOptions {
  from?: string;
  to?: string;
  headers?: string[];
  body?: string;
  mailboxes?: string[];
  now?: Date;
  userAddresses?: string[];
  subaddressSeparator?: string;
}

export function env(o: EnvOptions = {}): SieveEnvironment {
  const m = message(o.headers ?? ['From: someone@example.org', 'To: user@example.com', 'Subject: hello'], o.body ?? 'body text\r\n');
  const boxes = new Set(o.mailboxes ?? ['INBOX']);
  return {
    envelope: { from: o.from ?? 'someone@example.org', to: o.to ?? 'user@example.com' },
    header: m.header,
    body: async (max: number) => m.body.subarray(0, max),
    size: m.header.length + m.body.length,
    mailboxExists: async (name: string) => boxes.has(name),
    ...(o.now ? { now: o.now } : {}),
    ...(o.userAddresses ? { userAddresses: o.userAddresses } : {}),
    ...(o.subaddressSeparator !== undefined ? { subaddressSeparator: o.subaddressSeparator } : {}),
  };
}

export async function run(source: string, o: EnvOptions = {}, limits?: Partial<SieveLimits>): Promise<SieveOutcome> {
  return runSieve(compile(source), env(o), limits);
}

/** A small deterministic random source (xorshift32) for the randomized tests. */
export function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}
