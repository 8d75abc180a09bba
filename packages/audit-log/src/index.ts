export * from './merkle.ts';
export * from './canonical.ts';
export * from './checkpoint.ts';
export * from './verify-log.ts';
