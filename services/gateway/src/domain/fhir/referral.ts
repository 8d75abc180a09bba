import { organizationIdOf } from '@passage/vocabulary/directory-ids';
import {
  coded,
  hl7,
  masked,
  passageSystems as systems,
  type CodeableConcept,
  type Coding,
  type Reference,
  type ServiceRequest,
  type ServiceRequestStatus,
  type Task,
  type TaskParameter,
  type TaskStatus,
} from './resources.ts';

/**
 * A referral as a ServiceRequest (what was asked of whom) and a Task (the hand-off's
 * lifecycle), after the closed-loop referral pattern of the HL7 SDOH Clinical Care IG
 * (docs/adr/0044-fhir-r4-export.md). Pure: the facts come in, resources go out.
 */

export const referralStates = [
  'sent',
  'acknowledged',
  'accepted',
  'in_contact',
  'closed',
  'declined',
  'withdrawn',
] as const;
export type ReferralState = (typeof referralStates)[number];

/**
 * What Passage tells of a referral. A single read (ReferralService.Get) has all of it; the
 * bulk export (the audit log's metadata) has no reference, subject, needs, assignee or
 * do-not-contact, and those parts are then left out.
 */
export interface ReferralFacts {
  readonly id: string;
  /** "R-7K3M-Q9"; empty when not known. */
  readonly reference: string;
  /** The pseudonymous subject reference; empty when not told (the bulk export). */
  readonly subjectRef: string;
  readonly fromAgency: string;
  readonly toAgency: string;
  /** The crisis line acting as recipient since a take-over; empty when none. */
  readonly takenOverBy: string;
  readonly priority: 'urgent' | 'standard';
  readonly state: ReferralState;
  /** The decline or withdrawal reason, or the close outcome: a code, never free text. */
  readonly reason: string;
  readonly needs: readonly string[];
  readonly doNotContact: boolean;
  /** The receiving worker it is assigned to; empty when unassigned. */
  readonly assignedUser: string;
  readonly previousReferralId: string;
  readonly escalated: boolean;
  readonly afterHours: boolean;
  readonly sentAt: Date;
  readonly acknowledgedAt?: Date | undefined;
  readonly acceptedAt?: Date | undefined;
  readonly contactAt?: Date | undefined;
  readonly closedAt?: Date | undefined;
  readonly declinedAt?: Date | undefined;
  readonly withdrawnAt?: Date | undefined;
  readonly assignedAt?: Date | undefined;
  readonly takenOverAt?: Date | undefined;
}

/** What only a single read carries, as consent let the caller's agency have it at that moment. */
export interface ReferralReading {
  /** Every category the sender wrote, in its order; `content` empty where withheld. */
  readonly packet: readonly { readonly category: string; readonly content: string; readonly withheld: boolean }[];
  /** The caller's agency's own note on its decline or close; empty when none or not allowed. */
  readonly note: string;
  /** The consents the referral was sent under. */
  readonly consentIds: readonly string[];
}

export const taskStatusOf: Record<ReferralState, TaskStatus> = {
  sent: 'requested',
  acknowledged: 'received',
  accepted: 'accepted',
  in_contact: 'in-progress',
  closed: 'completed',
  declined: 'rejected',
  withdrawn: 'cancelled',
};

/** The referral states a Task status stands for (a search by status asks for these). */
export function statesOfTaskStatus(status: string): ReferralState[] {
  return referralStates.filter((state) => taskStatusOf[state] === status);
}

export const serviceRequestStatusOf: Record<ReferralState, ServiceRequestStatus> = {
  sent: 'active',
  acknowledged: 'active',
  accepted: 'active',
  in_contact: 'active',
  closed: 'completed',
  declined: 'revoked',
  withdrawn: 'revoked',
};

export const organizationReference = (agencyId: string): Reference => ({
  reference: `Organization/${organizationIdOf(agencyId)}`,
});

/** The person, by the pseudonymous reference only (Passage has no Patient resource); masked when not told. */
function subjectReference(subjectRef: string): Reference {
  return subjectRef
    ? { type: 'Patient', identifier: { system: systems.subject, value: subjectRef } }
    : { extension: [{ url: hl7.dataAbsentReasonExtension, valueCode: 'masked' }] };
}

const iso = (at: Date | undefined): string | undefined => at?.toISOString();

/** The agency acting as recipient now: the crisis line after a take-over, else the one it was sent to. */
const actingRecipient = (referral: ReferralFacts): string => referral.takenOverBy || referral.toAgency;

function lastModified(referral: ReferralFacts): Date {
  const times = [
    referral.sentAt,
    referral.acknowledgedAt,
    referral.acceptedAt,
    referral.contactAt,
    referral.closedAt,
    referral.declinedAt,
    referral.withdrawnAt,
    referral.assignedAt,
    referral.takenOverAt,
  ].filter((at): at is Date => at !== undefined);
  return new Date(Math.max(...times.map((at) => at.getTime())));
}

function flags(referral: ReferralFacts): Coding[] {
  return [
    ...(referral.escalated ? [{ system: systems.referralFlag, code: 'escalated' }] : []),
    ...(referral.takenOverBy ? [{ system: systems.referralFlag, code: 'taken-over' }] : []),
    ...(referral.afterHours ? [{ system: systems.referralFlag, code: 'after-hours' }] : []),
  ];
}

const identifiers = (referral: ReferralFacts) =>
  referral.reference ? { identifier: [{ system: systems.referralReference, value: referral.reference }] } : {};

const tags = (referral: ReferralFacts) => {
  const tag = flags(referral);
  return tag.length > 0 ? { meta: { tag } } : {};
};

function statusReason(referral: ReferralFacts): CodeableConcept | undefined {
  if (!referral.reason) return undefined;
  if (referral.state === 'declined') return coded(systems.declineReason, referral.reason);
  if (referral.state === 'withdrawn') return coded(systems.withdrawReason, referral.reason);
  return undefined;
}

/** The outcome (SDOH CC: resulting-activity) once closed, and when the person was first reached. */
function outputs(referral: ReferralFacts): TaskParameter[] {
  return [
    ...(referral.contactAt
      ? [{ type: coded(systems.taskOutput, 'first-contact'), valueDateTime: referral.contactAt.toISOString() }]
      : []),
    ...(referral.state === 'closed' && referral.reason
      ? [
          {
            type: coded(hl7.sdohcc, 'resulting-activity', 'Resulting Activity'),
            valueCodeableConcept: coded(systems.closeOutcome, referral.reason),
          },
        ]
      : []),
  ];
}

/** The packet's sections as the Task's inputs: the words where consent allows them, "masked" where not. */
function inputs(reading: ReferralReading): TaskParameter[] {
  return reading.packet.map((section) => ({
    type: coded(systems.dataCategory, section.category),
    ...(section.withheld ? { valueCodeableConcept: { coding: [masked] } } : { valueString: section.content }),
  }));
}

/**
 * The Task of a referral. `reading`: what a single read returned (packet, note), absent for
 * metadata alone. Its owner is the assigned worker (a logical PractitionerRole reference by user
 * id) when there is one, else the acting receiving agency.
 */
export function referralTask(referral: ReferralFacts, reading?: ReferralReading): Task {
  const sentAt = referral.sentAt.toISOString();
  const reason = statusReason(referral);
  const output = outputs(referral);
  const input = reading ? inputs(reading) : [];
  const end = referral.closedAt ?? referral.declinedAt ?? referral.withdrawnAt;
  return {
    resourceType: 'Task',
    id: referral.id,
    ...tags(referral),
    ...identifiers(referral),
    basedOn: [{ reference: `ServiceRequest/${referral.id}` }],
    status: taskStatusOf[referral.state],
    ...(reason ? { statusReason: reason } : {}),
    businessStatus: coded(systems.referralState, referral.state),
    intent: 'order',
    priority: referral.priority === 'urgent' ? 'urgent' : 'routine',
    code: coded(hl7.taskCode, 'fulfill', 'Fulfill the focal request'),
    focus: { reference: `ServiceRequest/${referral.id}` },
    ...(referral.subjectRef ? { for: subjectReference(referral.subjectRef) } : {}),
    ...(referral.acceptedAt || end ? { executionPeriod: { start: iso(referral.acceptedAt), end: iso(end) } } : {}),
    authoredOn: sentAt,
    lastModified: lastModified(referral).toISOString(),
    requester: organizationReference(referral.fromAgency),
    owner: referral.assignedUser
      ? { type: 'PractitionerRole', identifier: { system: systems.user, value: referral.assignedUser } }
      : organizationReference(actingRecipient(referral)),
    ...(reading?.note ? { note: [{ text: reading.note }] } : {}),
    ...(input.length > 0 ? { input } : {}),
    ...(output.length > 0 ? { output } : {}),
  };
}

/**
 * The ServiceRequest of a referral: what was asked (the needs), of which agency, by which, for
 * whom, under which consents; do-not-contact as the SDOH CC IG flags it
 * (orderDetail contacting-subject-prohibited). No packet: that is the Task's input.
 */
export function referralServiceRequest(referral: ReferralFacts, reading?: ReferralReading): ServiceRequest {
  return {
    resourceType: 'ServiceRequest',
    id: referral.id,
    ...tags(referral),
    ...identifiers(referral),
    ...(referral.previousReferralId
      ? { replaces: [{ reference: `ServiceRequest/${referral.previousReferralId}` }] }
      : {}),
    status: serviceRequestStatusOf[referral.state],
    intent: 'order',
    ...(referral.needs.length > 0 ? { category: referral.needs.map((need) => coded(systems.serviceType, need)) } : {}),
    priority: referral.priority === 'urgent' ? 'urgent' : 'routine',
    code: coded(hl7.snomed, '3457005', 'Patient referral'),
    ...(referral.doNotContact
      ? { orderDetail: [coded(hl7.sdohcc, 'contacting-subject-prohibited', 'Contacting Subject Prohibited')] }
      : {}),
    subject: subjectReference(referral.subjectRef),
    authoredOn: referral.sentAt.toISOString(),
    requester: organizationReference(referral.fromAgency),
    performer: [organizationReference(referral.toAgency)],
    ...(reading && reading.consentIds.length > 0
      ? { supportingInfo: reading.consentIds.map((id) => ({ reference: `Consent/${id}` })) }
      : {}),
  };
}
