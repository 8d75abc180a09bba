import fhirPackage from 'fhir';

// FHIR.js (the `fhir` package) ships the R4 (4.0.1) structure definitions and value sets,
// pre-parsed; asked for R4 by name here, so a later default cannot change what is checked.
const { Fhir, ParseConformance, Versions } = fhirPackage;
const r4 = new Fhir(new ParseConformance(true, Versions.R4));

const fhirId = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * What is wrong with a resource as FHIR R4 has it: FHIR.js's errors (unknown elements, missing
 * required ones, cardinality, primitive formats, codes of required bindings), and the id type's
 * pattern, which FHIR.js does not check. Empty: valid. The resource is read as its JSON text.
 */
export function r4Problems(resource: unknown): string[] {
  const json = JSON.parse(JSON.stringify(resource)) as { resourceType?: string; id?: unknown };
  const result = r4.validate(json, { errorOnUnexpected: true });
  const problems = result.messages
    .filter((m) => ['error', 'fatal'].includes(String(m.severity)))
    .map((m) => `${m.location ?? ''}: ${m.message ?? ''}`);
  const ids: unknown[] = [];
  const collect = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(collect);
    else if (value && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      if (typeof record['resourceType'] === 'string' && 'id' in record) ids.push(record['id']);
      Object.values(record).forEach(collect);
    }
  };
  collect(json);
  for (const id of ids)
    if (typeof id !== 'string' || !fhirId.test(id)) problems.push(`id: "${String(id)}" is not a FHIR id`);
  return problems;
}
