import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  it('reads a setting from <NAME>_FILE (a mounted secret), the variable winning, and names a file it cannot read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'passage-config-'));
    const file = join(dir, 'database-url');
    writeFileSync(file, 'postgres://from-a-file@db:5432/passage\n');
    expect(loadConfig(baseConfigSchema, { DATABASE_URL_FILE: file }).DATABASE_URL).toBe(
      'postgres://from-a-file@db:5432/passage',
    );
    expect(
      loadConfig(baseConfigSchema, { DATABASE_URL: 'postgres://wins@db/passage', DATABASE_URL_FILE: file })
        .DATABASE_URL,
    ).toBe('postgres://wins@db/passage');
    expect(() => loadConfig(baseConfigSchema, { DATABASE_URL_FILE: join(dir, 'missing') })).toThrow(
      /DATABASE_URL_FILE: cannot read .*missing \(ENOENT\)/,
    );
  });
});
