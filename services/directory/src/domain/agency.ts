/** The agency directory's vocabulary: closed sets, so a typo is an error rather than a silent miss. */

import {
  agencyKinds,
  serviceTypes,
  supportNeeds as needs,
  type AgencyKind,
  type ServiceType,
} from '@passage/vocabulary';

export { agencyKinds, serviceTypes, type AgencyKind, type ServiceType };

/** Kinds that enforce or prosecute; never suggested to a victim for a support need. */
export const justiceKinds: ReadonlySet<AgencyKind> = new Set(['police', 'crown']);

/** What a victim may need; investigation and prosecution advice serve the police, not the person. */
export const supportNeeds: ReadonlySet<ServiceType> = new Set(needs);

// Opening hours are also what standard hand-off targets count: one vocabulary, in @passage/sla.
import type { OpeningHours } from '@passage/sla';
export { weekdays, type OpeningHours, type Weekday, type WeeklyPeriod } from '@passage/sla';

export interface Coverage {
  readonly provinceWide: boolean;
  readonly regions: readonly string[];
  readonly municipalities: readonly string[];
  readonly fsas: readonly string[];
}

/** Minutes the agency commits to for acknowledging and accepting a referral. */
export interface SlaTargets {
  readonly acknowledgeUrgentMinutes: number;
  readonly acceptUrgentMinutes: number;
  readonly acknowledgeStandardMinutes: number;
  readonly acceptStandardMinutes: number;
}

/** The agency's intake desk: placeholders in the seed, never a victim's details. */
export interface Contact {
  readonly phone: string;
  readonly email: string;
  readonly website: string;
}

export interface Agency {
  readonly id: string;
  readonly name: { readonly en: string; readonly fr: string };
  readonly kind: AgencyKind;
  readonly services: readonly ServiceType[];
  readonly coverage: Coverage;
  readonly languages: readonly string[];
  readonly hours: OpeningHours;
  readonly acceptingReferrals: boolean;
  /** Open places; 0 means "not counted" (capacity does not limit referrals). */
  readonly capacity: number;
  readonly sla: SlaTargets;
  readonly contact: Contact;
  readonly version: number;
}

/** An agency as submitted for creation or replacement: the version is the directory's to assign. */
export type AgencyListing = Omit<Agency, 'version'>;
