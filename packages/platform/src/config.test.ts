import { describe, expect, it } from 'vitest';
import { ConfigError, baseConfigSchema, loadConfig } from './config.ts';

describe('config', () => {
  it('defaults to the localhost servers', () => {
    const config = loadConfig(baseConfigSchema, {});
    expect(config.DATABASE_URL).toBe('postgres://postgres@localhost:5432/passage');
    expect(config.NATS_URL).toBe('nats://localhost:4222');
    expect(config.OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
  });

  it('names every bad variable', () => {
    expect(() => loadConfig(baseConfigSchema, { GRPC_PORT: 'eighty', NATS_NAMESPACE: 'Bad-Name' })).toThrow(
      ConfigError,
    );
    try {
      loadConfig(baseConfigSchema, { GRPC_PORT: 'eighty', NATS_NAMESPACE: 'Bad-Name' });
    } catch (error) {
      expect((error as Error).message).toMatch(/GRPC_PORT/);
      expect((error as Error).message).toMatch(/NATS_NAMESPACE/);
    }
  });
});
