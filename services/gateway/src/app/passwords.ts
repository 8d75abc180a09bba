import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

// scrypt (RFC 7914) with N = 2^15, r = 8, p = 1: about 30 ms and 32 MiB a guess.
const cost = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

function derive(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, 32, cost, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64')}$${(await derive(password, salt)).toString('base64')}`;
}

/**
 * What an account stores until its person sets a password with a one-time link (ADR 30): no
 * scrypt hash, so no password ever matches it — and making it costs nothing, checking it the
 * same as a wrong password does.
 */
export const unusablePassword = 'unusable$until-a-link-is-used';

const decoySalt = randomBytes(16);

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, , , , salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) {
    // No password matches; the answer takes as long as a wrong password's.
    await derive(password, decoySalt);
    return false;
  }
  const expected = Buffer.from(hash, 'base64');
  const actual = await derive(password, Buffer.from(salt, 'base64'));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Spends the time a real check would, so a wrong username answers as slowly as a wrong password. */
export const decoyHash = hashPassword('decoy password nobody has');
