import type { DataCategory, Purpose, RecipientKind } from '@passage/consent-policy';
import { receiptReference } from '@passage/vocabulary';
import { receiptVersion, versionOf, type CaptureMethod, type ConsentRecord } from './consent.ts';

export type ReceiptLanguage = 'en' | 'fr';

export interface AgencyNames {
  readonly en: string;
  readonly fr: string;
}

/** The text and machine-readable receipt a person is given for one consent. */
export interface Receipt {
  readonly language: ReceiptLanguage;
  readonly text: string;
  readonly json: KantaraReceipt;
}

const words = {
  en: {
    title: 'Your consent receipt',
    for: 'For',
    reference: 'Reference',
    intro: (date: string, how: string) => `On ${date} you agreed, ${how}, to the following:`,
    version: (n: number, date: string) => `Version ${n}, updated on ${date}. It replaces the earlier versions.`,
    added: (date: string, how: string) => `On ${date} you also agreed, ${how}, to the following:`,
    method: {
      verbal: 'by telling us',
      written: 'in writing',
      electronic: 'electronically',
      via_interpreter: 'through an interpreter',
    } satisfies Record<CaptureMethod, string>,
    may: (who: string, what: string, why: string) => `• ${who} may see your ${what}, to ${why}.`,
    noContact: (who: string) => `  They will not contact you directly; only ${who} will.`,
    revoked: '  (You have since withdrawn this.)',
    proposed: (who: string, date: string) =>
      `  (Proposed by ${who} on ${date}. It has no effect unless you confirm it with a worker of a crisis line, victim services or an anti-trafficking coalition.)`,
    confirmed: (who: string, date: string, by: string, on: string) =>
      `  (Proposed by ${who} on ${date}; confirmed with you by ${by} on ${on}.)`,
    until: (date: string) => `This lasts until ${date}, unless you withdraw it sooner.`,
    withdraw: (who: string, ref: string) =>
      `You can change your mind at any time. Tell ${who}, or any agency above, and quote your reference ${ref}. ` +
      'Sharing stops from that moment.',
    police: 'Police can see your information only if you agreed to share it with police for an investigation.',
    and: 'and',
    kinds: {
      police: 'police services',
      crown: 'Crown prosecutors',
      crisis_line: 'crisis lines',
      first_response: 'first-response victim services',
      coalition: 'anti-trafficking coalitions',
      victim_services: 'victim services',
      shelter: 'shelters',
      health: 'health services',
      legal_clinic: 'legal clinics',
      settlement: 'settlement services',
    } satisfies Record<RecipientKind, string>,
    purposes: {
      referral: 'receive a referral and offer you support',
      safety_planning: 'plan for your safety',
      investigation: 'investigate a crime',
      statistics: 'count cases (without your name)',
    } satisfies Record<Purpose, string>,
    categories: {
      identity: 'name and identity',
      contact: 'contact details',
      safe_contact: 'safe times and ways to reach you',
      location: 'location',
      situation: 'situation',
      needs: 'needs',
      health: 'health information',
      immigration: 'immigration status',
      dependants: 'information about your dependants',
    } satisfies Record<DataCategory, string>,
  },
  fr: {
    title: 'Votre reçu de consentement',
    for: 'Pour',
    reference: 'Référence',
    intro: (date: string, how: string) => `Le ${date}, vous avez accepté, ${how}, ce qui suit :`,
    version: (n: number, date: string) =>
      `Version ${n}, mise à jour le ${date}. Elle remplace les versions précédentes.`,
    added: (date: string, how: string) => `Le ${date}, vous avez aussi accepté, ${how}, ce qui suit :`,
    method: {
      verbal: 'de vive voix',
      written: 'par écrit',
      electronic: 'par voie électronique',
      via_interpreter: 'avec un interprète',
    } satisfies Record<CaptureMethod, string>,
    may: (who: string, what: string, why: string) => `• ${who} peut consulter vos ${what}, pour ${why}.`,
    noContact: (who: string) => `  On ne vous contactera pas directement; seul ${who} le fera.`,
    revoked: '  (Vous avez retiré ce consentement depuis.)',
    proposed: (who: string, date: string) =>
      `  (Proposé par ${who} le ${date}. Sans effet tant que vous ne l’avez pas confirmé avec une intervenante ou un intervenant d’une ligne d’écoute, des services aux victimes ou d’une coalition contre la traite.)`,
    confirmed: (who: string, date: string, by: string, on: string) =>
      `  (Proposé par ${who} le ${date}; confirmé avec vous par ${by} le ${on}.)`,
    until: (date: string) => `Ce consentement est valide jusqu’au ${date}, sauf si vous le retirez avant.`,
    withdraw: (who: string, ref: string) =>
      `Vous pouvez changer d’avis à tout moment. Dites-le à ${who} ou à tout organisme ci-dessus, en citant votre référence ${ref}. ` +
      'Le partage cesse dès ce moment.',
    police:
      'La police ne peut voir vos renseignements que si vous avez accepté de les partager avec elle pour une enquête.',
    and: 'et',
    kinds: {
      police: 'les services de police',
      crown: 'les procureurs de la Couronne',
      crisis_line: 'les lignes d’écoute',
      first_response: 'les services de première intervention',
      coalition: 'les coalitions contre la traite',
      victim_services: 'les services aux victimes',
      shelter: 'les refuges',
      health: 'les services de santé',
      legal_clinic: 'les cliniques juridiques',
      settlement: 'les services d’établissement',
    } satisfies Record<RecipientKind, string>,
    purposes: {
      referral: 'recevoir une demande de service et vous offrir du soutien',
      safety_planning: 'planifier votre sécurité',
      investigation: 'enquêter sur un crime',
      statistics: 'compter les cas (sans votre nom)',
    } satisfies Record<Purpose, string>,
    categories: {
      identity: 'nom et identité',
      contact: 'coordonnées',
      safe_contact: 'moments et moyens sûrs pour vous joindre',
      location: 'lieu',
      situation: 'situation',
      needs: 'besoins',
      health: 'renseignements de santé',
      immigration: 'statut d’immigration',
      dependants: 'renseignements sur les personnes à votre charge',
    } satisfies Record<DataCategory, string>,
  },
};

/**
 * The discreet variant's words (ADR 35): what differs from the plain receipt, for a person who
 * may be searched. Agencies are "Service A", "Service B"… in the order the receipt names them;
 * no kind of recipient names trafficking, victims, crisis or shelter; no police notice.
 */
const discreetWords = {
  en: {
    service: (letter: string) => `Service ${letter}`,
    proposed: (who: string, date: string) =>
      `  (Proposed by ${who} on ${date}. It has no effect unless you confirm it with a support worker.)`,
    kinds: {
      police: 'public services',
      crown: 'public services',
      crisis_line: 'phone lines',
      first_response: 'support services',
      coalition: 'community organisations',
      victim_services: 'support services',
      shelter: 'housing services',
      health: 'health services',
      legal_clinic: 'legal clinics',
      settlement: 'settlement services',
    } satisfies Record<RecipientKind, string>,
    purposes: {
      referral: 'receive a referral and offer you support',
      safety_planning: 'plan for your safety',
      investigation: 'look into what happened',
      statistics: 'count cases (without your name)',
    } satisfies Record<Purpose, string>,
  },
  fr: {
    service: (letter: string) => `Service ${letter}`,
    proposed: (who: string, date: string) =>
      `  (Proposé par ${who} le ${date}. Sans effet tant que vous ne l’avez pas confirmé avec une intervenante ou un intervenant.)`,
    kinds: {
      police: 'les services publics',
      crown: 'les services publics',
      crisis_line: 'les lignes téléphoniques',
      first_response: 'les services de soutien',
      coalition: 'les organismes communautaires',
      victim_services: 'les services de soutien',
      shelter: 'les services de logement',
      health: 'les services de santé',
      legal_clinic: 'les cliniques juridiques',
      settlement: 'les services d’établissement',
    } satisfies Record<RecipientKind, string>,
    purposes: {
      referral: 'recevoir une demande de service et vous offrir du soutien',
      safety_planning: 'planifier votre sécurité',
      investigation: 'examiner ce qui s’est passé',
      statistics: 'compter les cas (sans votre nom)',
    } satisfies Record<Purpose, string>,
  },
};

/** Words a discreet receipt never carries (EN/FR): what would tell a searcher what it is about. */
export const discreetMarkers: readonly RegExp[] = [
  /traffick/i,
  /traite/i,
  /anti-human/i,
  /coalition/i,
  /victim/i,
  /police/i,
  /crime/i,
  /crisis/i,
  /écoute/i,
  /shelter/i,
  /refuge/i,
];

function list(items: readonly string[], and: string): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${and} ${items.at(-1)!}`;
}

function torontoDate(date: Date, language: ReceiptLanguage): string {
  return new Intl.DateTimeFormat(language === 'fr' ? 'fr-CA' : 'en-CA', {
    timeZone: 'America/Toronto',
    dateStyle: 'long',
  }).format(date);
}

/** The person-facing reference, short enough to read out on the phone: one rule for the network. */
export { receiptReference };

export function receiptText(
  consent: ConsentRecord,
  language: ReceiptLanguage,
  names: (agencyId: string) => AgencyNames | undefined,
  receiptName: string,
  discreet = false,
): string {
  const d = discreetWords[language];
  const w = discreet
    ? { ...words[language], proposed: d.proposed, kinds: d.kinds, purposes: d.purposes }
    : words[language];
  const letters = new Map<string, string>();
  const agency = (id: string): string => {
    if (!discreet) return names(id)?.[language] ?? id;
    if (!letters.has(id)) letters.set(id, d.service(String.fromCharCode(65 + (letters.size % 26))));
    return letters.get(id)!;
  };
  const lines = [w.title, ''];
  // French sets a (non-breaking) space before a colon.
  const colon = language === 'fr' ? '\u00a0:' : ':';
  if (receiptName) lines.push(`${w.for}${colon} ${receiptName}`);
  lines.push(`${w.reference}${colon} ${receiptReference(consent.id)}`, '');
  const version = receiptVersion(consent);
  if (version > 1) {
    const updated = Math.max(
      ...consent.scopes.filter((s) => versionOf(s) === version).map((s) => s.addedAt!.getTime()),
    );
    // French and English both: the version line sits with the reference, before what was agreed.
    lines.splice(lines.length - 1, 0, w.version(version, torontoDate(new Date(updated), language)));
  }
  for (let v = 1; v <= version; v++) {
    const scopes = consent.scopes.filter((s) => versionOf(s) === v);
    if (scopes.length === 0) continue;
    const first = scopes[0]!;
    lines.push(
      v === 1
        ? w.intro(torontoDate(consent.grantedAt, language), w.method[consent.method])
        : w.added(torontoDate(first.addedAt!, language), w.method[first.addedMethod ?? consent.method]),
      '',
    );
    for (const scope of scopes) {
      const who = list(
        [...scope.recipientAgencyIds.map(agency), ...scope.recipientKinds.map((k) => w.kinds[k])],
        w.and,
      );
      const what = list(
        scope.categories.map((c) => w.categories[c]),
        w.and,
      );
      const why = list(
        scope.purposes.map((p) => w.purposes[p]),
        w.and,
      );
      lines.push(w.may(who, what, why));
      if (scope.doNotContact) lines.push(w.noContact(agency(consent.capturedBy.agencyId)));
      if (scope.proposedAt) {
        const proposer = agency(scope.proposedBy?.agencyId ?? consent.capturedBy.agencyId);
        const proposedOn = torontoDate(scope.proposedAt, language);
        lines.push(
          scope.confirmedAt
            ? w.confirmed(
                proposer,
                proposedOn,
                agency(scope.confirmedBy?.agencyId ?? ''),
                torontoDate(scope.confirmedAt, language),
              )
            : w.proposed(proposer, proposedOn),
        );
      }
      if (scope.revokedAt ?? consent.revokedAt) lines.push(w.revoked);
    }
    lines.push('');
  }
  lines.pop();
  lines.push('', w.until(torontoDate(consent.expiresAt, language)), '');
  lines.push(w.withdraw(agency(consent.capturedBy.agencyId), receiptReference(consent.id)));
  if (!discreet) lines.push('', w.police);
  return lines.join('\n');
}

/** In the spirit of the Kantara Consent Receipt Specification 1.1. */
export interface KantaraReceipt {
  readonly version: 'KI-CR-v1.1.0';
  readonly jurisdiction: 'ON-CA';
  readonly consentTimestamp: number;
  readonly collectionMethod: CaptureMethod;
  readonly consentReceiptID: string;
  /** Passage's addition (ADR 36): 1 for the grant, one more per amendment. */
  readonly receiptVersion: number;
  readonly language: ReceiptLanguage;
  readonly piiPrincipalId: string;
  readonly piiControllers: ReadonlyArray<{ piiController: string; onBehalf: boolean }>;
  readonly policyUrl: string;
  readonly services: ReadonlyArray<{
    service: string;
    /** A scope an amendment added (ADR 36): its receipt version, when, by whom, how the person agreed. */
    amendment?: { version: number; agencyId: string; userId: string; at: string; collectionMethod: CaptureMethod };
    /** A scope police proposed (ADR 22): who proposed it and when, and who confirmed it with the person and when. */
    proposal?: {
      proposedBy: { agencyId: string; userId: string; at: string };
      confirmedBy: { agencyId: string; userId: string; at: string } | null;
    };
    purposes: ReadonlyArray<{
      purpose: Purpose;
      consentType: 'EXPLICIT';
      purposeCategory: readonly string[];
      piiCategory: readonly DataCategory[];
      primaryPurpose: boolean;
      termination: string;
      thirdPartyDisclosure: true;
      thirdPartyName: string;
      doNotContact: boolean;
      withdrawn: boolean;
    }>;
  }>;
  readonly sensitive: true;
  readonly spiCat: readonly DataCategory[];
}

const sensitiveCategories: ReadonlySet<DataCategory> = new Set(['health', 'immigration', 'dependants', 'location']);

export function kantaraReceipt(consent: ConsentRecord, language: ReceiptLanguage): KantaraReceipt {
  const termination = consent.expiresAt.toISOString();
  const all = [...new Set(consent.scopes.flatMap((s) => s.categories))];
  return {
    version: 'KI-CR-v1.1.0',
    jurisdiction: 'ON-CA',
    consentTimestamp: Math.floor(consent.grantedAt.getTime() / 1000),
    collectionMethod: consent.method,
    consentReceiptID: consent.id,
    receiptVersion: receiptVersion(consent),
    language,
    piiPrincipalId: consent.subjectRef,
    piiControllers: [{ piiController: consent.capturedBy.agencyId, onBehalf: false }],
    policyUrl: 'https://passage.example/privacy',
    services: consent.scopes.map((scope) => ({
      service: scope.id,
      ...(scope.addedAt
        ? {
            amendment: {
              version: versionOf(scope),
              agencyId: scope.addedBy?.agencyId ?? consent.capturedBy.agencyId,
              userId: scope.addedBy?.userId ?? consent.capturedBy.userId,
              at: scope.addedAt.toISOString(),
              collectionMethod: scope.addedMethod ?? consent.method,
            },
          }
        : {}),
      ...(scope.proposedAt
        ? {
            proposal: {
              proposedBy: {
                agencyId: scope.proposedBy?.agencyId ?? consent.capturedBy.agencyId,
                userId: scope.proposedBy?.userId ?? consent.capturedBy.userId,
                at: scope.proposedAt.toISOString(),
              },
              confirmedBy:
                scope.confirmedAt && scope.confirmedBy
                  ? {
                      agencyId: scope.confirmedBy.agencyId,
                      userId: scope.confirmedBy.userId,
                      at: scope.confirmedAt.toISOString(),
                    }
                  : null,
            },
          }
        : {}),
      purposes: scope.purposes.map((purpose, i) => ({
        purpose,
        consentType: 'EXPLICIT' as const,
        purposeCategory: [purpose],
        piiCategory: [...scope.categories],
        primaryPurpose: i === 0,
        termination,
        thirdPartyDisclosure: true as const,
        thirdPartyName: [...scope.recipientAgencyIds, ...scope.recipientKinds.map((k) => `kind:${k}`)].join(','),
        doNotContact: scope.doNotContact,
        withdrawn: Boolean(scope.revokedAt ?? consent.revokedAt),
      })),
    })),
    sensitive: true,
    spiCat: all.filter((c) => sensitiveCategories.has(c)),
  };
}
