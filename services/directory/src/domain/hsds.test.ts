import { describe, expect, it } from 'vitest';
import { ontarioAgencies } from '../seed/ontario.ts';
import { hsdsIdOf } from '@passage/vocabulary/directory-ids';
import { fromHsds, toHsds } from './hsds.ts';
import { validateListing } from './validate-agency.ts';
import { Violations } from './violations.ts';

const seeded = ontarioAgencies.map((listing) => ({ ...listing, version: 1 }));

describe('the seeded directory', () => {
  it('passes every listing rule', () => {
    for (const listing of ontarioAgencies) {
      const violations = new Violations();
      validateListing(listing, violations);
      expect(violations.list, listing.id).toEqual([]);
    }
  });

  it('uses only fictional phone numbers', () => {
    for (const listing of ontarioAgencies) expect(listing.contact.phone).toMatch(/^\+1-555-01\d\d$/);
  });
});

describe('HSDS', () => {
  it('round-trips the seeded directory', () => {
    const parsed = fromHsds(JSON.stringify(toHsds(seeded, hsdsIdOf)));
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(parsed.listings).toEqual(ontarioAgencies.map((l) => ({ ...l })));
  });

  it('rejects a document whole, listing every error with its JSON path', () => {
    const doc = toHsds(seeded, hsdsIdOf);
    doc.organizations[1]!.x_passage.kind = 'vigilante';
    doc.organizations[2]!.services[0]!.name = 'astrology';
    doc.organizations[3]!.services[0]!.service_areas.push({ id: 'x', name: 'Z9Z', extent_type: 'postal_code' });
    (doc.organizations[4] as { name?: string }).name = undefined;
    doc.organizations[5]!.services[0]!.schedules[0]!.byday = 'XX';
    const parsed = fromHsds(JSON.stringify(doc));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.errors.map((e) => e.field)).toEqual(['$.organizations[4].name']);

    // With the structural error mended, the rule errors all come back at once.
    doc.organizations[4]!.name = 'Mended';
    const again = fromHsds(JSON.stringify(doc));
    expect(again.ok).toBe(false);
    if (!again.ok) {
      expect(again.errors.map((e) => e.field)).toEqual([
        '$.organizations[1].x_passage.kind',
        '$.organizations[2].services[0].name',
        '$.organizations[3].services[0].service_areas',
        '$.organizations[5].services[0].schedules[0].byday',
        // Only the first service's hours were changed, so every other service now disagrees with it.
        ...[1, 2, 3, 4, 5].map((j) => `$.organizations[5].services[${j}].schedules`),
      ]);
    }
  });

  it('rejects what is not JSON, and other HSDS versions', () => {
    const notJson = fromHsds('{"hsds_version": ');
    expect(!notJson.ok && notJson.errors[0]?.field).toBe('$');
    const v2 = fromHsds(JSON.stringify({ ...toHsds(seeded, hsdsIdOf), hsds_version: '2.0' }));
    expect(!v2.ok && v2.errors[0]?.field).toBe('$.hsds_version');
  });

  it('rejects an organization listed twice', () => {
    const doc = toHsds(seeded, hsdsIdOf);
    doc.organizations.push(doc.organizations[0]!);
    const parsed = fromHsds(JSON.stringify(doc));
    expect(!parsed.ok && parsed.errors.map((e) => e.field)).toEqual([
      `$.organizations[${doc.organizations.length - 1}].id`,
    ]);
  });
});
