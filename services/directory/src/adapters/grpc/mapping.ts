import { directory as pb } from '@passage/contracts';
import type { Agency, AgencyListing, OpeningHours, Weekday } from '../../domain/agency.ts';
import type { MatchResult, Priority } from '../../domain/matching.ts';

/** Wire ↔ domain. The wire is permissive (strings); the use cases validate. */
export function agencyToWire(agency: Agency): pb.Agency {
  return {
    id: agency.id,
    nameEn: agency.name.en,
    nameFr: agency.name.fr,
    kind: agency.kind,
    services: [...agency.services],
    coverage: {
      provinceWide: agency.coverage.provinceWide,
      regions: [...agency.coverage.regions],
      municipalities: [...agency.coverage.municipalities],
      fsas: [...agency.coverage.fsas],
    },
    languages: [...agency.languages],
    hours: agency.hours.alwaysOpen
      ? { alwaysOpen: true, periods: [] }
      : { alwaysOpen: false, periods: agency.hours.periods.map((p) => ({ ...p })) },
    acceptingReferrals: agency.acceptingReferrals,
    capacity: agency.capacity,
    sla: { ...agency.sla },
    contact: { ...agency.contact },
    version: agency.version,
  };
}

export function listingFromWire(wire: pb.Agency | undefined): AgencyListing {
  const hours: OpeningHours = wire?.hours?.alwaysOpen
    ? { alwaysOpen: true }
    : { alwaysOpen: false, periods: (wire?.hours?.periods ?? []).map((p) => ({ ...p, day: p.day as Weekday })) };
  return {
    id: wire?.id ?? '',
    name: { en: wire?.nameEn ?? '', fr: wire?.nameFr ?? '' },
    kind: (wire?.kind ?? '') as AgencyListing['kind'],
    services: (wire?.services ?? []) as AgencyListing['services'],
    coverage: {
      provinceWide: wire?.coverage?.provinceWide ?? false,
      regions: wire?.coverage?.regions ?? [],
      municipalities: wire?.coverage?.municipalities ?? [],
      fsas: wire?.coverage?.fsas ?? [],
    },
    languages: wire?.languages ?? [],
    hours,
    acceptingReferrals: wire?.acceptingReferrals ?? false,
    capacity: wire?.capacity ?? 0,
    sla: {
      acknowledgeUrgentMinutes: wire?.sla?.acknowledgeUrgentMinutes ?? 0,
      acceptUrgentMinutes: wire?.sla?.acceptUrgentMinutes ?? 0,
      acknowledgeStandardMinutes: wire?.sla?.acknowledgeStandardMinutes ?? 0,
      acceptStandardMinutes: wire?.sla?.acceptStandardMinutes ?? 0,
    },
    contact: {
      phone: wire?.contact?.phone ?? '',
      email: wire?.contact?.email ?? '',
      website: wire?.contact?.website ?? '',
    },
  };
}

export function priorityFromWire(priority: pb.Priority): Priority {
  return priority === pb.Priority.PRIORITY_URGENT ? 'urgent' : 'standard';
}

export function matchToWire(result: MatchResult): pb.MatchResponse {
  return {
    region: result.place.region,
    afterHours: result.afterHours,
    candidates: result.candidates.map((c) => ({
      agency: agencyToWire(c.agency),
      rank: c.rank,
      reasons: [...c.reasons],
    })),
    passedOver: result.passedOver.map((p) => ({ agencyId: p.agencyId, reasons: [...p.reasons] })),
  };
}
