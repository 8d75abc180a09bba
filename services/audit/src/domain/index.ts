export * from './report-request.ts';
export * from './report-scope.ts';
export * from './checkpoint-policy.ts';
export * from './suppression.ts';
