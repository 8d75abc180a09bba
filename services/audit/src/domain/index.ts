export * from './report-request.ts';
export * from './report-scope.ts';
export * from './checkpoint-policy.ts';
export * from './suppression.ts';
export * from './duration-histogram.ts';
export * from './toronto-month.ts';
export * from './stream-gap.ts';
