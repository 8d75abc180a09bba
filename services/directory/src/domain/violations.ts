import type { FieldViolation } from '@passage/errors';
/** A field that failed a rule: the one shape every layer uses (@passage/errors). */
export type Violation = FieldViolation;

/** Collects violations with a path prefix, so nested validators report full paths. */
export class Violations {
  readonly list: Violation[] = [];

  add(field: string, description: string): void {
    this.list.push({ field, description });
  }

  get ok(): boolean {
    return this.list.length === 0;
  }
}
