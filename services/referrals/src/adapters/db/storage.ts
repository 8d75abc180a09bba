import { SqlSubjectKeyStore, type SubjectCrypto } from '@passage/crypto';
import type { Topology } from '@passage/events';
import type { EntityManager, MikroORM } from '@passage/platform';
import type { ReferralStorage, ReferralTransaction, Vault } from '../../app/ports.ts';
import { OutboxReferralEvents } from '../events/outbox-events.ts';
import { SqlIdempotencyStore, SqlReferralRepository, referralSchema } from './referral-repository.ts';
import { SqlSendRecorder } from './send-recorder.ts';

function vaultOf(crypto: SubjectCrypto, em: EntityManager): Vault {
  const store = new SqlSubjectKeyStore(em, referralSchema);
  return {
    encrypt: (subjectRef, field, plaintext) => crypto.encrypt(store, subjectRef, field, plaintext),
    encryptAll: (subjectRef, fields) => crypto.encryptAll(store, subjectRef, fields),
    decrypt: (subjectRef, field, sealed) => crypto.decrypt(store, subjectRef, field, sealed),
    shred: (subjectRef) => crypto.shred(store, subjectRef),
  };
}

export function referralTransaction(em: EntityManager, crypto: SubjectCrypto, topology: Topology): ReferralTransaction {
  return {
    sends: new SqlSendRecorder(em, topology),
    referrals: new SqlReferralRepository(em),
    idempotency: new SqlIdempotencyStore(em),
    vault: vaultOf(crypto, em),
    events: new OutboxReferralEvents(em, topology),
  };
}

export class SqlReferralStorage implements ReferralStorage {
  readonly #orm: MikroORM;
  readonly #crypto: SubjectCrypto;
  readonly #topology: Topology;

  constructor(orm: MikroORM, crypto: SubjectCrypto, topology: Topology) {
    this.#orm = orm;
    this.#crypto = crypto;
    this.#topology = topology;
  }

  reader(): Omit<ReferralTransaction, 'events' | 'sends'> {
    const em = this.#orm.em.fork();
    return {
      referrals: new SqlReferralRepository(em),
      idempotency: new SqlIdempotencyStore(em),
      vault: vaultOf(this.#crypto, em),
    };
  }

  transaction<T>(work: (tx: ReferralTransaction) => Promise<T>): Promise<T> {
    return this.#orm.em.fork().transactional((em) => work(referralTransaction(em, this.#crypto, this.#topology)));
  }
}
