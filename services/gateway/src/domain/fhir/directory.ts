import { intakeLocationIdOf, organizationIdOf, serviceIdOf } from '@passage/vocabulary/directory-ids';
import {
  coded,
  hl7,
  passageSystems as systems,
  type ContactPoint,
  type HealthcareService,
  type HoursOfOperation,
  type Location,
  type Organization,
} from './resources.ts';

/**
 * The directory in FHIR (docs/adr/0044-fhir-r4-export.md): each agency an Organization, each
 * service it offers a HealthcareService, its intake desk a (virtual) Location — with the ids
 * the HSDS export gives the same objects (ADR 7), so the two exports agree. Pure.
 */

export const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

export interface AgencyFacts {
  /** The slug: "london-coalition". */
  readonly id: string;
  readonly nameEn: string;
  readonly nameFr: string;
  readonly kind: string;
  readonly services: readonly string[];
  /** BCP 47. */
  readonly languages: readonly string[];
  readonly acceptingReferrals: boolean;
  readonly alwaysOpen: boolean;
  /** Weekly, America/Toronto: day mon…sun, "HH:MM"; closes before opens runs past midnight. */
  readonly periods: readonly { readonly day: string; readonly opens: string; readonly closes: string }[];
  /** The intake desk's (never a person's). */
  readonly phone: string;
  readonly email: string;
  readonly website: string;
}

function telecom(agency: AgencyFacts, withWebsite: boolean): { telecom?: ContactPoint[] } {
  const points: ContactPoint[] = [
    ...(agency.phone ? [{ system: 'phone' as const, value: agency.phone }] : []),
    ...(agency.email ? [{ system: 'email' as const, value: agency.email }] : []),
    ...(withWebsite && agency.website ? [{ system: 'url' as const, value: agency.website }] : []),
  ];
  return points.length > 0 ? { telecom: points } : {};
}

/**
 * Weekly opening hours as FHIR's days and times. A period past midnight is split at it: its
 * day until 23:59:59 (FHIR's time has no 24:00), the next day from 00:00:00; always open is
 * every day, all day.
 */
export function weeklyHours(agency: Pick<AgencyFacts, 'alwaysOpen' | 'periods'>): HoursOfOperation[] {
  if (agency.alwaysOpen) return [{ daysOfWeek: [...weekdays], allDay: true }];
  const seconds = (hhmm: string): string => `${hhmm}:00`;
  return agency.periods.flatMap((period) => {
    if (period.opens < period.closes)
      return [{ daysOfWeek: [period.day], openingTime: seconds(period.opens), closingTime: seconds(period.closes) }];
    const next = weekdays[(weekdays.indexOf(period.day as (typeof weekdays)[number]) + 1) % weekdays.length]!;
    return [
      { daysOfWeek: [period.day], openingTime: seconds(period.opens), closingTime: '23:59:59' },
      ...(period.closes === '00:00'
        ? []
        : [{ daysOfWeek: [next], openingTime: '00:00:00', closingTime: seconds(period.closes) }]),
    ];
  });
}

export function agencyOrganization(agency: AgencyFacts): Organization {
  return {
    resourceType: 'Organization',
    id: organizationIdOf(agency.id),
    identifier: [{ system: systems.agency, value: agency.id }],
    active: true,
    type: [coded(systems.agencyKind, agency.kind)],
    name: agency.nameEn,
    alias: agency.nameFr && agency.nameFr !== agency.nameEn ? [agency.nameFr] : [],
    ...telecom(agency, true),
  };
}

/** One per service the agency offers, as HSDS has one service each; active while it accepts referrals. */
export function agencyServices(agency: AgencyFacts): HealthcareService[] {
  const hours = weeklyHours(agency);
  return agency.services.map((service) => ({
    resourceType: 'HealthcareService',
    id: serviceIdOf(agency.id, service),
    active: agency.acceptingReferrals,
    providedBy: { reference: `Organization/${organizationIdOf(agency.id)}` },
    type: [coded(systems.serviceType, service)],
    location: [{ reference: `Location/${intakeLocationIdOf(agency.id)}` }],
    name: service,
    ...(agency.languages.length > 0
      ? { communication: agency.languages.map((language) => coded(hl7.bcp47, language)) }
      : {}),
    // Referrals reach the agency through Passage: secure electronic messaging.
    referralMethod: [coded(hl7.referralMethod, 'elec', 'Secure Messaging')],
    availableTime: hours.map(({ daysOfWeek, allDay, openingTime, closingTime }) => ({
      daysOfWeek,
      ...(allDay ? { allDay } : {}),
      ...(openingTime ? { availableStartTime: openingTime } : {}),
      ...(closingTime ? { availableEndTime: closingTime } : {}),
    })),
  }));
}

/** The intake desk: a virtual location (HSDS location_type virtual), open when the agency is. */
export function agencyLocation(agency: AgencyFacts): Location {
  return {
    resourceType: 'Location',
    id: intakeLocationIdOf(agency.id),
    status: 'active',
    mode: 'instance',
    name: `${agency.nameEn} intake`,
    ...telecom(agency, false),
    physicalType: coded(hl7.locationPhysicalType, 'vi', 'Virtual'),
    managingOrganization: { reference: `Organization/${organizationIdOf(agency.id)}` },
    hoursOfOperation: weeklyHours(agency),
  };
}
