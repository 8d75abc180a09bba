import { Violations } from './violations.ts';

/**
 * Just enough Ontario geography to route a referral: municipalities, the regions the
 * coalitions serve, and which forward sortation areas (the first three characters of a
 * postal code) fall where. An Ontario FSA we do not map still resolves (to "ontario"),
 * so province-wide agencies can serve it.
 */
export interface Place {
  readonly region: string;
  readonly municipality?: string;
  readonly fsa?: string;
}

const municipalities: Readonly<Record<string, string>> = {
  toronto: 'toronto',
  mississauga: 'peel',
  brampton: 'peel',
  caledon: 'peel',
  london: 'london-middlesex',
  'strathroy-caradoc': 'london-middlesex',
  'middlesex-centre': 'london-middlesex',
  windsor: 'windsor-essex',
  leamington: 'windsor-essex',
  kingsville: 'windsor-essex',
  lakeshore: 'windsor-essex',
  amherstburg: 'windsor-essex',
  tecumseh: 'windsor-essex',
  ottawa: 'ottawa',
  sarnia: 'sarnia-lambton',
  petrolia: 'sarnia-lambton',
  'plympton-wyoming': 'sarnia-lambton',
  hamilton: 'hamilton',
  kitchener: 'waterloo',
  waterloo: 'waterloo',
  'thunder-bay': 'thunder-bay',
  sudbury: 'sudbury',
  kingston: 'kingston',
};

export const knownRegions: ReadonlySet<string> = new Set([...Object.values(municipalities), 'ontario']);
export const knownMunicipalities: ReadonlySet<string> = new Set(Object.keys(municipalities));

function range(prefix: string, from: string, to: string): string[] {
  const out: string[] = [];
  for (let c = from.charCodeAt(0); c <= to.charCodeAt(0); c++) out.push(prefix + String.fromCharCode(c));
  return out;
}

/** FSA → municipality, for the places the seed directory serves locally. */
const fsaMunicipality = new Map<string, string>([
  ...[...range('L4', 'T', 'Z'), ...range('L5', 'A', 'W')].map((fsa) => [fsa, 'mississauga'] as const),
  ...[...range('L6', 'P', 'Z'), 'L7A'].map((fsa) => [fsa, 'brampton'] as const),
  ...['L7C', 'L7E', 'L7K'].map((fsa) => [fsa, 'caledon'] as const),
  ...[...range('N5', 'V', 'Z'), ...range('N6', 'A', 'P')].map((fsa) => [fsa, 'london'] as const),
  ['N7G', 'strathroy-caradoc'] as const,
  ...[...range('N8', 'N', 'Y'), ...range('N9', 'A', 'K')].map((fsa) => [fsa, 'windsor'] as const),
  ['N8H', 'leamington'] as const,
  ['N9Y', 'kingsville'] as const,
  ...[...range('K1', 'A', 'Z'), ...range('K2', 'A', 'W'), 'K4A', 'K4B', 'K4C', 'K4M', 'K4P'].map(
    (fsa) => [fsa, 'ottawa'] as const,
  ),
  ...['N7S', 'N7T', 'N7V', 'N7W', 'N7X'].map((fsa) => [fsa, 'sarnia'] as const),
  ['N0N', 'petrolia'] as const,
]);

const fsaPattern = /^[ABCEGHJ-NPRSTVXY][0-9][ABCEGHJ-NPRSTV-Z]$/;
const ontarioFirstLetters = new Set(['K', 'L', 'M', 'N', 'P']);

/** Normalises and checks an FSA; returns it upper-cased, or records why it is not one. */
export function checkFsa(raw: string, field: string, violations: Violations): string | undefined {
  const fsa = raw.trim().toUpperCase();
  if (!fsaPattern.test(fsa)) {
    violations.add(field, `"${raw}" is not a forward sortation area (letter, digit, letter, e.g. "N7T")`);
    return undefined;
  }
  if (!ontarioFirstLetters.has(fsa[0]!)) {
    violations.add(field, `"${fsa}" is outside Ontario (Ontario FSAs start with K, L, M, N or P)`);
    return undefined;
  }
  return fsa;
}

/** Resolves a municipality slug and/or an FSA to a place; violations name the bad field. */
export function resolvePlace(
  input: { municipality?: string; fsa?: string },
  violations: Violations,
  fieldPrefix = '',
): Place | undefined {
  const municipality = input.municipality?.trim().toLowerCase() || undefined;
  const rawFsa = input.fsa?.trim() || undefined;
  if (!municipality && !rawFsa) {
    violations.add(`${fieldPrefix}municipality`, 'give a municipality or an FSA (postal code prefix)');
    return undefined;
  }
  let fromMunicipality: string | undefined;
  if (municipality) {
    fromMunicipality = municipalities[municipality];
    if (!fromMunicipality)
      violations.add(`${fieldPrefix}municipality`, `unknown Ontario municipality "${municipality}"`);
  }
  const fsa = rawFsa ? checkFsa(rawFsa, `${fieldPrefix}fsa`, violations) : undefined;
  if (!violations.ok) return undefined;

  const fsaTown = fsa ? (fsaMunicipality.get(fsa) ?? (fsa.startsWith('M') ? 'toronto' : undefined)) : undefined;
  const town = municipality ?? fsaTown;
  const region = fromMunicipality ?? (fsaTown ? municipalities[fsaTown] : undefined) ?? 'ontario';
  return { region, ...(town ? { municipality: town } : {}), ...(fsa ? { fsa } : {}) };
}
