import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/**
 * Ed25519 keys and compact JWS (RFC 7515, alg "EdDSA"). Used for caller tokens and for
 * consent receipts a person can have verified later.
 */
const pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
const spkiPrefix = Buffer.from('302a300506032b6570032100', 'hex');

export function privateKeyFromSeed(seed: Buffer): KeyObject {
  if (seed.length !== 32) throw new Error('an Ed25519 seed is 32 bytes');
  return createPrivateKey({ key: Buffer.concat([pkcs8Prefix, seed]), format: 'der', type: 'pkcs8' });
}

export function publicKeyFromRaw(raw: Buffer): KeyObject {
  if (raw.length !== 32) throw new Error('an Ed25519 public key is 32 bytes');
  return createPublicKey({ key: Buffer.concat([spkiPrefix, raw]), format: 'der', type: 'spki' });
}

export function rawPublicKey(key: KeyObject): Buffer {
  const der = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return der.subarray(der.length - 32);
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

export function signJws(payload: unknown, privateKey: KeyObject, kid: string, typ = 'JWT'): string {
  const header = b64url(JSON.stringify({ alg: 'EdDSA', typ, kid }));
  const body = b64url(JSON.stringify(payload));
  const signature = sign(null, Buffer.from(`${header}.${body}`), privateKey);
  return `${header}.${body}.${b64url(signature)}`;
}

export class JwsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JwsError';
  }
}

/** Verifies a compact JWS and returns its payload; throws JwsError when anything is off. */
export function verifyJws(token: string, publicKeyFor: (kid: string) => KeyObject | undefined): unknown {
  const parts = token.split('.');
  if (parts.length !== 3) throw new JwsError('not a compact JWS');
  const [headerPart, bodyPart, signaturePart] = parts as [string, string, string];
  let header: { alg?: unknown; kid?: unknown };
  try {
    header = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8')) as typeof header;
  } catch {
    throw new JwsError('unreadable JWS header');
  }
  if (header.alg !== 'EdDSA' || typeof header.kid !== 'string') throw new JwsError('JWS must be EdDSA with a key id');
  const key = publicKeyFor(header.kid);
  if (!key) throw new JwsError(`unknown signing key "${header.kid}"`);
  const valid = verify(null, Buffer.from(`${headerPart}.${bodyPart}`), key, Buffer.from(signaturePart, 'base64url'));
  if (!valid) throw new JwsError('signature does not verify');
  try {
    return JSON.parse(Buffer.from(bodyPart, 'base64url').toString('utf8')) as unknown;
  } catch {
    throw new JwsError('unreadable JWS payload');
  }
}
