import type { DataCategory, Purpose } from '@passage/consent-policy';
import {
  closeOutcomes,
  contactMethods,
  declineReasons,
  withdrawReasons,
  type AgencyKind,
  type ServiceType,
} from '@passage/vocabulary';
import type { Language } from '../api/edge.ts';
import type { State as ReferralState } from '../api/generated.ts';

export { closeOutcomes, contactMethods, declineReasons, withdrawReasons };

// The network's closed vocabularies as people read them. Each table is total over its
// vocabulary (the types say so), in both languages.

export const captureMethods = [
  'CAPTURE_METHOD_VERBAL',
  'CAPTURE_METHOD_WRITTEN',
  'CAPTURE_METHOD_ELECTRONIC',
  'CAPTURE_METHOD_VIA_INTERPRETER',
] as const;
export const days = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export const statisticsDimensions = ['region', 'month', 'need', 'outcome'] as const;
export const handoffGroupings = ['agency', 'month', 'region', 'priority'] as const;

/** Places the directory knows (services/directory geography), for the hand-off's "where". */
export const municipalities = [
  'toronto',
  'mississauga',
  'brampton',
  'caledon',
  'london',
  'strathroy-caradoc',
  'middlesex-centre',
  'windsor',
  'leamington',
  'kingsville',
  'lakeshore',
  'amherstburg',
  'tecumseh',
  'ottawa',
  'sarnia',
  'petrolia',
  'plympton-wyoming',
  'hamilton',
  'kitchener',
  'waterloo',
  'thunder-bay',
  'sudbury',
  'kingston',
] as const;

type Table<K extends string> = Readonly<Record<K, string>>;

interface Labels {
  readonly state: Table<ReferralState>;
  readonly category: Table<DataCategory>;
  readonly categoryHelp: Table<DataCategory>;
  readonly purpose: Table<Purpose>;
  readonly purposeHelp: Table<Purpose>;
  readonly need: Table<ServiceType>;
  readonly kind: Table<AgencyKind>;
  readonly captureMethod: Table<(typeof captureMethods)[number]>;
  readonly declineReason: Table<(typeof declineReasons)[number]>;
  readonly closeOutcome: Table<(typeof closeOutcomes)[number]>;
  readonly withdrawReason: Table<(typeof withdrawReasons)[number]>;
  readonly contactMethod: Table<(typeof contactMethods)[number]>;
  readonly event: Table<
    | 'sent'
    | 'acknowledged'
    | 'accepted'
    | 'declined'
    | 'contact_recorded'
    | 'closed'
    | 'withdrawn'
    | 'escalated'
    | 'taken_over'
    | 'assigned'
    | 'unassigned'
  >;
  readonly role: Table<
    'officer' | 'crisis_counsellor' | 'intake_worker' | 'supervisor' | 'auditor' | 'admin' | 'system' | 'service'
  >;
  readonly day: Table<(typeof days)[number]>;
  readonly region: Readonly<Record<string, string>>;
  readonly municipality: Table<(typeof municipalities)[number]>;
  /** An escalation names the missed target (`acknowledge`), a timeline its reason (`acknowledge_overdue`). */
  readonly missedTarget: Table<'acknowledge' | 'accept' | 'acknowledge_overdue' | 'accept_overdue'>;
  readonly accessOutcome: Readonly<Record<string, string>>;
  readonly dimension: Table<(typeof statisticsDimensions)[number]>;
  /** Where a referral ended, as the statistics count it (services/audit report-store). */
  readonly outcomeGroup: Table<'open' | 'closed' | 'declined' | 'withdrawn'>;
  readonly grouping: Table<(typeof handoffGroupings)[number]>;
}

const en: Labels = {
  state: {
    STATE_UNSPECIFIED: '',
    STATE_SENT: 'Sent',
    STATE_ACKNOWLEDGED: 'Acknowledged',
    STATE_ACCEPTED: 'Accepted',
    STATE_IN_CONTACT: 'In contact',
    STATE_CLOSED: 'Closed',
    STATE_DECLINED: 'Declined',
    STATE_WITHDRAWN: 'Withdrawn',
  },
  category: {
    identity: 'Name and identity',
    contact: 'Contact details',
    safe_contact: 'Safe times and ways to reach',
    location: 'Location',
    situation: 'Situation',
    needs: 'Needs',
    health: 'Health',
    immigration: 'Immigration status',
    dependants: 'Dependants',
  },
  categoryHelp: {
    identity: 'Name, date of birth, identity documents.',
    contact: 'Phone number, email, address.',
    safe_contact: 'When and how it is safe to reach the person, and what to avoid.',
    location: 'Where the person is or will be staying.',
    situation: 'What happened, in the person’s words, as far as they want to share it.',
    needs: 'What help the person is asking for.',
    health: 'Injuries, medication, health needs.',
    immigration: 'Status in Canada, documents held by others.',
    dependants: 'Children or others who depend on the person.',
  },
  purpose: {
    referral: 'Referral and support',
    safety_planning: 'Safety planning',
    investigation: 'Police investigation',
    statistics: 'Statistics without names',
  },
  purposeHelp: {
    referral: 'The agency may read the referral and offer support.',
    safety_planning: 'The agency may use it to plan for the person’s safety.',
    investigation: 'Police may use it to investigate. Only if the person clearly agrees.',
    statistics: 'Counted in reports that never name anyone.',
  },
  need: {
    shelter: 'Shelter',
    housing: 'Housing',
    counselling: 'Counselling',
    crisis_support: 'Crisis support',
    safety_planning: 'Safety planning',
    legal: 'Legal help',
    medical: 'Medical care',
    immigration: 'Immigration help',
    first_response: 'First response',
    interpretation: 'Interpretation',
    court_support: 'Court support',
    peer_support: 'Peer support',
    employment: 'Employment',
    investigation: 'Investigation',
    prosecution_advice: 'Prosecution advice',
  },
  kind: {
    police: 'Police service',
    crown: 'Crown prosecutors',
    crisis_line: 'Crisis line',
    first_response: 'First-response victim services',
    coalition: 'Anti-trafficking coalition',
    victim_services: 'Victim services',
    shelter: 'Shelter',
    health: 'Health service',
    legal_clinic: 'Legal clinic',
    settlement: 'Settlement service',
  },
  captureMethod: {
    CAPTURE_METHOD_VERBAL: 'Spoken',
    CAPTURE_METHOD_WRITTEN: 'In writing',
    CAPTURE_METHOD_ELECTRONIC: 'Electronically',
    CAPTURE_METHOD_VIA_INTERPRETER: 'Through an interpreter',
  },
  declineReason: {
    no_capacity: 'No capacity now',
    outside_mandate: 'Outside our mandate',
    language: 'We cannot serve this language',
    safety_concern: 'Safety concern',
    duplicate: 'Duplicate',
    other: 'Other',
  },
  closeOutcome: {
    services_provided: 'Services provided',
    referred_elsewhere: 'Referred elsewhere',
    client_declined: 'The person declined',
    unable_to_contact: 'Unable to reach the person',
    safety_concern: 'Safety concern',
    other: 'Other',
  },
  withdrawReason: {
    person_withdrew: 'The person changed their mind',
    sent_in_error: 'Sent in error',
    safety_concern: 'Safety concern',
    consent_revoked: 'Consent withdrawn',
    other: 'Other',
  },
  contactMethod: {
    phone: 'Phone',
    in_person: 'In person',
    video: 'Video call',
    text: 'Text message',
    through_referrer: 'Through the referring agency',
  },
  event: {
    sent: 'Sent',
    acknowledged: 'Acknowledged',
    accepted: 'Accepted',
    declined: 'Declined',
    contact_recorded: 'First contact recorded',
    closed: 'Closed',
    withdrawn: 'Withdrawn',
    escalated: 'Escalated',
    taken_over: 'Taken over by the crisis line',
    assigned: 'Assigned',
    unassigned: 'Unassigned',
  },
  role: {
    officer: 'Officer',
    crisis_counsellor: 'Crisis counsellor',
    intake_worker: 'Intake worker',
    supervisor: 'Supervisor',
    auditor: 'Auditor',
    admin: 'Administrator',
    system: 'Agency system',
    service: 'Passage',
  },
  day: {
    mon: 'Monday',
    tue: 'Tuesday',
    wed: 'Wednesday',
    thu: 'Thursday',
    fri: 'Friday',
    sat: 'Saturday',
    sun: 'Sunday',
  },
  region: {
    toronto: 'Toronto',
    peel: 'Peel',
    'london-middlesex': 'London-Middlesex',
    'windsor-essex': 'Windsor-Essex',
    ottawa: 'Ottawa',
    'sarnia-lambton': 'Sarnia-Lambton',
    hamilton: 'Hamilton',
    waterloo: 'Waterloo',
    'thunder-bay': 'Thunder Bay',
    sudbury: 'Sudbury',
    kingston: 'Kingston',
    ontario: 'Ontario',
  },
  municipality: {
    toronto: 'Toronto',
    mississauga: 'Mississauga',
    brampton: 'Brampton',
    caledon: 'Caledon',
    london: 'London',
    'strathroy-caradoc': 'Strathroy-Caradoc',
    'middlesex-centre': 'Middlesex Centre',
    windsor: 'Windsor',
    leamington: 'Leamington',
    kingsville: 'Kingsville',
    lakeshore: 'Lakeshore',
    amherstburg: 'Amherstburg',
    tecumseh: 'Tecumseh',
    ottawa: 'Ottawa',
    sarnia: 'Sarnia',
    petrolia: 'Petrolia',
    'plympton-wyoming': 'Plympton-Wyoming',
    hamilton: 'Hamilton',
    kitchener: 'Kitchener',
    waterloo: 'Waterloo',
    'thunder-bay': 'Thunder Bay',
    sudbury: 'Sudbury',
    kingston: 'Kingston',
  },
  missedTarget: {
    acknowledge: 'Not acknowledged in time',
    accept: 'Not accepted in time',
    acknowledge_overdue: 'Not acknowledged in time',
    accept_overdue: 'Not accepted in time',
  },
  accessOutcome: { granted: 'Allowed', denied: 'Denied', allowed: 'Allowed' },
  dimension: { region: 'Region', month: 'Month', need: 'Need', outcome: 'Outcome' },
  outcomeGroup: { open: 'Still open', closed: 'Closed', declined: 'Declined', withdrawn: 'Withdrawn' },
  grouping: { agency: 'Agency', month: 'Month', region: 'Region', priority: 'Priority' },
};

const fr: Labels = {
  state: {
    STATE_UNSPECIFIED: '',
    STATE_SENT: 'Envoyée',
    STATE_ACKNOWLEDGED: 'Réception accusée',
    STATE_ACCEPTED: 'Acceptée',
    STATE_IN_CONTACT: 'En contact',
    STATE_CLOSED: 'Fermée',
    STATE_DECLINED: 'Refusée',
    STATE_WITHDRAWN: 'Retirée',
  },
  category: {
    identity: 'Nom et identité',
    contact: 'Coordonnées',
    safe_contact: 'Moments et moyens sûrs pour joindre',
    location: 'Lieu',
    situation: 'Situation',
    needs: 'Besoins',
    health: 'Santé',
    immigration: 'Statut d’immigration',
    dependants: 'Personnes à charge',
  },
  categoryHelp: {
    identity: 'Nom, date de naissance, pièces d’identité.',
    contact: 'Numéro de téléphone, courriel, adresse.',
    safe_contact: 'Quand et comment joindre la personne sans danger, et ce qu’il faut éviter.',
    location: 'Où la personne se trouve ou logera.',
    situation: 'Ce qui s’est passé, dans les mots de la personne, dans la mesure où elle veut le dire.',
    needs: 'L’aide que la personne demande.',
    health: 'Blessures, médicaments, besoins de santé.',
    immigration: 'Statut au Canada, documents détenus par d’autres.',
    dependants: 'Enfants ou autres personnes qui dépendent de la personne.',
  },
  purpose: {
    referral: 'Orientation et soutien',
    safety_planning: 'Plan de sécurité',
    investigation: 'Enquête policière',
    statistics: 'Statistiques sans nom',
  },
  purposeHelp: {
    referral: 'L’organisme peut lire la demande et offrir du soutien.',
    safety_planning: 'L’organisme peut s’en servir pour planifier la sécurité de la personne.',
    investigation: 'La police peut s’en servir pour enquêter. Seulement si la personne l’accepte clairement.',
    statistics: 'Compté dans des rapports qui ne nomment jamais personne.',
  },
  need: {
    shelter: 'Refuge',
    housing: 'Logement',
    counselling: 'Counseling',
    crisis_support: 'Soutien en situation de crise',
    safety_planning: 'Plan de sécurité',
    legal: 'Aide juridique',
    medical: 'Soins médicaux',
    immigration: 'Aide en immigration',
    first_response: 'Première intervention',
    interpretation: 'Interprétation',
    court_support: 'Accompagnement au tribunal',
    peer_support: 'Soutien par les pairs',
    employment: 'Emploi',
    investigation: 'Enquête',
    prosecution_advice: 'Conseils en poursuite',
  },
  kind: {
    police: 'Service de police',
    crown: 'Procureurs de la Couronne',
    crisis_line: 'Ligne d’écoute',
    first_response: 'Services de première intervention',
    coalition: 'Coalition contre la traite',
    victim_services: 'Services aux victimes',
    shelter: 'Refuge',
    health: 'Service de santé',
    legal_clinic: 'Clinique juridique',
    settlement: 'Service d’établissement',
  },
  captureMethod: {
    CAPTURE_METHOD_VERBAL: 'De vive voix',
    CAPTURE_METHOD_WRITTEN: 'Par écrit',
    CAPTURE_METHOD_ELECTRONIC: 'Par voie électronique',
    CAPTURE_METHOD_VIA_INTERPRETER: 'Avec un·e interprète',
  },
  declineReason: {
    no_capacity: 'Aucune place pour le moment',
    outside_mandate: 'Hors de notre mandat',
    language: 'Nous ne pouvons pas servir dans cette langue',
    safety_concern: 'Préoccupation de sécurité',
    duplicate: 'Doublon',
    other: 'Autre',
  },
  closeOutcome: {
    services_provided: 'Services offerts',
    referred_elsewhere: 'Orientée ailleurs',
    client_declined: 'La personne a refusé',
    unable_to_contact: 'Impossible de joindre la personne',
    safety_concern: 'Préoccupation de sécurité',
    other: 'Autre',
  },
  withdrawReason: {
    person_withdrew: 'La personne a changé d’avis',
    sent_in_error: 'Envoyée par erreur',
    safety_concern: 'Préoccupation de sécurité',
    consent_revoked: 'Consentement retiré',
    other: 'Autre',
  },
  contactMethod: {
    phone: 'Téléphone',
    in_person: 'En personne',
    video: 'Appel vidéo',
    text: 'Texto',
    through_referrer: 'Par l’organisme qui a fait la demande',
  },
  event: {
    sent: 'Envoyée',
    acknowledged: 'Réception accusée',
    accepted: 'Acceptée',
    declined: 'Refusée',
    contact_recorded: 'Premier contact consigné',
    closed: 'Fermée',
    withdrawn: 'Retirée',
    escalated: 'Escaladée',
    taken_over: 'Prise en charge par la ligne de crise',
    assigned: 'Attribuée',
    unassigned: 'Attribution retirée',
  },
  role: {
    officer: 'Agent·e',
    crisis_counsellor: 'Intervenant·e de crise',
    intake_worker: 'Intervenant·e à l’accueil',
    supervisor: 'Superviseur·e',
    auditor: 'Vérificateur·rice',
    admin: 'Administrateur·rice',
    system: 'Système de l’organisme',
    service: 'Passage',
  },
  day: { mon: 'lundi', tue: 'mardi', wed: 'mercredi', thu: 'jeudi', fri: 'vendredi', sat: 'samedi', sun: 'dimanche' },
  // Place names are the same in both languages.
  region: en.region,
  municipality: { ...en.municipality, 'middlesex-centre': 'Middlesex-Centre' },
  missedTarget: {
    acknowledge: 'Réception non accusée à temps',
    accept: 'Non acceptée à temps',
    acknowledge_overdue: 'Réception non accusée à temps',
    accept_overdue: 'Non acceptée à temps',
  },
  accessOutcome: { granted: 'Permis', denied: 'Refusé', allowed: 'Permis' },
  dimension: { region: 'Région', month: 'Mois', need: 'Besoin', outcome: 'Résultat' },
  outcomeGroup: { open: 'Toujours en cours', closed: 'Fermée', declined: 'Refusée', withdrawn: 'Retirée' },
  grouping: { agency: 'Organisme', month: 'Mois', region: 'Région', priority: 'Priorité' },
};

export const labels: Readonly<Record<Language, Labels>> = { en, fr };

/** The text read aloud before anything is shared: plain words, either language, whatever the screen's. */
export const consentScript: Readonly<Record<Language, readonly string[]>> = {
  en: [
    'I would like to connect you with people who can help. To do that, I need your permission to share some information about you.',
    'You choose who receives it, what they see, and why. Nothing else is shared.',
    'You can say no, or change your mind at any time, and you will still get help. If you change your mind, sharing stops from that moment.',
    'Police see your information only if you clearly agree to share it with them for an investigation.',
    'You will get a receipt with a reference number that you can quote to change or withdraw your consent.',
  ],
  fr: [
    'J’aimerais vous mettre en contact avec des personnes qui peuvent vous aider. Pour cela, j’ai besoin de votre permission pour communiquer certains renseignements à votre sujet.',
    'Vous choisissez qui les reçoit, ce qu’ils voient et pourquoi. Rien d’autre n’est communiqué.',
    'Vous pouvez refuser ou changer d’avis à tout moment, et vous recevrez quand même de l’aide. Si vous changez d’avis, le partage cesse dès ce moment.',
    'La police ne voit vos renseignements que si vous acceptez clairement de les lui communiquer pour une enquête.',
    'Vous recevrez un reçu avec un numéro de référence à citer pour modifier ou retirer votre consentement.',
  ],
};

/** A label from a table, or the code itself when the table does not know it (never blank). */
export function label(table: Readonly<Record<string, string>>, code: string | undefined): string {
  if (!code) return '';
  return table[code] ?? code;
}

/** A referral's reason or outcome code (decline, withdrawal, closing, escalation), in words. */
export function reasonLabel(l: Labels, code: string | undefined): string {
  return label({ ...l.declineReason, ...l.withdrawReason, ...l.closeOutcome, ...l.missedTarget }, code);
}

/**
 * A statistics outcome in words. The report counts a referral as `open`, `declined`,
 * `withdrawn`, or `closed:<outcome>` (closed, with the closing outcome): "Closed: Services provided".
 */
export function statisticsOutcomeLabel(l: Labels, code: string | undefined): string {
  if (!code) return '';
  const [group, outcome] = code.split(':', 2);
  const groupLabel = label(l.outcomeGroup, group);
  if (outcome === undefined) return groupLabel;
  const separator = l === labels.fr ? '\u00a0: ' : ': ';
  return `${groupLabel}${separator}${label(l.closeOutcome, outcome)}`;
}

/**
 * The places an agency covers, in words, each once: a region and a municipality that share a
 * name (Toronto, Ottawa, Hamilton) read as one place, not "Toronto, Toronto".
 */
export function coveredPlaces(
  l: Labels,
  regions: readonly string[] | undefined,
  municipalities: readonly string[] | undefined,
): string[] {
  const names = [
    ...(regions ?? []).map((r) => label(l.region, r)),
    ...(municipalities ?? []).map((m) => label(l.municipality, m)),
  ];
  return [...new Set(names.filter((name) => name !== ''))];
}

/** The live feed names states in the domain's words (`in_contact`); the API as `STATE_IN_CONTACT`. */
export function feedStateLabel(l: Labels, state: string): string {
  return label(l.state, `STATE_${state.toUpperCase()}`);
}
