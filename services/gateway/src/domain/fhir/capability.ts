import { exportParameters, exportTypes, resourceTypes, searchParameters } from './api.ts';
import type { Bundle, Resource } from './resources.ts';

/**
 * The CapabilityStatement (GET /api/fhir/metadata), from the same table the router enforces:
 * exactly the reads, searches and parameters served, and the synchronous bulk export. Pure.
 */

/** When what the API offers last changed: the statement's date. */
export const capabilityDate = '2026-12-03';

export function capabilityStatement(baseUrl: string): Resource & Record<string, unknown> {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: capabilityDate,
    publisher: 'Passage',
    kind: 'instance',
    software: { name: 'Passage' },
    implementation: {
      description:
        'Passage, the consent-scoped referral network: its referrals, consents and directory in FHIR R4, read-only',
      url: baseUrl,
    },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        documentation:
          'Referrals after the closed-loop referral pattern of the HL7 SDOH Clinical Care IG (ServiceRequest + Task). ' +
          'Each read goes through the same services as the JSON API with the caller’s own token: consent is evaluated ' +
          'at read time and every read of a referral or a consent is audited.',
        security: {
          description:
            'Sign in (POST /api/session) and send the session cookie. A role or agency that may not read a record is ' +
            'answered as the JSON API answers it (403, or 404 where whether it exists is not for the caller to learn).',
        },
        resource: resourceTypes.map((type) => ({
          type,
          interaction: [{ code: 'read' }, { code: 'search-type' }],
          searchParam: searchParameters[type].map(({ name, type: kind, documentation }) => ({
            name,
            type: kind,
            documentation,
          })),
        })),
        operation: [
          {
            name: 'export',
            definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export',
            documentation:
              `GET /api/fhir/$export (auditor or admin): a synchronous NDJSON stream (application/fhir+ndjson), one ` +
              `resource a line, of ${exportTypes.join(', ')}: referral metadata only (no packet, needs, subject or ` +
              `contact), audited as one access. Parameters: ${exportParameters.join(', ')}.`,
          },
        ],
      },
    ],
  };
}

/**
 * A search's answer: its matches, with the link to the next page when there is one, and the
 * total when the answer is whole (a first page with no next one).
 */
export function searchBundle(
  selfUrl: string,
  entries: readonly { fullUrl: string; resource: Resource }[],
  page: { readonly next?: string | undefined; readonly whole: boolean },
): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    ...(page.whole && !page.next ? { total: entries.length } : {}),
    link: [{ relation: 'self', url: selfUrl }, ...(page.next ? [{ relation: 'next' as const, url: page.next }] : [])],
    entry: entries.map(({ fullUrl, resource }) => ({ fullUrl, resource, search: { mode: 'match' } })),
  };
}
