/**
 * SCRAM-SHA-256 (RFC 7677, the SCRAM framework of RFC 5802 §5): the client proves it knows the
 * password without sending it, and the server proves it holds the user's keys. The server side
 * needs only StoredKey/ServerKey (Authenticator.scramCredentials), never the password.
 * Channel binding (-PLUS) is not offered.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { ScramCredentials } from '../types.js';
import type { SaslContext, SaslExchange, SaslMechanism, SaslStep } from './types.js';
import { decodeSaslName, parseGs2Header, utf8Message, type Gs2Header } from './gs2.js';
import { DEFAULT_SCRAM_ITERATIONS, hmacSha256, sha256 } from './scram-keys.js';

/** Whole client messages; generous for long user names and extensions, small enough to refuse junk. */
const MAX_MESSAGE_OCTETS = 4096;
/** RFC 5802 §7: printable ASCII except ",". */
const NONCE = /^[\x21-\x2b\x2d-\x7e]+$/;
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const malformed = (reason: string): SaslStep => ({ type: 'failure', reason, malformed: true });
const denied = { type: 'failure', reason: 'Authentication failed' } as const;

/**
 * For unknown users (and users without keys) we answer with a salt that is stable per name, so
 * the server-first message does not reveal which names exist (RFC 5802 §9, "mock" salts).
 */
const mockSecret = randomBytes(32);
function mockCredentials(username: string): ScramCredentials {
  return {
    salt: hmacSha256(mockSecret, username).subarray(0, 16),
    iterations: DEFAULT_SCRAM_ITERATIONS,
    storedKey: randomBytes(32),
    serverKey: randomBytes(32),
  };
}

interface ClientFirst {
  gs2: Gs2Header;
  bare: string;
  username: string;
  nonce: string;
}

function parseClientFirst(bytes: Buffer): ClientFirst | string {
  if (bytes.length > MAX_MESSAGE_OCTETS) return 'SCRAM message too long';
  const text = utf8Message(bytes);
  if (text === null) return 'SCRAM message is not UTF-8';
  const gs2 = parseGs2Header(text);
  if (!gs2) return 'Malformed GS2 header';
  const attrs = gs2.rest.split(',');
  // RFC 5802 §5.1: an "m" attribute is a mandatory extension we do not know, so we must fail.
  if (attrs[0]?.startsWith('m=')) return 'Unsupported mandatory SCRAM extension';
  const [userAttr, nonceAttr] = attrs;
  if (!userAttr?.startsWith('n=') || !nonceAttr?.startsWith('r=')) return 'Malformed client-first-message';
  const username = decodeSaslName(userAttr.slice(2));
  const nonce = nonceAttr.slice(2);
  if (!username || !NONCE.test(nonce)) return 'Malformed client-first-message';
  return { gs2, bare: gs2.rest, username, nonce };
}

interface ClientFinal {
  channelBinding: string;
  nonce: string;
  proof: Buffer;
  withoutProof: string;
}

function parseClientFinal(bytes: Buffer): ClientFinal | string {
  if (bytes.length > MAX_MESSAGE_OCTETS) return 'SCRAM message too long';
  const text = utf8Message(bytes);
  if (text === null) return 'SCRAM message is not UTF-8';
  const proofAt = text.lastIndexOf(',p=');
  if (proofAt < 0) return 'Missing client proof';
  const withoutProof = text.slice(0, proofAt);
  const proofText = text.slice(proofAt + 3);
  const [cAttr, rAttr] = withoutProof.split(',');
  if (!cAttr?.startsWith('c=') || !rAttr?.startsWith('r=')) return 'Malformed client-final-message';
  const channelBinding = cAttr.slice(2);
  if (!B64.test(channelBinding) || !B64.test(proofText)) return 'Invalid base64 in client-final-message';
  const proof = Buffer.from(proofText, 'base64');
  if (proof.length !== 32) return 'Client proof has the wrong length';
  return { channelBinding, nonce: rAttr.slice(2), proof, withoutProof };
}

type Phase =
  | { name: 'start' }
  | { name: 'first'; challenged: boolean }
  | { name: 'final'; first: ClientFirst; creds: ScramCredentials; known: boolean; nonce: string; serverFirst: string }
  | { name: 'done' };

class ScramExchange implements SaslExchange {
  private phase: Phase = { name: 'start' };

  constructor(
    private readonly ctx: SaslContext,
    private readonly serverNonce: () => string,
  ) {}

  async step(response: Buffer | null): Promise<SaslStep> {
    const phase = this.phase;
    switch (phase.name) {
      case 'start':
        // SCRAM is client-first: without an initial response, ask for one with an empty challenge.
        if (response === null) {
          this.phase = { name: 'first', challenged: true };
          return { type: 'challenge', data: Buffer.alloc(0) };
        }
        return this.clientFirst(response);
      case 'first':
        if (response === null) return this.fail('SCRAM expects a client-first-message');
        return this.clientFirst(response);
      case 'final':
        if (response === null) return this.fail('SCRAM expects a client-final-message');
        return this.clientFinal(phase, response);
      case 'done':
        return malformed('SCRAM exchange already finished');
    }
  }

  private fail(reason: string): SaslStep {
    this.phase = { name: 'done' };
    return malformed(reason);
  }

  private async clientFirst(response: Buffer): Promise<SaslStep> {
    const first = parseClientFirst(response);
    if (typeof first === 'string') return this.fail(first);
    // We do not advertise SCRAM-SHA-256-PLUS, so a client asking for channel binding is confused.
    if (first.gs2.cbindFlag === 'p') return this.fail('Channel binding is not supported');
    const found = (await this.ctx.authenticator.scramCredentials?.(first.username)) ?? null;
    const creds = found ?? mockCredentials(first.username);
    const nonce = first.nonce + this.serverNonce();
    const serverFirst = `r=${nonce},s=${creds.salt.toString('base64')},i=${creds.iterations}`;
    this.phase = { name: 'final', first, creds, known: found !== null, nonce, serverFirst };
    return { type: 'challenge', data: Buffer.from(serverFirst, 'utf8') };
  }

  private clientFinal(phase: Extract<Phase, { name: 'final' }>, response: Buffer): SaslStep {
    this.phase = { name: 'done' };
    const final = parseClientFinal(response);
    if (typeof final === 'string') return malformed(final);
    // RFC 5802 §7: c= carries the GS2 header (no channel binding data, since we offer none).
    if (Buffer.from(final.channelBinding, 'base64').toString('utf8') !== phase.first.gs2.raw) {
      return malformed('Channel binding does not match the GS2 header');
    }
    if (final.nonce !== phase.nonce) return malformed('Nonce mismatch');
    const authMessage = `${phase.first.bare},${phase.serverFirst},${final.withoutProof}`;
    const clientSignature = hmacSha256(phase.creds.storedKey, authMessage);
    const clientKey = Buffer.alloc(32);
    for (let i = 0; i < 32; i++) clientKey[i] = (final.proof[i] ?? 0) ^ (clientSignature[i] ?? 0);
    const proofOk = timingSafeEqual(sha256(clientKey), phase.creds.storedKey);
    if (!phase.known || !proofOk) return { ...denied, user: phase.first.username };
    const user = phase.creds.user ?? phase.first.username;
    const authzid = phase.first.gs2.authzid;
    if (authzid !== '' && authzid !== user && authzid !== phase.first.username) {
      return { type: 'failure', reason: 'Not authorized to act as the requested identity' };
    }
    const serverSignature = hmacSha256(phase.creds.serverKey, authMessage);
    return { type: 'success', user, data: Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8') };
  }
}

/** 18 random bytes: base64 never contains ",", so the nonce stays valid (RFC 5802 §7). */
const randomNonce = (): string => randomBytes(18).toString('base64');

/** `serverNonce` is replaceable so tests can replay the RFC 7677 §3 example exactly. */
export function createScramSha256Mechanism(serverNonce: () => string = randomNonce): SaslMechanism {
  return {
    name: 'SCRAM-SHA-256',
    plaintext: false,
    available: (authenticator) => typeof authenticator.scramCredentials === 'function',
    start: (ctx) => new ScramExchange(ctx, serverNonce),
  };
}

export const scramSha256Mechanism: SaslMechanism = createScramSha256Mechanism();
