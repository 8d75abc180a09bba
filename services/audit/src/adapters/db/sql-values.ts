/** A timestamp as a bound SQL parameter: ISO 8601 UTC, or null when absent. */
export const iso = (date: Date | undefined): string | null => (date ? date.toISOString() : null);
