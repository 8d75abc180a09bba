import { isRecipientKind, type RecipientKind } from '@passage/consent-policy';
import type { SubjectVault } from '@passage/crypto';
import type { Topology } from '@passage/events';
import type { EntityManager, MikroORM } from '@passage/platform';
import type { AgencyNames } from '../../domain/receipt.ts';
import type { AgencyCatalogue, ConsentStorage, ConsentTransaction, EvaluationReader } from '../../app/ports.ts';
import { OutboxConsentEvents } from '../events/outbox-events.ts';
import { SqlConsentRepository, SqlIdempotencyStore } from './consent-repository.ts';

class SqlAgencyCatalogue implements AgencyCatalogue {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  async names(agencyIds: readonly string[]): Promise<Map<string, AgencyNames>> {
    if (agencyIds.length === 0) return new Map();
    const rows = await this.#em.execute<{ agency_id: string; name_en: string; name_fr: string }[]>(
      'select agency_id, name_en, name_fr from consent.agencies where agency_id = any(?::text[])',
      [`{${[...new Set(agencyIds)].join(',')}}`],
    );
    return new Map(rows.map((r) => [r.agency_id, { en: r.name_en, fr: r.name_fr }]));
  }

  async kinds(agencyIds: readonly string[]): Promise<Map<string, RecipientKind>> {
    if (agencyIds.length === 0) return new Map();
    const rows = await this.#em.execute<{ agency_id: string; kind: string }[]>(
      'select agency_id, kind from consent.agencies where agency_id = any(?::text[])',
      [`{${[...new Set(agencyIds)].join(',')}}`],
    );
    // A kind the vocabulary does not know is no kind at all: such an agency counts as unknown.
    return new Map(rows.flatMap((r) => (isRecipientKind(r.kind) ? [[r.agency_id, r.kind] as const] : [])));
  }
}

/**
 * Consent's data in its own schema; the subjects' data keys in its key store, apart from the
 * data (docs/adr/0023-key-store.md).
 */
export class SqlConsentStorage implements ConsentStorage {
  readonly #orm: MikroORM;
  readonly #vault: () => SubjectVault;
  readonly #topology: Topology;
  readonly evaluation: EvaluationReader;

  /** `vault` gives a subject vault over the key store, one per transaction or read. */
  constructor(orm: MikroORM, vault: () => SubjectVault, topology: Topology, evaluation: EvaluationReader) {
    this.#orm = orm;
    this.#vault = vault;
    this.#topology = topology;
    this.evaluation = evaluation;
  }

  reader(): Omit<ConsentTransaction, 'events'> {
    const em = this.#orm.em.fork();
    return {
      consents: new SqlConsentRepository(em),
      idempotency: new SqlIdempotencyStore(em),
      vault: this.#vault(),
      agencies: new SqlAgencyCatalogue(em),
    };
  }

  transaction<T>(work: (tx: ConsentTransaction) => Promise<T>): Promise<T> {
    return this.#orm.em.fork().transactional((em) =>
      work({
        consents: new SqlConsentRepository(em),
        idempotency: new SqlIdempotencyStore(em),
        vault: this.#vault(),
        agencies: new SqlAgencyCatalogue(em),
        events: new OutboxConsentEvents(em, this.#topology),
      }),
    );
  }
}
