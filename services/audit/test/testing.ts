// @passage/audit/testing: what other packages' tests and the benchmarks use to run the audit
// service and fill its tables, without reaching into its adapters.
export * from './support.ts';
export * from './seeding.ts';
