// JSON shapes of the gateway's answers (the proto3 JSON mapping: camelCase, and fields at
// their zero value — false, 0, "", [] — left out, hence the optional fields).

export type Language = 'en' | 'fr';

export interface User {
  readonly userId: string;
  readonly agencyId: string;
  readonly roles: readonly string[];
  readonly displayName: string;
  readonly language: Language;
}

export interface Session {
  readonly user: User;
  readonly csrfToken: string;
  readonly expiresAt: string;
}

export interface WeeklyPeriod {
  readonly day: string;
  readonly opens: string;
  readonly closes: string;
}

export interface Agency {
  readonly id: string;
  readonly nameEn: string;
  readonly nameFr: string;
  readonly kind: string;
  readonly services?: string[];
  readonly coverage?: { provinceWide?: boolean; regions?: string[]; municipalities?: string[]; fsas?: string[] };
  readonly languages?: string[];
  readonly hours?: { alwaysOpen?: boolean; periods?: WeeklyPeriod[] };
  readonly acceptingReferrals?: boolean;
  readonly capacity?: number;
  readonly sla?: {
    acknowledgeUrgentMinutes?: number;
    acceptUrgentMinutes?: number;
    acknowledgeStandardMinutes?: number;
    acceptStandardMinutes?: number;
  };
  readonly contact?: { phone?: string; email?: string; website?: string };
  readonly version?: string | number;
}

export interface MatchCandidate {
  readonly agency: Agency;
  readonly rank?: number;
  readonly reasons?: string[];
}

export interface MatchResponse {
  readonly candidates?: MatchCandidate[];
  readonly passedOver?: { agencyId: string; reasons?: string[] }[];
  readonly region?: string;
  readonly afterHours?: boolean;
}

export type ReferralState =
  | 'STATE_SENT'
  | 'STATE_ACKNOWLEDGED'
  | 'STATE_ACCEPTED'
  | 'STATE_IN_CONTACT'
  | 'STATE_CLOSED'
  | 'STATE_DECLINED'
  | 'STATE_WITHDRAWN';

export type Priority = 'PRIORITY_STANDARD' | 'PRIORITY_URGENT';

export interface Referral {
  readonly id: string;
  readonly subjectRef?: string;
  readonly fromAgency: string;
  readonly toAgency: string;
  readonly priority?: Priority;
  readonly state: ReferralState;
  readonly version?: string | number;
  readonly needs?: string[];
  readonly language?: string;
  readonly interpreterNeeded?: boolean;
  readonly doNotContact?: boolean;
  readonly categories?: string[];
  readonly previousReferralId?: string;
  readonly sentAt?: string;
  readonly acknowledgedAt?: string;
  readonly acceptedAt?: string;
  readonly contactAt?: string;
  readonly closedAt?: string;
  readonly declinedAt?: string;
  readonly withdrawnAt?: string;
  readonly acknowledgeDueAt?: string;
  readonly acceptDueAt?: string;
  readonly reason?: string;
  readonly suggestedAgency?: string;
  readonly contactMethod?: string;
  readonly escalated?: boolean;
}

export interface PacketSection {
  readonly category: string;
  readonly content?: string;
  readonly withheld?: boolean;
}

export interface ReferralView {
  readonly referral: Referral;
  readonly packet?: PacketSection[];
  readonly note?: string;
}

export interface Transition {
  readonly from?: ReferralState | 'STATE_UNSPECIFIED';
  readonly to?: ReferralState;
  readonly event?: string;
  readonly actorAgency?: string;
  readonly actorUser?: string;
  readonly actorRole?: string;
  readonly at?: string;
  readonly reason?: string;
}

export interface Receipt {
  readonly language?: string;
  readonly text?: string;
  readonly receiptJson?: string;
  readonly receiptJws?: string;
  readonly signingKeyId?: string;
}

export interface GrantResponse {
  readonly consentId: string;
  readonly subjectRef: string;
  readonly receipt?: Receipt;
}

export interface StageFigures {
  readonly count?: string | number;
  readonly p50Seconds?: number;
  readonly p90Seconds?: number;
  readonly maxSeconds?: number;
}

export interface HandoffRow {
  readonly group?: string;
  readonly referrals?: string | number;
  readonly acknowledge?: StageFigures;
  readonly accept?: StageFigures;
  readonly firstContact?: StageFigures;
  readonly close?: StageFigures;
  readonly acknowledgedWithinSla?: number;
  readonly acceptedWithinSla?: number;
  readonly openPastDue?: string | number;
  readonly escalations?: string | number;
  readonly acceptEscalations?: string | number;
}

export interface HandoffReport {
  readonly groupBy?: string;
  readonly rows?: HandoffRow[];
  readonly total?: HandoffRow;
  readonly approximate?: boolean;
}

export interface ConsentReport {
  readonly consents?: {
    agencyId?: string;
    method?: string;
    granted?: string | number;
    revoked?: string | number;
    expired?: string | number;
  }[];
  readonly referralsWithdrawnByRevocation?: string | number;
  readonly accesses?: { agencyId?: string; category?: string; granted?: string | number; denied?: string | number }[];
  readonly accessesDenied?: string | number;
  /** Every consent scope that lets police read (ADR 22). */
  readonly policeAccess?: {
    consentId?: string;
    scopeId?: string;
    state?: string;
    recordedByAgency?: string;
    recordedAt?: string;
    policeAgencyIds?: string[];
    allPolice?: boolean;
    categories?: string[];
    confirmedByAgency?: string;
    confirmedAt?: string;
  }[];
}

export interface StatisticsCell {
  readonly suppressed?: boolean;
  readonly count?: string | number;
}

export interface StatisticsReport {
  readonly columnLabels?: string[];
  readonly rows?: { label?: string; cells?: StatisticsCell[]; total?: StatisticsCell }[];
  readonly totals?: { label?: string; cells?: StatisticsCell[]; total?: StatisticsCell };
  readonly threshold?: string | number;
}

export interface AccessRecord {
  readonly seq?: string | number;
  readonly at?: string;
  readonly actorUser?: string;
  readonly actorAgency?: string;
  readonly actorRole?: string;
  readonly categories?: string[];
  readonly outcome?: string;
  readonly purpose?: string;
  readonly reason?: string;
  readonly referralId?: string;
}

export interface Checkpoint {
  readonly origin?: string;
  readonly treeSize?: string | number;
  readonly rootHash?: string;
  readonly note?: string;
}

export interface VerifyResult {
  readonly ok?: boolean;
  readonly treeSize?: string | number;
  readonly checkpointsChecked?: string | number;
  readonly firstBadSeq?: string | number;
  readonly problem?: string;
  readonly latest?: Checkpoint;
}

export interface EscalationItem {
  readonly id: string;
  readonly referralId?: string;
  readonly audience?: string;
  readonly forAgency?: string;
  readonly missedTarget?: string;
  readonly dueAt?: string;
  readonly escalatedAt?: string;
  readonly fromAgency?: string;
  readonly toAgency?: string;
  readonly priority?: string;
  readonly candidates?: { agencyId?: string; nameEn?: string; nameFr?: string; reasons?: string[] }[];
  readonly consentCoversReader?: boolean;
}

/** int64 fields arrive as strings in the JSON mapping; absent means 0. */
export const num = (value: string | number | undefined): number => Number(value ?? 0);
