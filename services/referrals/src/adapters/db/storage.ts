import type { SubjectVault } from '@passage/crypto';
import type { Topology } from '@passage/events';
import type { EntityManager, MikroORM } from '@passage/platform';
import type { ReferralStorage, ReferralTransaction } from '../../app/ports.ts';
import { OutboxReferralEvents } from '../events/outbox-events.ts';
import { SqlIdempotencyStore, SqlMessageRepository, SqlReferralRepository } from './referral-repository.ts';
import type { PgSendStorage } from './pg-send.ts';

/** The referral's rows in the caller's transaction; the subject's data keys in the key store (docs/adr/0023-key-store.md). */
export function referralTransaction(em: EntityManager, vault: SubjectVault, topology: Topology): ReferralTransaction {
  return {
    referrals: new SqlReferralRepository(em),
    messages: new SqlMessageRepository(em),
    idempotency: new SqlIdempotencyStore(em),
    vault,
    events: new OutboxReferralEvents(em, topology),
  };
}

export class SqlReferralStorage implements ReferralStorage {
  readonly #orm: MikroORM;
  readonly #vault: () => SubjectVault;
  readonly #topology: Topology;

  readonly sends: PgSendStorage;

  /** `vault` gives a subject vault over the key store, one per transaction or read; `sends` the hot path. */
  constructor(orm: MikroORM, vault: () => SubjectVault, topology: Topology, sends: PgSendStorage) {
    this.#orm = orm;
    this.sends = sends;
    this.#vault = vault;
    this.#topology = topology;
  }

  reader(): Omit<ReferralTransaction, 'events'> {
    const em = this.#orm.em.fork();
    return {
      referrals: new SqlReferralRepository(em),
      messages: new SqlMessageRepository(em),
      idempotency: new SqlIdempotencyStore(em),
      vault: this.#vault(),
    };
  }

  transaction<T>(work: (tx: ReferralTransaction) => Promise<T>): Promise<T> {
    return this.#orm.em.fork().transactional((em) => work(referralTransaction(em, this.#vault(), this.#topology)));
  }
}
