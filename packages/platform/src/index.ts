export * from './errors.ts';
export * from './config.ts';
export * from './logger.ts';
export * from './grpc.ts';
export * from './lifecycle.ts';
export * from './db.ts';
export { startTelemetry, type TelemetryOptions } from './telemetry.ts';
export * from './grpc-client.ts';
