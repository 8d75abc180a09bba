import { randomBytes } from 'node:crypto';

/** A key-encryption key: 32 bytes for AES-256-GCM, with an id so keys can rotate. */
export interface Kek {
  readonly id: string;
  readonly key: Buffer;
}

/**
 * The KEKs a service holds: the first wraps new data keys; the others only unwrap keys
 * wrapped before a rotation, until `rotate-kek` has re-wrapped them all.
 */
export class KeyRing {
  readonly current: Kek;
  readonly #byId: ReadonlyMap<string, Kek>;

  constructor(keks: readonly Kek[]) {
    const [current] = keks;
    if (!current) throw new KekConfigError('no key-encryption key given');
    this.current = current;
    this.#byId = new Map(keks.map((kek) => [kek.id, kek]));
  }

  get(id: string): Kek {
    const kek = this.#byId.get(id);
    if (!kek)
      throw new KekConfigError(
        `data key wrapped with unknown KEK "${id}": add it to PASSAGE_KEK after the current key`,
      );
    return kek;
  }
}

export class KekConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KekConfigError';
  }
}

const kekIdPattern = /^[A-Za-z0-9_.-]{1,64}$/;

/** Parses `PASSAGE_KEK`: "id:base64key[,id:base64key…]", the current key first. */
export function parseKeyRing(value: string): KeyRing {
  const keks = value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part, i) => {
      const separator = part.indexOf(':');
      const id = part.slice(0, separator);
      const key = Buffer.from(part.slice(separator + 1), 'base64');
      if (separator < 1 || !kekIdPattern.test(id)) {
        throw new KekConfigError(`PASSAGE_KEK entry ${i + 1}: expected "<key id>:<base64 key>"`);
      }
      if (key.length !== 32) {
        throw new KekConfigError(
          `PASSAGE_KEK entry ${i + 1} ("${id}"): the key must be 32 bytes (base64 of 32 random bytes)`,
        );
      }
      return { id, key };
    });
  if (new Set(keks.map((k) => k.id)).size !== keks.length) throw new KekConfigError('PASSAGE_KEK repeats a key id');
  return new KeyRing(keks);
}

/** A development-only KEK, fixed so that local data survives restarts. Never for real data. */
const developmentKek: Kek = { id: 'dev-insecure', key: Buffer.alloc(32, 0x5a) };

/**
 * The service's key ring from its environment. Outside development a KEK is required:
 * a service that would otherwise encrypt with a known key refuses to start.
 */
export function keyRingFromEnv(env: { PASSAGE_KEK?: string | undefined; PASSAGE_ENV?: string | undefined }): KeyRing {
  if (env.PASSAGE_KEK) {
    const ring = parseKeyRing(env.PASSAGE_KEK);
    const keys = env.PASSAGE_KEK.split(',').map((entry) => Buffer.from(entry.split(':')[1] ?? '', 'base64'));
    // The development key is public (it is in this file): never a key for real data.
    if (env.PASSAGE_ENV !== 'development' && keys.some((key) => key.equals(developmentKek.key)))
      throw new KekConfigError(
        'PASSAGE_KEK holds the published development key: outside development use a key of your own',
      );
    return ring;
  }
  if (env.PASSAGE_ENV === 'development') return new KeyRing([developmentKek]);
  throw new KekConfigError(
    'PASSAGE_KEK is required outside development: set it to "<key id>:<base64 of 32 random bytes>" ' +
      '(`pnpm passage keys new` makes one), or set PASSAGE_ENV=development on a developer machine',
  );
}

export function newKekSetting(id = `kek-${new Date().toISOString().slice(0, 10)}`): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}
