import { z } from 'zod';
import {
  weekdays,
  type Agency,
  type AgencyListing,
  type OpeningHours,
  type ServiceType,
  type Weekday,
} from './agency.ts';
import { validateListing } from './validate-agency.ts';
import { Violations, type Violation } from './violations.ts';

/**
 * Open Referral HSDS 3.x JSON for the directory, so agencies can bring the listings they
 * already keep. Each agency is an organization; each service it offers is an HSDS service
 * carrying the agency's languages, service areas and schedules; the intake desk is a
 * virtual location. What HSDS has no field for (agency kind, SLA targets, capacity) travels
 * in the organization's `x_passage` extension (docs/adr/0007-hsds-mapping.md).
 */
export const hsdsVersion = '3.0';

const byDay: Record<Weekday, string> = { mon: 'MO', tue: 'TU', wed: 'WE', thu: 'TH', fri: 'FR', sat: 'SA', sun: 'SU' };
const dayOfByDay = new Map(Object.entries(byDay).map(([day, code]) => [code, day as Weekday]));
const allDays = weekdays.map((day) => byDay[day]).join(',');

const languageSchema = z.object({ id: z.string().min(1), code: z.string().min(1) });
const serviceAreaSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  extent_type: z.enum(['province', 'region', 'municipality', 'postal_code']),
});
const scheduleSchema = z.object({
  id: z.string().min(1),
  freq: z.literal('WEEKLY'),
  byday: z.string().min(2),
  opens_at: z.string(),
  closes_at: z.string(),
  description: z.string().optional(),
});
const serviceSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  status: z.enum(['active', 'inactive']),
  languages: z.array(languageSchema),
  service_areas: z.array(serviceAreaSchema),
  schedules: z.array(scheduleSchema),
});
const organizationSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  alternate_name: z.string(),
  description: z.string(),
  email: z.string().default(''),
  website: z.string().default(''),
  organization_identifiers: z
    .array(
      z.object({
        id: z.string().min(1),
        identifier_type: z.string().min(1),
        identifier: z.string().min(1),
      }),
    )
    .default([]),
  phones: z.array(z.object({ id: z.string().min(1), number: z.string().min(1) })),
  locations: z.array(
    z.object({ id: z.string().min(1), name: z.string(), location_type: z.enum(['physical', 'postal', 'virtual']) }),
  ),
  services: z.array(serviceSchema).min(1),
  x_passage: z.object({
    kind: z.string().min(1),
    accepting_referrals: z.boolean(),
    capacity: z.number(),
    version: z.number().int().min(0).optional(),
    sla: z.object({
      acknowledge_urgent_minutes: z.number(),
      accept_urgent_minutes: z.number(),
      acknowledge_standard_minutes: z.number(),
      accept_standard_minutes: z.number(),
    }),
  }),
});
const documentSchema = z.object({
  hsds_version: z.string().regex(/^3\./, 'only HSDS 3.x is supported'),
  organizations: z.array(organizationSchema),
});

/** What Passage writes; what it reads may leave out what has a default. */
export type HsdsDocument = z.input<typeof documentSchema>;
type HsdsOrganization = z.infer<typeof organizationSchema>;

/**
 * Names a stable HSDS id (a UUID, as HSDS 3.x requires of every object) from a Passage name
 * such as "organization:pact-ottawa". The caller gives a UUIDv5 (@passage/vocabulary/directory-ids),
 * so the same listing always exports with the same ids and exports stay diffable.
 */
export type HsdsIdOf = (name: string) => string;

/** The organization identifier that carries an agency's Passage id (its slug) in HSDS. */
export const passageIdentifierType = 'passage_agency_id';

export function toHsds(agencies: readonly Agency[], idOf: HsdsIdOf): HsdsDocument {
  return {
    hsds_version: hsdsVersion,
    organizations: agencies.map((agency) => {
      const orgId = idOf(`organization:${agency.id}`);
      const serviceAreas = [
        ...(agency.coverage.provinceWide ? [{ name: 'ontario', extent_type: 'province' as const }] : []),
        ...agency.coverage.regions.map((name) => ({ name, extent_type: 'region' as const })),
        ...agency.coverage.municipalities.map((name) => ({ name, extent_type: 'municipality' as const })),
        ...agency.coverage.fsas.map((name) => ({ name, extent_type: 'postal_code' as const })),
      ];
      const schedules = agency.hours.alwaysOpen
        ? [
            {
              freq: 'WEEKLY' as const,
              byday: allDays,
              opens_at: '00:00',
              closes_at: '23:59',
              description: 'Open 24 hours a day, 7 days a week',
            },
          ]
        : agency.hours.periods.map((p) => ({
            freq: 'WEEKLY' as const,
            byday: byDay[p.day],
            opens_at: p.opens,
            closes_at: p.closes,
          }));
      return {
        id: orgId,
        name: agency.name.en,
        alternate_name: agency.name.fr,
        description: `${agency.name.en} (${agency.kind.replace('_', ' ')})`,
        // HSDS gives email the "email" format and website the "uri" format: an empty one is left out.
        ...(agency.contact.email ? { email: agency.contact.email } : {}),
        ...(agency.contact.website ? { website: agency.contact.website } : {}),
        organization_identifiers: [
          {
            id: idOf(`organization_identifier:${agency.id}`),
            organization_id: orgId,
            identifier_type: passageIdentifierType,
            identifier: agency.id,
          },
        ],
        phones: agency.contact.phone
          ? [{ id: idOf(`phone:${agency.id}`), organization_id: orgId, number: agency.contact.phone }]
          : [],
        locations: [
          {
            id: idOf(`location:${agency.id}:intake`),
            organization_id: orgId,
            name: `${agency.name.en} intake`,
            location_type: 'virtual' as const,
          },
        ],
        services: agency.services.map((service) => {
          const serviceId = idOf(`service:${agency.id}:${service}`);
          const own = (what: string, i: number | string): string => idOf(`${what}:${agency.id}:${service}:${i}`);
          return {
            id: serviceId,
            organization_id: orgId,
            name: service,
            status: agency.acceptingReferrals ? ('active' as const) : ('inactive' as const),
            languages: agency.languages.map((code) => ({ id: own('language', code), service_id: serviceId, code })),
            service_areas: serviceAreas.map((area, i) => ({
              id: own('service_area', i + 1),
              service_id: serviceId,
              ...area,
            })),
            schedules: schedules.map((schedule, i) => ({
              id: own('schedule', i + 1),
              service_id: serviceId,
              ...schedule,
            })),
          };
        }),
        x_passage: {
          kind: agency.kind,
          accepting_referrals: agency.acceptingReferrals,
          capacity: agency.capacity,
          version: agency.version,
          sla: {
            acknowledge_urgent_minutes: agency.sla.acknowledgeUrgentMinutes,
            accept_urgent_minutes: agency.sla.acceptUrgentMinutes,
            acknowledge_standard_minutes: agency.sla.acknowledgeStandardMinutes,
            accept_standard_minutes: agency.sla.acceptStandardMinutes,
          },
        },
      };
    }),
  };
}

export type HsdsImport = { ok: true; listings: AgencyListing[] } | { ok: false; errors: Violation[] };

function jsonPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : `${out}.${String(key)}`), '$');
}

/** Parses a whole HSDS document; any error rejects it whole, each error with its JSON path. */
export function fromHsds(json: string): HsdsImport {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    return { ok: false, errors: [{ field: '$', description: `not valid JSON: ${(error as Error).message}` }] };
  }
  const parsed = documentSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((issue) => ({ field: jsonPath(issue.path), description: issue.message })),
    };
  }
  const violations = new Violations();
  const seen = new Set<string>();
  const listings = parsed.data.organizations.map((org, i) => {
    const base = `$.organizations[${i}]`;
    const agencyId = agencyIdOf(org, base, violations);
    if (seen.has(agencyId)) violations.add(`${base}.id`, `organization "${agencyId}" appears twice`);
    seen.add(agencyId);
    const listing = organizationToListing(org, agencyId, base, violations);
    const fromIdentifier = agencyId !== org.id;
    validateListing(listing, violations, (field) =>
      fromIdentifier && field === 'id' ? `${base}.organization_identifiers` : `${base}.${hsdsFieldOf(field)}`,
    );
    return listing;
  });
  const unique = dedupe(violations.list);
  return unique.length > 0 ? { ok: false, errors: unique } : { ok: true, listings };
}

function dedupe(list: readonly Violation[]): Violation[] {
  const keys = new Set<string>();
  return list.filter((v) => {
    const key = `${v.field}\u0000${v.description}`;
    if (keys.has(key)) return false;
    keys.add(key);
    return true;
  });
}

/** Where a listing field lives in the HSDS document (first service where it is repeated per service). */
function hsdsFieldOf(field: string): string {
  return field
    .replace(/^name_en$/, 'name')
    .replace(/^name_fr$/, 'alternate_name')
    .replace(/^(kind|capacity|sla\..*)$/, 'x_passage.$1')
    .replace(/^services\[(\d+)\]$/, 'services[$1].name')
    .replace(
      /^languages(\[\d+\])?$/,
      (_, i: string | undefined) => `services[0].languages${i ?? ''}${i ? '.code' : ''}`,
    )
    .replace(/^coverage.*$/, 'services[0].service_areas')
    .replace(/^hours.*$/, 'services[0].schedules');
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The Passage agency id of an organization: from its `passage_agency_id` identifier when its
 * id is a UUID (HSDS 3.x, what Passage exports), or its id itself (exports before the UUIDs).
 */
function agencyIdOf(org: HsdsOrganization, base: string, violations: Violations): string {
  const identifiers = org.organization_identifiers.filter((i) => i.identifier_type === passageIdentifierType);
  if (identifiers.length > 1) {
    violations.add(`${base}.organization_identifiers`, `only one identifier of type ${passageIdentifierType}`);
  }
  const identifier = identifiers[0]?.identifier;
  if (identifier !== undefined) return identifier;
  if (uuid.test(org.id)) {
    violations.add(
      `${base}.organization_identifiers`,
      `an organization with a UUID id needs its Passage agency id (such as "pact-ottawa") as an organization identifier of type ${passageIdentifierType}`,
    );
  }
  return org.id;
}

function organizationToListing(
  org: HsdsOrganization,
  agencyId: string,
  base: string,
  violations: Violations,
): AgencyListing {
  const first = org.services[0]!;
  const languages = [...new Set(org.services.flatMap((s) => s.languages.map((l) => l.code)))];
  const areas = org.services.flatMap((s) => s.service_areas);
  const hours = scheduleToHours(first.schedules, `${base}.services[0].schedules`, violations);
  org.services.forEach((service, j) => {
    if (JSON.stringify(service.schedules.map(stripId)) !== JSON.stringify(first.schedules.map(stripId))) {
      violations.add(`${base}.services[${j}].schedules`, 'every service of an organization must keep the same hours');
    }
  });
  const unique = (type: string): string[] => [
    ...new Set(areas.filter((a) => a.extent_type === type).map((a) => a.name)),
  ];
  return {
    id: agencyId,
    name: { en: org.name, fr: org.alternate_name },
    kind: org.x_passage.kind as AgencyListing['kind'],
    services: org.services.map((s) => s.name as ServiceType),
    coverage: {
      provinceWide: areas.some((a) => a.extent_type === 'province'),
      regions: unique('region'),
      municipalities: unique('municipality'),
      fsas: unique('postal_code'),
    },
    languages,
    hours,
    acceptingReferrals: org.x_passage.accepting_referrals,
    capacity: org.x_passage.capacity,
    sla: {
      acknowledgeUrgentMinutes: org.x_passage.sla.acknowledge_urgent_minutes,
      acceptUrgentMinutes: org.x_passage.sla.accept_urgent_minutes,
      acknowledgeStandardMinutes: org.x_passage.sla.acknowledge_standard_minutes,
      acceptStandardMinutes: org.x_passage.sla.accept_standard_minutes,
    },
    contact: { phone: org.phones[0]?.number ?? '', email: org.email, website: org.website },
  };
}

function stripId<T extends { id: string }>({ id: _id, ...rest }: T): Omit<T, 'id'> {
  return rest;
}

function scheduleToHours(
  schedules: HsdsOrganization['services'][number]['schedules'],
  path: string,
  violations: Violations,
): OpeningHours {
  const everyDay = (s: (typeof schedules)[number]): boolean =>
    s.byday.split(',').length === 7 && s.opens_at === '00:00' && s.closes_at === '23:59';
  if (schedules.length === 1 && everyDay(schedules[0]!)) return { alwaysOpen: true };
  const periods = schedules.flatMap((schedule, k) =>
    schedule.byday.split(',').map((code) => {
      const day = dayOfByDay.get(code.trim().toUpperCase());
      if (!day) violations.add(`${path}[${k}].byday`, `"${code}" is not a day code (MO, TU, WE, TH, FR, SA, SU)`);
      return { day: day ?? 'mon', opens: schedule.opens_at, closes: schedule.closes_at };
    }),
  );
  return { alwaysOpen: false, periods };
}
