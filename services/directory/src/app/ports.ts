import type { Agency } from '../domain/agency.ts';

/** Who is calling. Until packages/auth exists, the only role this service knows is admin. */
export interface Caller {
  readonly userId: string;
  readonly agencyId: string;
  readonly roles: readonly string[];
}

export const anonymousCaller: Caller = { userId: '', agencyId: '', roles: [] };

export interface AgencyStore {
  list(): Promise<Agency[]>;
  get(id: string): Promise<Agency | undefined>;
  /** Holds the agency (listed or not yet) until the transaction ends: one change at a time per agency. */
  lock(id: string): Promise<void>;
  save(agency: Agency): Promise<void>;
}

/** Facts the directory publishes (through the outbox, in the same transaction). */
export interface DirectoryEvents {
  agencyChanged(agency: Agency, source: 'upsert' | 'import', caller: Caller): Promise<void>;
}

export interface DirectoryTransaction {
  readonly agencies: AgencyStore;
  readonly events: DirectoryEvents;
}

export interface DirectoryStorage {
  /** Reads outside any transaction. */
  readonly agencies: AgencyStore;
  /** Runs `work` in one database transaction: its writes and events commit together or not at all. */
  transaction<T>(work: (tx: DirectoryTransaction) => Promise<T>): Promise<T>;
}
