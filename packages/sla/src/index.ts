export * from './ontario-holidays.ts';
export * from './business-time.ts';
