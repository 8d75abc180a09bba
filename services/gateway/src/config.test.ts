import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@passage/platform';
import { gatewayConfigSchema, gatewaySettingChecks, webhookUrlPolicy } from './config.ts';

describe('the webhook URL policy setting', () => {
  it('is any (http, local addresses) in development and public-https elsewhere, unless set', () => {
    const development = loadConfig(gatewayConfigSchema, { PASSAGE_ENV: 'development' });
    expect(webhookUrlPolicy(development)).toBe('any');
    expect(webhookUrlPolicy({ ...development, WEBHOOK_URL_POLICY: 'public-https' })).toBe('public-https');
    expect(webhookUrlPolicy(loadConfig(gatewayConfigSchema, { PASSAGE_ENV: 'production' }))).toBe('public-https');
  });

  it('refuses any outside development, naming the setting', () => {
    let refused: unknown;
    try {
      loadConfig(gatewayConfigSchema, { PASSAGE_ENV: 'production', WEBHOOK_URL_POLICY: 'any' }, gatewaySettingChecks);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).issues.some((issue) => issue.startsWith('WEBHOOK_URL_POLICY=any'))).toBe(true);
  });
});
