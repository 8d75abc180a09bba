import { describe, expect, it } from 'vitest';
import { intakeLocationIdOf, organizationIdOf, serviceIdOf } from '@passage/vocabulary/directory-ids';
import { r4Problems } from '../../../test/fhir-validation.ts';
import { agencyLocation, agencyOrganization, agencyServices, weeklyHours, type AgencyFacts } from './directory.ts';

function agency(over: Partial<AgencyFacts> = {}): AgencyFacts {
  return {
    id: 'london-coalition',
    nameEn: 'London Anti-Trafficking Coalition',
    nameFr: 'Coalition de London contre la traite',
    kind: 'coalition',
    services: ['counselling', 'housing'],
    languages: ['en', 'fr'],
    acceptingReferrals: true,
    alwaysOpen: false,
    periods: [{ day: 'mon', opens: '09:00', closes: '17:00' }],
    phone: '+1-519-555-0100',
    email: 'intake@london.example',
    website: 'https://london.example',
    ...over,
  };
}

describe('the directory in FHIR', () => {
  it('names an agency, its services and its intake desk by the ids the HSDS export gives them', () => {
    const organization = agencyOrganization(agency());
    expect(organization).toEqual({
      resourceType: 'Organization',
      id: organizationIdOf('london-coalition'),
      identifier: [{ system: 'urn:passage:agency', value: 'london-coalition' }],
      active: true,
      type: [{ coding: [{ system: 'urn:passage:agency-kind', code: 'coalition' }] }],
      name: 'London Anti-Trafficking Coalition',
      alias: ['Coalition de London contre la traite'],
      telecom: [
        { system: 'phone', value: '+1-519-555-0100' },
        { system: 'email', value: 'intake@london.example' },
        { system: 'url', value: 'https://london.example' },
      ],
    });
    const services = agencyServices(agency());
    expect(services.map((s) => s.id)).toEqual([
      serviceIdOf('london-coalition', 'counselling'),
      serviceIdOf('london-coalition', 'housing'),
    ]);
    expect(services[0]).toMatchObject({
      active: true,
      providedBy: { reference: `Organization/${organization.id}` },
      location: [{ reference: `Location/${intakeLocationIdOf('london-coalition')}` }],
      type: [{ coding: [{ system: 'urn:passage:service-type', code: 'counselling' }] }],
      communication: [
        { coding: [{ system: 'urn:ietf:bcp:47', code: 'en' }] },
        { coding: [{ system: 'urn:ietf:bcp:47', code: 'fr' }] },
      ],
      availableTime: [{ daysOfWeek: ['mon'], availableStartTime: '09:00:00', availableEndTime: '17:00:00' }],
    });
    expect(agencyServices(agency({ acceptingReferrals: false }))[0]?.active).toBe(false);
    const location = agencyLocation(agency());
    expect(location).toMatchObject({
      id: intakeLocationIdOf('london-coalition'),
      physicalType: { coding: [{ code: 'vi' }] },
      managingOrganization: { reference: `Organization/${organization.id}` },
    });
    for (const resource of [organization, ...services, location]) expect(r4Problems(resource)).toEqual([]);
  });

  it('gives opening hours in FHIR’s days and times: always open, and past midnight split at it', () => {
    expect(weeklyHours({ alwaysOpen: true, periods: [] })).toEqual([
      { daysOfWeek: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], allDay: true },
    ]);
    expect(
      weeklyHours({
        alwaysOpen: false,
        periods: [
          { day: 'sun', opens: '20:00', closes: '02:30' },
          { day: 'fri', opens: '18:00', closes: '00:00' },
        ],
      }),
    ).toEqual([
      { daysOfWeek: ['sun'], openingTime: '20:00:00', closingTime: '23:59:59' },
      { daysOfWeek: ['mon'], openingTime: '00:00:00', closingTime: '02:30:00' },
      { daysOfWeek: ['fri'], openingTime: '18:00:00', closingTime: '23:59:59' },
    ]);
    const open247 = agency({ alwaysOpen: true, periods: [], phone: '', email: '', website: '', nameFr: '' });
    expect(agencyOrganization(open247).telecom).toBeUndefined();
    expect(agencyOrganization(open247).alias).toEqual([]);
    for (const resource of [agencyLocation(open247), ...agencyServices(open247)])
      expect(r4Problems(resource)).toEqual([]);
  });
});
