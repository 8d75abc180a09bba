import { letsPoliceRead, type RecipientKind } from '@passage/consent-policy';
import { receiptVersion, type Actor, type CaptureMethod, type ConsentRecord, type ConsentScope } from './consent.ts';
import { checkMethod, checkScopes, type Checked, type RawScopes, type Violation } from './validate-grant.ts';

/** A consent holds at most this many scopes, amendments included: its receipt stays readable. */
export const maximumScopes = 50;

/** An amendment as it comes: strings everywhere. */
export interface RawAmendment {
  readonly method: string;
  readonly interpreterLanguage: string;
  readonly scopes: RawScopes;
}

/** Why an amendment cannot be made to this consent at all (FAILED_PRECONDITION), or `undefined`. */
export function amendmentRefusal(consent: ConsentRecord, now: Date): string | undefined {
  if (consent.revokedAt)
    return 'this consent was withdrawn (or the person erased); record a new consent with the person';
  if (consent.expiresAt.getTime() <= now.getTime())
    return 'this consent has expired; record a new consent with the person';
  return undefined;
}

/** Every (recipient, purpose, category) a scope speaks of; a recipient is `id:<agency>` or `kind:<kind>`. */
function triples(scope: Pick<ConsentScope, 'recipientAgencyIds' | 'recipientKinds' | 'purposes' | 'categories'>) {
  const recipients = [
    ...scope.recipientAgencyIds.map((id) => `id:${id}`),
    ...scope.recipientKinds.map((k) => `kind:${k}`),
  ];
  return recipients.flatMap((r) => scope.purposes.flatMap((p) => scope.categories.map((c) => `${r}|${p}|${c}`)));
}

/**
 * Plans an amendment of `consent` by `actor` at `now`: the scopes to add, each with the new
 * receipt version, when, by whom and how the person agreed. Rules (ADR 36):
 * - the consent is in effect (neither withdrawn nor expired): see `amendmentRefusal`;
 * - every scope is checked as a grant's is, and must add something the consent's scopes in
 *   effect do not already say (a proposed, unconfirmed scope counts as not saying it);
 * - a do-not-contact wish the consent holds carries over to every added scope;
 * - a scope that lets police read is only proposed when `proposes` (the recorder is police
 *   or not in the directory, ADR 22);
 * - the expiry does not change; at most `maximumScopes` scopes in all.
 */
export function planAmendment(
  consent: ConsentRecord,
  raw: RawAmendment,
  context: {
    readonly now: Date;
    readonly actor: Actor;
    readonly proposes: boolean;
    readonly kindOf: (agencyId: string) => RecipientKind | undefined;
    readonly newId: () => string;
  },
): Checked<{ readonly version: number; readonly scopes: readonly ConsentScope[] }> {
  const violations: Violation[] = [];
  const add = (field: string, description: string) => violations.push({ field, description });
  checkMethod(raw.method, raw.interpreterLanguage, add);
  if (raw.scopes.length === 0) add('scopes', 'at least one scope to add: who may see what, for which purpose');
  const inputs = checkScopes(raw.scopes, add);
  if (consent.scopes.length + inputs.length > maximumScopes) {
    add('scopes', `a consent holds at most ${maximumScopes} scopes; record a new consent with the person`);
  }
  const { now } = context;
  const inEffect = consent.scopes.filter(
    (s) => !s.revokedAt && (s.proposedAt === undefined || s.confirmedAt !== undefined),
  );
  const said = new Set(inEffect.flatMap(triples));
  inputs.forEach((scope, i) => {
    const speaks = triples(scope);
    if (speaks.length > 0 && speaks.every((t) => said.has(t))) {
      add(`scopes[${i}]`, 'the consent already allows this; add an agency, a purpose or a category it does not');
    }
  });
  if (violations.length > 0) return { ok: false, violations };

  const version = receiptVersion(consent) + 1;
  const doNotContact = inEffect.some((s) => s.doNotContact);
  const method = raw.method as CaptureMethod;
  const scopes = inputs.map((input): ConsentScope => {
    const scope: ConsentScope = {
      id: context.newId(),
      ...input,
      doNotContact: input.doNotContact || doNotContact,
      addedAt: now,
      addedBy: context.actor,
      addedInVersion: version,
      addedMethod: method,
    };
    return context.proposes && letsPoliceRead(scope, context.kindOf)
      ? { ...scope, proposedAt: now, proposedBy: context.actor }
      : scope;
  });
  return { ok: true, value: { version, scopes } };
}

/**
 * The consent as it stood when receipt `version` was issued: the scopes of that version and
 * before, and only what had happened by then (a withdrawal or a confirmation after it is not
 * on that receipt). Version 1 is the grant's; the latest version's issue is its amendment.
 */
export function asIssued(consent: ConsentRecord, version: number): ConsentRecord {
  const scopes = consent.scopes.filter((s) => (s.addedInVersion ?? 1) <= version);
  const issuedAt =
    version <= 1
      ? consent.grantedAt
      : new Date(Math.max(...scopes.filter((s) => s.addedInVersion === version).map((s) => s.addedAt!.getTime())));
  const by = (at: Date | undefined) => (at && at.getTime() <= issuedAt.getTime() ? at : undefined);
  return {
    ...consent,
    revokedAt: by(consent.revokedAt),
    scopes: scopes.map((s) => {
      const confirmed = by(s.confirmedAt);
      return {
        ...s,
        revokedAt: by(s.revokedAt),
        confirmedAt: confirmed,
        confirmedBy: confirmed ? s.confirmedBy : undefined,
      };
    }),
  };
}
