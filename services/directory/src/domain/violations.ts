/** A field that failed a rule; `field` is a path such as `agency.coverage.fsas[1]`. */
export interface Violation {
  readonly field: string;
  readonly description: string;
}

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
