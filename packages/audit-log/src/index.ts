export * from './merkle.ts';
export * from './canonical.ts';
export * from './canonical-bytes.ts';
export * from './checkpoint.ts';
export * from './verify-log.ts';
export * from './log-reader.ts';
export * from './signing-key.ts';
