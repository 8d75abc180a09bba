export * from './servers.ts';
export * from './isolation.ts';
export * from './private-servers.ts';
export * from './processes.ts';
export * from './grpc-probes.ts';
export * from './spans.ts';
export * from './waiting.ts';
export * from './private-postgres.ts';
