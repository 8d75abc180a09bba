import type { DeliveredEvent } from '@passage/events';
import type { EntityManager } from '@passage/platform';

/**
 * Keeps consent.agencies in step with the directory: which kind each agency is (the
 * police rule depends on it) and its public names (for receipts). Newer versions win.
 */
export async function projectAgency(event: DeliveredEvent, em: EntityManager): Promise<void> {
  const payload = event.envelope.payload;
  if (payload?.$case !== 'agencyChanged') return;
  const agency = payload.value;
  await em.execute(
    `insert into consent.agencies (agency_id, kind, name_en, name_fr, version) values (?, ?, ?, ?, ?)
     on conflict (agency_id) do update set kind = excluded.kind, name_en = excluded.name_en,
       name_fr = excluded.name_fr, version = excluded.version
     where consent.agencies.version < excluded.version`,
    [agency.agencyId, agency.kind, agency.nameEn, agency.nameFr, agency.version],
  );
}
