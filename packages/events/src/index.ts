export * from './topology.ts';
export * from './envelope.ts';
export * from './outbox.ts';
export * from './relay.ts';
export * from './consumer.ts';
export * from './streams.ts';
export { eventTablesSql, quoteIdent } from './schema-sql.ts';
export { currentTraceCarrier } from './trace-context.ts';
export * from './connect.ts';
