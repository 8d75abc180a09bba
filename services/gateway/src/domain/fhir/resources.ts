/**
 * The part of FHIR R4 (4.0.1) JSON that Passage writes, and the code and identifier systems it
 * writes them with (docs/adr/0044-fhir-r4-export.md). Types only and constants: no I/O.
 */

export interface Coding {
  readonly system: string;
  readonly code: string;
  readonly display?: string | undefined;
}

export interface CodeableConcept {
  readonly coding?: readonly Coding[];
  readonly text?: string | undefined;
}

export interface Identifier {
  readonly system: string;
  readonly value: string;
}

export interface Extension {
  readonly url: string;
  readonly valueCode: string;
}

/** A literal reference ("Organization/<id>") or a logical one (type and identifier), or only an extension. */
export interface Reference {
  readonly reference?: string;
  readonly type?: string;
  readonly identifier?: Identifier;
  readonly display?: string;
  readonly extension?: readonly Extension[];
}

export interface Period {
  readonly start?: string | undefined;
  readonly end?: string | undefined;
}

export interface Meta {
  readonly tag?: readonly Coding[];
}

export interface Resource {
  readonly resourceType: string;
  readonly id?: string;
  readonly meta?: Meta;
}

export type RequestPriority = 'routine' | 'urgent';
export type TaskStatus = 'requested' | 'received' | 'accepted' | 'rejected' | 'in-progress' | 'completed' | 'cancelled';
export type ServiceRequestStatus = 'active' | 'revoked' | 'completed';

export interface TaskParameter {
  readonly type: CodeableConcept;
  readonly valueString?: string;
  readonly valueCodeableConcept?: CodeableConcept;
  readonly valueDateTime?: string;
}

export interface Task extends Resource {
  readonly resourceType: 'Task';
  readonly id: string;
  readonly identifier?: readonly Identifier[];
  readonly basedOn: readonly Reference[];
  readonly status: TaskStatus;
  readonly statusReason?: CodeableConcept;
  readonly businessStatus: CodeableConcept;
  readonly intent: 'order';
  readonly priority: RequestPriority;
  readonly code: CodeableConcept;
  readonly focus: Reference;
  readonly for?: Reference;
  readonly executionPeriod?: Period;
  readonly authoredOn: string;
  readonly lastModified: string;
  readonly requester: Reference;
  readonly owner: Reference;
  readonly note?: readonly { readonly text: string }[];
  readonly input?: readonly TaskParameter[];
  readonly output?: readonly TaskParameter[];
}

export interface ServiceRequest extends Resource {
  readonly resourceType: 'ServiceRequest';
  readonly id: string;
  readonly identifier?: readonly Identifier[];
  readonly replaces?: readonly Reference[];
  readonly status: ServiceRequestStatus;
  readonly intent: 'order';
  readonly category?: readonly CodeableConcept[];
  readonly priority: RequestPriority;
  readonly code: CodeableConcept;
  readonly orderDetail?: readonly CodeableConcept[];
  readonly subject: Reference;
  readonly authoredOn: string;
  readonly requester: Reference;
  readonly performer: readonly Reference[];
  readonly supportingInfo?: readonly Reference[];
}

export interface ConsentActor {
  readonly role: CodeableConcept;
  readonly reference: Reference;
}

export interface ConsentProvision {
  readonly id?: string;
  readonly type: 'permit' | 'deny';
  readonly period?: Period;
  readonly actor?: readonly ConsentActor[];
  readonly action?: readonly CodeableConcept[];
  readonly purpose?: readonly Coding[];
  readonly code?: readonly CodeableConcept[];
  readonly provision?: readonly ConsentProvision[];
}

export interface Consent extends Resource {
  readonly resourceType: 'Consent';
  readonly id: string;
  readonly identifier: readonly Identifier[];
  readonly status: 'active' | 'inactive';
  readonly scope: CodeableConcept;
  readonly category: readonly CodeableConcept[];
  readonly patient: Reference;
  readonly dateTime: string;
  readonly organization: readonly Reference[];
  readonly policyRule: CodeableConcept;
  readonly provision: ConsentProvision;
}

export interface ContactPoint {
  readonly system: 'phone' | 'email' | 'url';
  readonly value: string;
}

export interface AvailableTime {
  readonly daysOfWeek: readonly string[];
  readonly allDay?: boolean;
  readonly availableStartTime?: string;
  readonly availableEndTime?: string;
}

export interface HoursOfOperation {
  readonly daysOfWeek: readonly string[];
  readonly allDay?: boolean;
  readonly openingTime?: string;
  readonly closingTime?: string;
}

export interface Organization extends Resource {
  readonly resourceType: 'Organization';
  readonly id: string;
  readonly identifier: readonly Identifier[];
  readonly active: true;
  readonly type: readonly CodeableConcept[];
  readonly name: string;
  readonly alias: readonly string[];
  readonly telecom?: readonly ContactPoint[];
}

export interface HealthcareService extends Resource {
  readonly resourceType: 'HealthcareService';
  readonly id: string;
  readonly active: boolean;
  readonly providedBy: Reference;
  readonly type: readonly CodeableConcept[];
  readonly location: readonly Reference[];
  readonly name: string;
  readonly communication?: readonly CodeableConcept[];
  readonly referralMethod: readonly CodeableConcept[];
  readonly availableTime: readonly AvailableTime[];
}

export interface Location extends Resource {
  readonly resourceType: 'Location';
  readonly id: string;
  readonly status: 'active';
  readonly mode: 'instance';
  readonly name: string;
  readonly telecom?: readonly ContactPoint[];
  readonly physicalType: CodeableConcept;
  readonly managingOrganization: Reference;
  readonly hoursOfOperation: readonly HoursOfOperation[];
}

export type IssueType =
  | 'invalid'
  | 'not-supported'
  | 'not-found'
  | 'duplicate'
  | 'forbidden'
  | 'login'
  | 'business-rule'
  | 'conflict'
  | 'throttled'
  | 'transient'
  | 'exception';

export interface OperationOutcomeIssue {
  readonly severity: 'error';
  readonly code: IssueType;
  readonly details: CodeableConcept;
  readonly diagnostics: string;
  readonly expression?: readonly string[];
}

export interface OperationOutcome extends Resource {
  readonly resourceType: 'OperationOutcome';
  readonly issue: readonly OperationOutcomeIssue[];
}

export interface Bundle extends Resource {
  readonly resourceType: 'Bundle';
  readonly type: 'searchset';
  readonly total?: number;
  readonly link: readonly { readonly relation: 'self' | 'next'; readonly url: string }[];
  readonly entry: readonly {
    readonly fullUrl: string;
    readonly resource: Resource;
    readonly search: { readonly mode: 'match' };
  }[];
}

/** Identifier and code systems of Passage's own: URNs, stable, documented in ADR 44. */
export const passageSystems = {
  /** The referral's short reference people read out ("R-7K3M-Q9"). */
  referralReference: 'urn:passage:referral-reference',
  /** An agency's directory id, its slug ("london-coalition"), as HSDS keeps it too. */
  agency: 'urn:passage:agency',
  /** The pseudonymous subject reference (a UUID): never an identifier of the person. */
  subject: 'urn:passage:subject',
  /** A worker's user id. */
  user: 'urn:passage:user',
  /** The eight characters on a consent receipt the person holds. */
  receiptReference: 'urn:passage:receipt-reference',
  /** sent, acknowledged, accepted, in_contact, closed, declined, withdrawn. */
  referralState: 'urn:passage:referral-state',
  /** escalated, taken-over, after-hours. */
  referralFlag: 'urn:passage:referral-flag',
  closeOutcome: 'urn:passage:close-outcome',
  declineReason: 'urn:passage:decline-reason',
  withdrawReason: 'urn:passage:withdraw-reason',
  /** The network's services (@passage/vocabulary serviceTypes): a referral's needs and an agency's services. */
  serviceType: 'urn:passage:service-type',
  agencyKind: 'urn:passage:agency-kind',
  /** identity, contact, safe_contact, location, situation, needs, health, immigration, dependants. */
  dataCategory: 'urn:passage:data-category',
  /** referral, safety_planning, investigation, statistics. */
  purpose: 'urn:passage:purpose',
  /** What a Task output is, where HL7 has no code: first-contact. */
  taskOutput: 'urn:passage:task-output',
  /** PassageError codes (@passage/errors), in OperationOutcome.issue.details. */
  errorCode: 'urn:passage:error-code',
} as const;

/** HL7 and other published systems. */
export const hl7 = {
  taskCode: 'http://hl7.org/fhir/CodeSystem/task-code',
  /** The SDOH Clinical Care IG's temporary codes (resulting-activity, contacting-subject-prohibited). */
  sdohcc: 'http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes',
  snomed: 'http://snomed.info/sct',
  loinc: 'http://loinc.org',
  consentScope: 'http://terminology.hl7.org/CodeSystem/consentscope',
  actCode: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
  participationType: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
  locationPhysicalType: 'http://terminology.hl7.org/CodeSystem/location-physical-type',
  referralMethod: 'http://terminology.hl7.org/CodeSystem/service-referral-method',
  dataAbsentReason: 'http://terminology.hl7.org/CodeSystem/data-absent-reason',
  dataAbsentReasonExtension: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason',
  bcp47: 'urn:ietf:bcp:47',
} as const;

/** What a value is when Passage will not say it here: data-absent-reason "masked". */
export const masked: Coding = { system: hl7.dataAbsentReason, code: 'masked', display: 'Masked' };

export const coded = (system: string, code: string, display?: string): CodeableConcept => ({
  coding: [{ system, code, ...(display ? { display } : {}) }],
});

/** FHIR's id type: what a resource id and a logical id in a URL may be. */
export const fhirId = /^[A-Za-z0-9\-.]{1,64}$/;
