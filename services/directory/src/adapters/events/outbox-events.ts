import type { EntityManager } from '@passage/platform';
import { createEnvelope, enqueueEvents, type DirectoryEvent, type Topology } from '@passage/events';
import type { Agency } from '../../domain/agency.ts';
import type { Caller, DirectoryEvents } from '../../app/ports.ts';

/** directory.v1.* facts, written to the outbox in the caller's transaction. */
export class OutboxDirectoryEvents implements DirectoryEvents {
  readonly #em: EntityManager;
  readonly #topology: Topology;

  constructor(em: EntityManager, topology: Topology) {
    this.#em = em;
    this.#topology = topology;
  }

  async agencyChanged(agency: Agency, source: 'upsert' | 'import', caller: Caller): Promise<void> {
    // One of the events declared in @passage/events (directoryEvents): its NATS user may publish no other.
    const event: DirectoryEvent = 'agency_upserted';
    const envelope = createEnvelope({
      type: 'directory.v1.agency_upserted',
      actor: { agency: caller.agencyId, user: caller.userId, role: caller.roles[0] ?? '' },
      payload: {
        $case: 'agencyChanged',
        value: {
          agencyId: agency.id,
          kind: agency.kind,
          version: agency.version,
          acceptingReferrals: agency.acceptingReferrals,
          source,
          nameEn: agency.name.en,
          nameFr: agency.name.fr,
          region: agency.coverage.provinceWide ? 'ontario' : (agency.coverage.regions[0] ?? 'ontario'),
          // For the audit log's after-hours figures (ADR 42).
          alwaysOpen: agency.hours.alwaysOpen,
          hours: agency.hours.alwaysOpen ? [] : agency.hours.periods.map((p) => ({ ...p })),
        },
      },
    });
    await enqueueEvents(this.#em, 'directory', [{ subject: this.#topology.directory(event), envelope }]);
  }
}
