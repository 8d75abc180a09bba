import { baseSettingChecks, type BaseConfig, type SettingsCheck } from '@passage/platform';
import { natsConnectionOptions } from './connect.ts';

/**
 * The checks every service's start makes of the base settings (loadServiceConfig): gRPC TLS,
 * the database URLs (platform's baseSettingChecks) and NATS — TLS, its user and password
 * (`name`: the service's NATS user). A service adds the checks of its own settings (its keys).
 */
export function serviceSettingChecks(
  name: string,
  options: { readonly keyStore?: boolean } = {},
): SettingsCheck<BaseConfig & { readonly KEYSTORE_DATABASE_URL?: string | undefined }>[] {
  return [...baseSettingChecks(options), (config) => natsConnectionOptions(config, name)];
}
