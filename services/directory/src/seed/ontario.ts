import type { AgencyListing, OpeningHours, SlaTargets, WeeklyPeriod } from '../domain/agency.ts';

/**
 * The seeded Ontario directory: every agency the provincial backgrounder names, with
 * plausible coverage and hours. Contact details are placeholders (555-01xx numbers are
 * reserved for fiction; .example domains resolve nowhere): never real numbers.
 */
const allWeek: OpeningHours = { alwaysOpen: true };

function weekdays(opens: string, closes: string, saturday?: { opens: string; closes: string }): OpeningHours {
  const periods: WeeklyPeriod[] = (['mon', 'tue', 'wed', 'thu', 'fri'] as const).map((day) => ({ day, opens, closes }));
  if (saturday) periods.push({ day: 'sat', ...saturday });
  return { alwaysOpen: false, periods };
}

const emergencySla: SlaTargets = {
  acknowledgeUrgentMinutes: 15,
  acceptUrgentMinutes: 60,
  acknowledgeStandardMinutes: 60,
  acceptStandardMinutes: 240,
};
const communitySla: SlaTargets = {
  acknowledgeUrgentMinutes: 60,
  acceptUrgentMinutes: 240,
  acknowledgeStandardMinutes: 480,
  acceptStandardMinutes: 1440,
};

function contact(id: string, line: number): AgencyListing['contact'] {
  return {
    phone: `+1-555-01${String(line).padStart(2, '0')}`,
    email: `intake@${id}.example`,
    website: `https://${id}.example`,
  };
}

const none = { regions: [], municipalities: [], fsas: [] };

export const ontarioAgencies: readonly AgencyListing[] = [
  {
    id: 'opp',
    name: { en: 'Ontario Provincial Police', fr: 'Police provinciale de l’Ontario' },
    kind: 'police',
    services: ['investigation'],
    coverage: { ...none, provinceWide: true },
    languages: ['en', 'fr'],
    hours: allWeek,
    acceptingReferrals: true,
    capacity: 0,
    sla: emergencySla,
    contact: contact('opp', 1),
  },
  {
    id: 'peel-regional-police',
    name: { en: 'Peel Regional Police', fr: 'Police régionale de Peel' },
    kind: 'police',
    services: ['investigation'],
    coverage: {
      ...none,
      provinceWide: false,
      regions: ['peel'],
      municipalities: ['mississauga', 'brampton', 'caledon'],
    },
    languages: ['en'],
    hours: allWeek,
    acceptingReferrals: true,
    capacity: 0,
    sla: emergencySla,
    contact: contact('peel-regional-police', 2),
  },
  {
    id: 'toronto-police-service',
    name: { en: 'Toronto Police Service', fr: 'Service de police de Toronto' },
    kind: 'police',
    services: ['investigation'],
    coverage: { ...none, provinceWide: false, regions: ['toronto'], municipalities: ['toronto'] },
    languages: ['en'],
    hours: allWeek,
    acceptingReferrals: true,
    capacity: 0,
    sla: emergencySla,
    contact: contact('toronto-police-service', 3),
  },
  {
    id: 'crown-ht-specialists',
    name: {
      en: 'Crown Human Trafficking Specialists',
      fr: 'Procureurs de la Couronne spécialisés en traite des personnes',
    },
    kind: 'crown',
    services: ['prosecution_advice'],
    coverage: { ...none, provinceWide: true },
    languages: ['en', 'fr'],
    hours: weekdays('08:30', '17:00'),
    acceptingReferrals: true,
    capacity: 0,
    sla: communitySla,
    contact: contact('crown-ht-specialists', 4),
  },
  {
    id: 'ontario-ht-crisis-line',
    name: {
      en: 'Ontario Human Trafficking Crisis Line (24/7)',
      fr: 'Ligne d’écoute ontarienne sur la traite des personnes (24 h sur 24)',
    },
    kind: 'crisis_line',
    services: ['crisis_support', 'counselling', 'safety_planning', 'interpretation', 'shelter'],
    coverage: { ...none, provinceWide: true },
    languages: ['en', 'fr', 'es', 'pt', 'zh', 'ar', 'pa', 'tl', 'uk', 'ko', 'vi', 'fa', 'so'],
    hours: allWeek,
    acceptingReferrals: true,
    capacity: 0,
    sla: emergencySla,
    contact: contact('ontario-ht-crisis-line', 5),
  },
  {
    id: 'walk-with-me',
    name: { en: 'Walk With Me Canada Victim Services', fr: 'Walk With Me – Services aux victimes' },
    kind: 'first_response',
    services: ['first_response', 'crisis_support', 'safety_planning', 'shelter', 'counselling', 'court_support'],
    coverage: { ...none, provinceWide: false, regions: ['toronto', 'peel'] },
    languages: ['en'],
    hours: allWeek,
    acceptingReferrals: true,
    capacity: 12,
    sla: emergencySla,
    contact: contact('walk-with-me', 6),
  },
  {
    id: 'london-coalition',
    name: {
      en: 'London Anti-Human Trafficking Coalition',
      fr: 'Coalition de London contre la traite des personnes',
    },
    kind: 'coalition',
    services: ['counselling', 'safety_planning', 'shelter', 'housing', 'court_support', 'medical', 'peer_support'],
    coverage: { ...none, provinceWide: false, regions: ['london-middlesex'] },
    languages: ['en', 'ar'],
    hours: weekdays('08:30', '16:30'),
    acceptingReferrals: true,
    capacity: 8,
    sla: communitySla,
    contact: contact('london-coalition', 7),
  },
  {
    id: 'windsor-essex-ahtag',
    name: {
      en: 'Windsor-Essex Anti-Human Trafficking Action Group',
      fr: 'Groupe d’action contre la traite des personnes de Windsor-Essex',
    },
    kind: 'coalition',
    services: ['counselling', 'safety_planning', 'housing', 'legal', 'immigration', 'employment'],
    coverage: { ...none, provinceWide: false, regions: ['windsor-essex'] },
    languages: ['en', 'fr', 'es'],
    hours: weekdays('09:00', '17:00'),
    acceptingReferrals: true,
    capacity: 6,
    sla: communitySla,
    contact: contact('windsor-essex-ahtag', 8),
  },
  {
    id: 'pact-ottawa',
    name: {
      en: 'PACT-Ottawa (Persons Against the Crime of Trafficking in Humans)',
      fr: 'PACT-Ottawa (Personnes contre le crime de la traite des humains)',
    },
    kind: 'coalition',
    services: ['counselling', 'safety_planning', 'court_support', 'housing', 'employment', 'peer_support'],
    coverage: { ...none, provinceWide: false, regions: ['ottawa'] },
    languages: ['en', 'fr'],
    hours: weekdays('09:00', '17:00', { opens: '10:00', closes: '14:00' }),
    acceptingReferrals: true,
    capacity: 10,
    sla: communitySla,
    contact: contact('pact-ottawa', 9),
  },
  {
    id: 'sarnia-lambton-committee',
    name: {
      en: 'Sarnia-Lambton Committee Against the Trafficking of Women and Children',
      fr: 'Comité de Sarnia-Lambton contre la traite des femmes et des enfants',
    },
    kind: 'coalition',
    services: ['counselling', 'safety_planning', 'shelter', 'court_support'],
    coverage: {
      provinceWide: false,
      regions: ['sarnia-lambton'],
      municipalities: [],
      fsas: ['N7S', 'N7T', 'N7V', 'N7W', 'N7X', 'N0N'],
    },
    languages: ['en'],
    hours: weekdays('09:00', '16:30'),
    acceptingReferrals: true,
    capacity: 4,
    sla: communitySla,
    contact: contact('sarnia-lambton-committee', 10),
  },
];
