// The directory's HSDS export held to the rules Open Referral publishes for HSDS 3.x: the
// per-object JSON schemas in openreferral/specification (schema/*.json, read at commit
// 279fd2e). The table below restates, for each object Passage writes, what those schemas
// require of it: required properties, `format: uuid` ids and foreign keys, enumerations,
// `email` and `uri` formats and property types. Every object of an export of the whole
// seeded directory is checked against it.
import { describe, expect, it } from 'vitest';
import { hsdsIdOf, intakeLocationIdOf, organizationIdOf, serviceIdOf, uuidV5 } from '@passage/vocabulary/directory-ids';
import { fromHsds, toHsds } from '../src/domain/hsds.ts';
import { ontarioAgencies } from '../src/seed/ontario.ts';

interface ObjectRules {
  readonly required: readonly string[];
  readonly uuid: readonly string[];
  readonly strings: readonly string[];
  readonly enums?: Readonly<Record<string, readonly string[]>>;
  readonly email?: readonly string[];
  readonly uri?: readonly string[];
  /** Arrays of nested objects, by property, and the object they hold. */
  readonly children?: Readonly<Record<string, string>>;
}

const hsds: Record<string, ObjectRules> = {
  organization: {
    required: ['id', 'name', 'description'],
    uuid: ['id', 'parent_organization_id'],
    strings: ['name', 'alternate_name', 'description', 'email', 'website'],
    email: ['email'],
    uri: ['website', 'uri'],
    children: {
      phones: 'phone',
      locations: 'location',
      services: 'service',
      organization_identifiers: 'organization_identifier',
    },
  },
  organization_identifier: {
    required: ['id', 'identifier_type', 'identifier'],
    uuid: ['id', 'organization_id'],
    strings: ['identifier_scheme', 'identifier_type', 'identifier'],
  },
  service: {
    required: ['id', 'name', 'status'],
    uuid: ['id', 'organization_id', 'program_id'],
    strings: ['name', 'alternate_name', 'description'],
    enums: { status: ['active', 'inactive', 'defunct', 'temporarily closed'] },
    email: ['email'],
    uri: ['url'],
    children: { languages: 'language', service_areas: 'service_area', schedules: 'schedule', phones: 'phone' },
  },
  location: {
    required: ['id', 'location_type'],
    uuid: ['id', 'organization_id'],
    strings: ['name', 'alternate_name', 'description'],
    enums: { location_type: ['physical', 'postal', 'virtual'] },
    uri: ['url'],
  },
  phone: {
    required: ['id', 'number'],
    uuid: ['id', 'location_id', 'service_id', 'organization_id', 'contact_id', 'service_at_location_id'],
    strings: ['number', 'type', 'description'],
  },
  schedule: {
    required: ['id'],
    uuid: ['id', 'service_id', 'location_id', 'service_at_location_id'],
    strings: ['byday', 'opens_at', 'closes_at', 'description'],
    enums: { freq: ['WEEKLY', 'MONTHLY'], wkst: ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] },
  },
  service_area: {
    required: ['id'],
    uuid: ['id', 'service_id'],
    strings: ['name', 'description', 'extent', 'extent_type', 'uri'],
  },
  language: {
    required: ['id'],
    uuid: ['id', 'service_id', 'location_id', 'phone_id'],
    strings: ['name', 'code', 'note'],
  },
};

const uuidFormat = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const emailFormat = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const uriFormat = /^[a-z][a-z0-9+.-]*:\S+$/i;

interface Finding {
  readonly path: string;
  readonly rule: string;
}

/** Every way `value`, an HSDS object of type `type` at `path`, breaks the table above. */
function check(
  type: string,
  value: Record<string, unknown>,
  path: string,
  out: Finding[],
  counts: Map<string, number>,
): void {
  const rules = hsds[type]!;
  counts.set(type, (counts.get(type) ?? 0) + 1);
  for (const name of rules.required) {
    if (value[name] === undefined || value[name] === '') out.push({ path: `${path}.${name}`, rule: 'required' });
  }
  const present = (name: string): boolean => value[name] !== undefined;
  for (const name of rules.uuid.filter(present)) {
    if (typeof value[name] !== 'string' || !uuidFormat.test(value[name])) {
      out.push({ path: `${path}.${name}`, rule: 'format: uuid' });
    }
  }
  for (const name of rules.strings.filter(present)) {
    if (typeof value[name] !== 'string') out.push({ path: `${path}.${name}`, rule: 'type: string' });
  }
  for (const [name, allowed] of Object.entries(rules.enums ?? {}).filter(([name]) => present(name))) {
    if (!allowed.includes(value[name] as string))
      out.push({ path: `${path}.${name}`, rule: `enum ${allowed.join('|')}` });
  }
  for (const name of (rules.email ?? []).filter(present)) {
    if (!emailFormat.test(String(value[name]))) out.push({ path: `${path}.${name}`, rule: 'format: email' });
  }
  for (const name of (rules.uri ?? []).filter(present)) {
    if (!uriFormat.test(String(value[name]))) out.push({ path: `${path}.${name}`, rule: 'format: uri' });
  }
  for (const [name, child] of Object.entries(rules.children ?? {})) {
    if (!present(name)) continue;
    if (!Array.isArray(value[name])) {
      out.push({ path: `${path}.${name}`, rule: 'type: array' });
      continue;
    }
    (value[name] as Record<string, unknown>[]).forEach((item, i) =>
      check(child, item, `${path}.${name}[${i}]`, out, counts),
    );
  }
}

function allIds(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) allIds(item, out);
  else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key === 'id' && typeof item === 'string') out.push(item);
      else allIds(item, out);
    }
  }
  return out;
}

const seeded = ontarioAgencies.map((listing) => ({ ...listing, version: 1 }));

describe('HSDS 3.x conformance of the export', () => {
  it('computes name-based UUIDs as RFC 9562 does', () => {
    // RFC 9562 appendix A.4: the DNS namespace and "www.example.com".
    expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
    expect(hsdsIdOf('organization:pact-ottawa')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-/);
  });

  it('breaks none of the published rules, on every object of the seeded directory', () => {
    const doc = JSON.parse(JSON.stringify(toHsds(seeded, hsdsIdOf))) as { organizations: Record<string, unknown>[] };
    expect(doc.organizations.length).toBe(ontarioAgencies.length);
    const findings: Finding[] = [];
    const counts = new Map<string, number>();
    doc.organizations.forEach((org, i) => check('organization', org, `$.organizations[${i}]`, findings, counts));
    expect(findings).toEqual([]);
    // Every kind of object was there to be checked.
    for (const type of Object.keys(hsds)) expect(counts.get(type) ?? 0, type).toBeGreaterThan(0);
  });

  it('gives every object its own id, the same one in every export', () => {
    const first = allIds(toHsds(seeded, hsdsIdOf));
    expect(first.length).toBeGreaterThan(ontarioAgencies.length);
    expect(new Set(first).size).toBe(first.length);
    expect(allIds(toHsds(seeded, hsdsIdOf))).toEqual(first);
  });

  it('keeps the agency id as an organization identifier and reads it back', () => {
    const doc = toHsds(seeded, hsdsIdOf);
    const org = doc.organizations.find((o) => o.name === ontarioAgencies[0]!.name.en)!;
    expect(org.id).toBe(hsdsIdOf(`organization:${ontarioAgencies[0]!.id}`));
    // The ids the FHIR export names the agency, its services and its intake desk by (ADR 44).
    const agency = ontarioAgencies[0]!;
    expect(org.id).toBe(organizationIdOf(agency.id));
    expect(org.services.map((s) => s.id)).toEqual(agency.services.map((s) => serviceIdOf(agency.id, s)));
    expect(org.locations.map((l) => l.id)).toEqual([intakeLocationIdOf(agency.id)]);
    expect(org.organization_identifiers).toEqual([
      expect.objectContaining({ identifier_type: 'passage_agency_id', identifier: ontarioAgencies[0]!.id }),
    ]);
    const parsed = fromHsds(JSON.stringify(doc));
    expect(parsed.ok && parsed.listings.map((l) => l.id)).toEqual(ontarioAgencies.map((l) => l.id));
  });

  it('still imports an export written before the UUIDs, with the slug as the id', () => {
    const doc = toHsds(seeded, (name) => name.split(':').slice(1).join('-'));
    for (const org of doc.organizations) {
      org.id = org.organization_identifiers![0]!.identifier;
      org.organization_identifiers = [];
    }
    const parsed = fromHsds(JSON.stringify(doc));
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(parsed.listings).toEqual(ontarioAgencies.map((l) => ({ ...l })));
  });

  it('refuses a UUID organization that does not say which agency it is', () => {
    const doc = toHsds(seeded, hsdsIdOf);
    doc.organizations[2]!.organization_identifiers = [];
    const parsed = fromHsds(JSON.stringify(doc));
    expect(!parsed.ok && parsed.errors.map((e) => e.field)).toEqual(['$.organizations[2].organization_identifiers']);
  });

  it('names the identifier, not the id, when the agency id it carries is not a slug', () => {
    const doc = toHsds(seeded, hsdsIdOf);
    doc.organizations[1]!.organization_identifiers![0]!.identifier = 'Not A Slug';
    const parsed = fromHsds(JSON.stringify(doc));
    expect(!parsed.ok && parsed.errors.map((e) => e.field)).toEqual(['$.organizations[1].organization_identifiers']);
  });
});
