export * from './errors.ts';
export * from './config.ts';
export * from './logger.ts';
export * from './grpc.ts';
export * from './lifecycle.ts';
export * from './db.ts';
export * from './orm.ts';
export { startTelemetry, type TelemetryOptions } from './telemetry.ts';
export {
  activeTraceFields,
  defaultSampleRatio,
  samplerFromEnv,
  stopTelemetry,
  untraced,
  workSpan,
  type WorkSpanOptions,
} from './tracing.ts';
export * from './grpc-client.ts';
export {
  grpcTransport,
  type ClientCredentials,
  type GrpcTlsSettings,
  type GrpcTransport,
  type TransportLog,
} from './tls.ts';
export { listenForProbes, probePaths, probeStatus, type HealthListener, type ProbePath } from './health-http.ts';
export * from './status-details.ts';
export * from './retry.ts';
export * from './process-guard.ts';
export { writeDevCertificates, type DevCertificateFiles, type DevCertificateOptions } from './dev-certificates.ts';
export { Readiness } from './readiness.ts';
export * from './database-url.ts';
export * from './db-roles.ts';
export * from './migration-job.ts';
export * from './setting-checks.ts';
export {
  exportedSeries,
  listenForMetrics,
  metricCatalog,
  metrics,
  parsePrometheusText,
  prometheusSeries,
  PassageMetrics,
  type MetricDeclaration,
  type MetricKey,
  type MetricsListener,
  type Sample,
} from './metrics.ts';
