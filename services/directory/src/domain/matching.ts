import { justiceKinds, serviceTypes, supportNeeds, type Agency, type ServiceType } from './agency.ts';
import { resolvePlace, type Place } from './geography.ts';
import { isOpenAt } from './hours.ts';
import { Violations } from './violations.ts';

export type Priority = 'urgent' | 'standard';

export interface MatchRequest {
  readonly needs: readonly string[];
  readonly municipality?: string;
  readonly fsa?: string;
  readonly language?: string;
  readonly priority: Priority;
  readonly at: Date;
}

export type PassOverReason =
  'outside_coverage' | 'closed_at_that_hour' | 'not_accepting' | 'no_shared_language' | 'no_matching_service';

export interface Candidate {
  readonly agency: Agency;
  readonly rank: number;
  readonly reasons: readonly string[];
}

export interface PassedOver {
  readonly agencyId: string;
  readonly reasons: readonly PassOverReason[];
}

export interface MatchResult {
  readonly place: Place;
  /** No agency covering the place locally is open and accepting right now. */
  readonly afterHours: boolean;
  readonly candidates: readonly Candidate[];
  readonly passedOver: readonly PassedOver[];
}

export type MatchInput =
  | { ok: true; needs: readonly ServiceType[]; place: Place; language: string | undefined }
  | { ok: false; violations: Violations };

/** Checks a request; every bad field is named. */
export function checkMatchRequest(request: MatchRequest): MatchInput {
  const violations = new Violations();
  if (request.needs.length === 0) violations.add('needs', 'name at least one need, e.g. "counselling"');
  const needs: ServiceType[] = [];
  request.needs.forEach((need, i) => {
    const normal = need.trim().toLowerCase();
    if (!(serviceTypes as readonly string[]).includes(normal)) {
      violations.add(`needs[${i}]`, `unknown need "${need}"; one of ${[...supportNeeds].join(', ')}`);
    } else if (!supportNeeds.has(normal as ServiceType)) {
      violations.add(`needs[${i}]`, `"${need}" is not a support need; Match finds support for a person`);
    } else needs.push(normal as ServiceType);
  });
  const place = resolvePlace({ municipality: request.municipality, fsa: request.fsa }, violations);
  const language = request.language?.trim().toLowerCase() || undefined;
  if (language && !/^[a-z]{2,3}(-[a-z0-9]{2,8})*$/.test(language)) {
    violations.add('language', `"${request.language}" is not a language code such as "fr"`);
  }
  if (!violations.ok || !place) return { ok: false, violations };
  return { ok: true, needs, place, language };
}

function coverageOf(agency: Agency, place: Place): 'local' | 'province' | undefined {
  const { coverage } = agency;
  const local =
    coverage.regions.includes(place.region) ||
    (place.municipality !== undefined && coverage.municipalities.includes(place.municipality)) ||
    (place.fsa !== undefined && coverage.fsas.includes(place.fsa));
  if (local) return 'local';
  return coverage.provinceWide ? 'province' : undefined;
}

function speaks(agency: Agency, language: string): boolean {
  const base = language.split('-')[0]!;
  return agency.languages.some((l) => l === language || l.split('-')[0] === base);
}

interface Eligible {
  agency: Agency;
  local: boolean;
  needsMet: number;
  reasons: string[];
}

/**
 * Ranks the agencies that can take this person now. Justice agencies (police, Crown) are
 * never suggested for a support need. Local agencies that are open rank first; after
 * hours, or with no local match, the 24/7 agencies do.
 */
export function match(
  agencies: readonly Agency[],
  needs: readonly ServiceType[],
  place: Place,
  language: string | undefined,
  priority: Priority,
  at: Date,
): MatchResult {
  const eligible: Eligible[] = [];
  const passedOver: PassedOver[] = [];

  for (const agency of agencies) {
    if (justiceKinds.has(agency.kind)) continue;
    const problems: PassOverReason[] = [];
    const reasons: string[] = [];

    const reach = coverageOf(agency, place);
    if (!reach) problems.push('outside_coverage');
    else reasons.push(reach === 'local' ? `covers ${place.region}` : 'serves all of Ontario');

    const met = needs.filter((need) => agency.services.includes(need));
    if (met.length === 0) problems.push('no_matching_service');
    else reasons.push(`offers ${met.join(', ')}`);

    if (!isOpenAt(agency.hours, at)) problems.push('closed_at_that_hour');
    else reasons.push(agency.hours.alwaysOpen ? 'open 24/7' : 'open now');

    if (!agency.acceptingReferrals) problems.push('not_accepting');

    if (language) {
      if (speaks(agency, language)) reasons.push(`speaks ${language}`);
      else problems.push('no_shared_language');
    }

    if (problems.length > 0) passedOver.push({ agencyId: agency.id, reasons: problems });
    else eligible.push({ agency, local: reach === 'local', needsMet: met.length, reasons });
  }

  const afterHours = !eligible.some((e) => e.local);
  const ackTarget = (a: Agency): number =>
    priority === 'urgent' ? a.sla.acknowledgeUrgentMinutes : a.sla.acknowledgeStandardMinutes;
  eligible.sort(
    (a, b) =>
      Number(b.local) - Number(a.local) ||
      (afterHours ? Number(b.agency.hours.alwaysOpen) - Number(a.agency.hours.alwaysOpen) : 0) ||
      b.needsMet - a.needsMet ||
      ackTarget(a.agency) - ackTarget(b.agency) ||
      a.agency.id.localeCompare(b.agency.id),
  );

  return {
    place,
    afterHours,
    candidates: eligible.map((e, i) => ({ agency: e.agency, rank: i + 1, reasons: e.reasons })),
    passedOver: passedOver.sort((a, b) => a.agencyId.localeCompare(b.agencyId)),
  };
}
