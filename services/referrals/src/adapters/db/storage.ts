import { sqlSubjectVault, type SubjectCrypto } from '@passage/crypto';
import type { Topology } from '@passage/events';
import type { EntityManager, MikroORM } from '@passage/platform';
import type { ReferralStorage, ReferralTransaction } from '../../app/ports.ts';
import { OutboxReferralEvents } from '../events/outbox-events.ts';
import { SqlIdempotencyStore, SqlReferralRepository, referralSchema } from './referral-repository.ts';
import { SqlSendRecorder } from './send-recorder.ts';

export function referralTransaction(em: EntityManager, crypto: SubjectCrypto, topology: Topology): ReferralTransaction {
  return {
    sends: new SqlSendRecorder(em, topology),
    referrals: new SqlReferralRepository(em),
    idempotency: new SqlIdempotencyStore(em),
    vault: sqlSubjectVault(crypto, em, referralSchema),
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
      vault: sqlSubjectVault(this.#crypto, em, referralSchema),
    };
  }

  transaction<T>(work: (tx: ReferralTransaction) => Promise<T>): Promise<T> {
    return this.#orm.em.fork().transactional((em) => work(referralTransaction(em, this.#crypto, this.#topology)));
  }
}
