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

  it('reads a setting from <NAME>_FILE (a mounted secret), refuses both, and names a file it cannot read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'passage-config-'));
    const file = join(dir, 'database-url');
    writeFileSync(file, 'postgres://from-a-file@db:5432/passage\n');
    expect(loadConfig(baseConfigSchema, { DATABASE_URL_FILE: file }).DATABASE_URL).toBe(
      'postgres://from-a-file@db:5432/passage',
    );
    expect(() =>
      loadConfig(baseConfigSchema, { DATABASE_URL: 'postgres://both@db/passage', DATABASE_URL_FILE: file }),
    ).toThrow(/DATABASE_URL and DATABASE_URL_FILE are both set/);
    // An empty variable counts as unset.
    expect(loadConfig(baseConfigSchema, { DATABASE_URL: '', DATABASE_URL_FILE: file }).DATABASE_URL).toBe(
      'postgres://from-a-file@db:5432/passage',
    );
    expect(() => loadConfig(baseConfigSchema, { DATABASE_URL_FILE: join(dir, 'missing') })).toThrow(
      /DATABASE_URL_FILE: cannot read .*missing \(ENOENT\)/,
    );
  });

  it('runs every check, after the values it refuses too, and reports every problem at once', () => {
    let seen: string | undefined;
    const checks = [
      (config: { PASSAGE_ENV: string }) => {
        seen = config.PASSAGE_ENV;
        throw new ConfigError(['FIRST_KEY is required', 'SECOND_KEY is required']);
      },
      () => {
        throw new Error('THIRD_KEY: not a key');
      },
      () => 'fine',
    ];
    try {
      loadConfig(baseConfigSchema, { GRPC_PORT: 'eighty', PASSAGE_ENV: 'development' }, checks);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).issues).toEqual([
        'GRPC_PORT: Invalid input: expected number, received NaN',
        'FIRST_KEY is required',
        'SECOND_KEY is required',
        'THIRD_KEY: not a key',
      ]);
    }
    expect(seen).toBe('development');
  });
});
