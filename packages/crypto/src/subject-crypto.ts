import { randomBytes } from 'node:crypto';
import { open, seal } from './aead.ts';
import type { KeyRing } from './keyring.ts';

/** A field whose subject was erased: its key is gone, so it cannot be read by anyone. */
export const shredded = Symbol('shredded');

export interface StoredKey {
  readonly kekId: string;
  readonly wrappedKey: Buffer;
}

/** Where wrapped data keys live: one row per subject, in the service's key store, apart from its data. */
export interface SubjectKeyStore {
  /** The wrapped key, `shredded` for an erased subject, undefined for one never seen. */
  get(subjectId: string): Promise<StoredKey | typeof shredded | undefined>;
  /** Inserts unless a key (or a tombstone) exists already; returns what is stored either way. */
  insertIfAbsent(subjectId: string, kekId: string, wrappedKey: Buffer): Promise<StoredKey | typeof shredded>;
  /** Destroys the subject's key, leaving a tombstone; true if there was a key. */
  delete(subjectId: string): Promise<boolean>;
  /**
   * Replaces the subject's key with another (a tombstone stays one): what was sealed under the
   * old key can no longer be opened, and the subject can still be written for. True if there was a key.
   */
  replace(subjectId: string, kekId: string, wrappedKey: Buffer): Promise<boolean>;
}

/** Thrown when something would be written for a subject whose key was destroyed. */
export class SubjectErasedError extends Error {
  constructor(subjectId: string) {
    super(`subject ${subjectId} was erased; nothing more can be stored for it`);
    this.name = 'SubjectErasedError';
  }
}

const wrapAad = (kekId: string, subjectId: string) => `passage/data-key/v1|kek:${kekId}|subject:${subjectId}`;
const fieldAad = (subjectId: string, field: string) => `passage/field/v1|subject:${subjectId}|field:${field}`;

/**
 * Envelope encryption per subject (principle 5): each subject's personal data is sealed
 * with a data key of its own, stored only wrapped by the KEK, in a key store apart from the
 * data. Destroying the wrapped key (crypto-shredding) makes every copy of that data
 * unreadable, including backups of the data, once no copy of the key store taken before the
 * erasure remains (docs/adr/0023-key-store.md); the rows that say what happened survive.
 */
export class SubjectCrypto {
  readonly #keyRing: KeyRing;

  constructor(keyRing: KeyRing) {
    this.#keyRing = keyRing;
  }

  async encrypt(store: SubjectKeyStore, subjectId: string, field: string, plaintext: string): Promise<Buffer> {
    const [sealed] = await this.encryptAll(store, subjectId, [{ field, plaintext }]);
    return sealed!;
  }

  /** Seals several fields of one subject with one key lookup. */
  async encryptAll(
    store: SubjectKeyStore,
    subjectId: string,
    fields: ReadonlyArray<{ field: string; plaintext: string }>,
  ): Promise<Buffer[]> {
    if (fields.length === 0) return [];
    const dataKey = await this.#dataKey(store, subjectId, true);
    if (!dataKey) throw new Error('unreachable: a data key was just created');
    return fields.map(({ field, plaintext }) =>
      seal(dataKey, Buffer.from(plaintext, 'utf8'), fieldAad(subjectId, field)),
    );
  }

  /** The plaintext, or `shredded` when the subject's key was destroyed. */
  async decrypt(
    store: SubjectKeyStore,
    subjectId: string,
    field: string,
    sealed: Buffer,
  ): Promise<string | typeof shredded> {
    const dataKey = await this.#dataKey(store, subjectId, false);
    if (!dataKey) return shredded;
    return open(dataKey, sealed, fieldAad(subjectId, field)).toString('utf8');
  }

  /** Crypto-shreds the subject. Idempotent: shredding twice is not an error. */
  shred(store: SubjectKeyStore, subjectId: string): Promise<boolean> {
    return store.delete(subjectId);
  }

  /**
   * Crypto-shreds what was sealed for the subject so far, without erasing the subject: its key
   * is replaced by a fresh one (retention of closed referrals, docs/adr/0033-retention.md). An
   * erased subject stays erased; a subject with no key is left without one.
   */
  renew(store: SubjectKeyStore, subjectId: string): Promise<boolean> {
    const current = this.#keyRing.current;
    return store.replace(subjectId, current.id, seal(current.key, randomBytes(32), wrapAad(current.id, subjectId)));
  }

  /** Re-wraps a stored key under the current KEK; used by rotate-kek. */
  rewrap(subjectId: string, kekId: string, wrappedKey: Buffer): { kekId: string; wrappedKey: Buffer } {
    const dataKey = open(this.#keyRing.get(kekId).key, wrappedKey, wrapAad(kekId, subjectId));
    const current = this.#keyRing.current;
    return { kekId: current.id, wrappedKey: seal(current.key, dataKey, wrapAad(current.id, subjectId)) };
  }

  get currentKekId(): string {
    return this.#keyRing.current.id;
  }

  async #dataKey(store: SubjectKeyStore, subjectId: string, create: boolean): Promise<Buffer | undefined> {
    let stored = await store.get(subjectId);
    if (!stored) {
      if (!create) return undefined;
      const current = this.#keyRing.current;
      stored = await store.insertIfAbsent(
        subjectId,
        current.id,
        seal(current.key, randomBytes(32), wrapAad(current.id, subjectId)),
      );
    }
    if (stored === shredded) {
      if (create) throw new SubjectErasedError(subjectId);
      return undefined;
    }
    return open(this.#keyRing.get(stored.kekId).key, stored.wrappedKey, wrapAad(stored.kekId, subjectId));
  }
}
