import { PassageError, requestViolations } from '@passage/platform';
import { agencyKinds, serviceTypes, type Agency, type AgencyListing } from '../domain/agency.ts';
import { fromHsds, toHsds } from '../domain/hsds.ts';
import { hsdsIdOf } from '@passage/vocabulary/directory-ids';
import { knownRegions } from '../domain/geography.ts';
import { checkMatchRequest, match, type MatchRequest, type MatchResult } from '../domain/matching.ts';
import { validateListing } from '../domain/validate-agency.ts';
import { Violations } from '../domain/violations.ts';
import type { Caller, DirectoryStorage, DirectoryTransaction } from './ports.ts';

export interface AgencyFilter {
  readonly kind?: string;
  readonly region?: string;
  readonly service?: string;
  readonly language?: string;
}

/** The directory's use cases: one method per command or query. */
export class DirectoryUseCases {
  readonly #storage: DirectoryStorage;

  constructor(storage: DirectoryStorage) {
    this.#storage = storage;
  }

  async listAgencies(filter: AgencyFilter): Promise<Agency[]> {
    const violations = new Violations();
    if (filter.kind && !(agencyKinds as readonly string[]).includes(filter.kind)) {
      violations.add('kind', `unknown kind "${filter.kind}"; one of ${agencyKinds.join(', ')}`);
    }
    if (filter.region && !knownRegions.has(filter.region))
      violations.add('region', `unknown region "${filter.region}"`);
    if (filter.service && !(serviceTypes as readonly string[]).includes(filter.service)) {
      violations.add('service', `unknown service "${filter.service}"; one of ${serviceTypes.join(', ')}`);
    }
    if (!violations.ok) throw PassageError.invalid(violations.list);

    const all = await this.#storage.agencies.list();
    return all.filter(
      (a) =>
        (!filter.kind || a.kind === filter.kind) &&
        (!filter.region || a.coverage.provinceWide || a.coverage.regions.includes(filter.region)) &&
        (!filter.service || (a.services as readonly string[]).includes(filter.service)) &&
        (!filter.language || a.languages.includes(filter.language)),
    );
  }

  async getAgency(id: string): Promise<Agency> {
    if (!id) throw PassageError.invalid([{ field: 'id', description: 'required' }]);
    const agency = await this.#storage.agencies.get(id);
    if (!agency) throw new PassageError('not_found', `no agency "${id}" in the directory`);
    return agency;
  }

  async upsertAgency(caller: Caller, listing: AgencyListing): Promise<{ agency: Agency; created: boolean }> {
    requireAdmin(caller, 'change the directory');
    const violations = new Violations();
    validateListing(listing, violations);
    if (!violations.ok) throw PassageError.invalid(violations.list);
    return this.#storage.transaction((tx) => upsert(tx, caller, listing, 'upsert'));
  }

  async match(request: MatchRequest): Promise<MatchResult> {
    const input = checkMatchRequest(request);
    if (!input.ok) throw PassageError.invalid(input.violations.list);
    const agencies = await this.#storage.agencies.list();
    return match(agencies, input.needs, input.place, input.language, request.priority, request.at);
  }

  async exportHsds(): Promise<string> {
    const agencies = await this.#storage.agencies.list();
    return JSON.stringify(toHsds(agencies, hsdsIdOf), null, 2);
  }

  /** All or nothing: one bad organization rejects the document, and every error is listed. */
  async importHsds(caller: Caller, json: string): Promise<number> {
    requireAdmin(caller, 'import listings');
    const parsed = fromHsds(json);
    if (!parsed.ok) {
      throw new PassageError(
        'invalid_argument',
        `the HSDS document has ${parsed.errors.length} error(s); nothing was imported: ${parsed.errors
          .map((e) => `${e.field}: ${e.description}`)
          .join('; ')}`,
        parsed.errors,
      );
    }
    // Escapes inside the JSON text (a "\u202e") pass the gRPC boundary's check of the text
    // itself: the parsed listings are held to the same rule as any other request.
    const refused = requestViolations(parsed.listings, 'json.listings');
    if (refused.length > 0) throw PassageError.invalid(refused);
    await this.#storage.transaction(async (tx) => {
      for (const listing of parsed.listings) await upsert(tx, caller, listing, 'import');
    });
    return parsed.listings.length;
  }
}

function requireAdmin(caller: Caller, what: string): void {
  if (!caller.roles.includes('admin')) {
    throw new PassageError('permission_denied', `only an administrator may ${what}`);
  }
}

/** An identical listing changes nothing: no new version, no event. */
async function upsert(
  tx: DirectoryTransaction,
  caller: Caller,
  listing: AgencyListing,
  source: 'upsert' | 'import',
): Promise<{ agency: Agency; created: boolean }> {
  // Two changes of one agency at once would both become version N+1 with different contents,
  // and a consumer keeping the first would differ from the directory for good.
  await tx.agencies.lock(listing.id);
  const existing = await tx.agencies.get(listing.id);
  if (existing && sameListing(existing, listing)) return { agency: existing, created: false };
  const agency: Agency = { ...listing, version: (existing?.version ?? 0) + 1 };
  await tx.agencies.save(agency);
  await tx.events.agencyChanged(agency, source, caller);
  return { agency, created: !existing };
}

function sameListing(agency: Agency, listing: AgencyListing): boolean {
  const { version: _version, ...current } = agency;
  return canonical(current) === canonical(listing);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}
