import { createHash } from 'node:crypto';

/**
 * The stable ids of the directory's objects in what Passage exports: the HSDS document
 * (docs/adr/0007-hsds-mapping.md) and the FHIR Organization, HealthcareService and Location
 * (docs/adr/0044-fhir-r4-export.md) name an agency, its services and its intake desk by the
 * same UUIDs, so the two exports agree. Node only (node:crypto): a subpath of its own, out of
 * the console's bundle.
 *
 * Passage's UUID namespace for these ids (RFC 9562 §5.5). Fixed forever: changing it would
 * give every exported organization, service and schedule a new id.
 */
export const hsdsNamespace = '82341ff2-a64d-41fa-a7e1-200f5ce6b579';

/** A name-based UUID (version 5, SHA-1) of `name` in `namespace`, RFC 9562 §5.5. */
export function uuidV5(namespace: string, name: string): string {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replace(/-/g, ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The stable HSDS id of a Passage name such as "organization:pact-ottawa". */
export const hsdsIdOf = (name: string): string => uuidV5(hsdsNamespace, name);

/** The id of an agency's HSDS organization and FHIR Organization. */
export const organizationIdOf = (agencyId: string): string => hsdsIdOf(`organization:${agencyId}`);

/** The id of one service of an agency: its HSDS service and FHIR HealthcareService. */
export const serviceIdOf = (agencyId: string, service: string): string => hsdsIdOf(`service:${agencyId}:${service}`);

/** The id of an agency's intake desk: its HSDS (virtual) location and FHIR Location. */
export const intakeLocationIdOf = (agencyId: string): string => hsdsIdOf(`location:${agencyId}:intake`);
