import type { EntityManager, MikroORM } from '@passage/platform';
import type { Agency } from '../../domain/agency.ts';
import type { AgencyStore, DirectoryStorage, DirectoryTransaction } from '../../app/ports.ts';
import { OutboxDirectoryEvents } from '../events/outbox-events.ts';
import type { Topology } from '@passage/events';
import { AgencyRecord } from './agency-record.ts';

export const directorySchema = 'directory';

class MikroAgencyStore implements AgencyStore {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  async list(): Promise<Agency[]> {
    const rows = await this.#em.find(AgencyRecord, {}, { orderBy: { id: 'asc' } });
    return rows.map(toAgency);
  }

  async get(id: string): Promise<Agency | undefined> {
    const row = await this.#em.findOne(AgencyRecord, { id });
    return row ? toAgency(row) : undefined;
  }

  async lock(id: string): Promise<void> {
    // An advisory lock, since a new agency has no row to lock yet.
    await this.#em.execute("select pg_advisory_xact_lock(hashtext('directory.agency:' || ?))", [id]);
  }

  async save(agency: Agency): Promise<void> {
    const { id, version, ...listing } = agency;
    await this.#em.upsert(AgencyRecord, { id, kind: agency.kind, listing, version, updatedAt: new Date() });
  }
}

function toAgency(row: { id: string; listing: Omit<Agency, 'id' | 'version'>; version: number }): Agency {
  return { id: row.id, ...row.listing, version: row.version };
}

export class MikroDirectoryStorage implements DirectoryStorage {
  readonly #orm: MikroORM;
  readonly #topology: Topology;

  constructor(orm: MikroORM, topology: Topology) {
    this.#orm = orm;
    this.#topology = topology;
  }

  get agencies(): AgencyStore {
    return new MikroAgencyStore(this.#orm.em.fork());
  }

  transaction<T>(work: (tx: DirectoryTransaction) => Promise<T>): Promise<T> {
    return this.#orm.em
      .fork()
      .transactional((em) =>
        work({ agencies: new MikroAgencyStore(em), events: new OutboxDirectoryEvents(em, this.#topology) }),
      );
  }
}
