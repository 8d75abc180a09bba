import type { BaseConfig, SettingsCheck } from './config.ts';
import { checkDatabaseUrl } from './db.ts';
import { grpcTransport } from './tls.ts';

const quiet = { warn: () => undefined, info: () => undefined };

/**
 * The checks of the base settings every service makes when it starts (loadConfig runs them
 * all, to report every problem at once): gRPC's mutual TLS (ADR 26) and the database URLs
 * (TLS outside development; `keyStore`: KEYSTORE_DATABASE_URL required then, ADR 23).
 * The same functions decide again where the settings are used.
 */
export function baseSettingChecks(
  options: { readonly keyStore?: boolean } = {},
): SettingsCheck<BaseConfig & { readonly KEYSTORE_DATABASE_URL?: string | undefined }>[] {
  return [
    (config) => grpcTransport(config, quiet),
    (config) => checkDatabaseUrl('DATABASE_URL', config.DATABASE_URL, config.PASSAGE_ENV),
    (config) => {
      if (!options.keyStore) return;
      if (config.KEYSTORE_DATABASE_URL) {
        checkDatabaseUrl('KEYSTORE_DATABASE_URL', config.KEYSTORE_DATABASE_URL, config.PASSAGE_ENV);
      } else if (config.PASSAGE_ENV !== 'development') {
        throw new Error(
          "KEYSTORE_DATABASE_URL is required outside development: the key store's own login (docs/adr/0023-key-store.md)",
        );
      }
    },
  ];
}
