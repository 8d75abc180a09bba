import { createLogger, guardProcess, loadServiceConfig } from '@passage/platform';
import { consentConfigSchema, consentSettingChecks } from './config.ts';
import { startConsent } from './service.ts';

const config = loadServiceConfig('consent', consentConfigSchema, consentSettingChecks);
const log = createLogger('consent', config.LOG_LEVEL);
guardProcess(log);
const consent = await startConsent(config, log);
consent.shutdown.onSignals(config.SHUTDOWN_GRACE_MS + 10_000);
log.info({ listen: consent.address }, 'consent ready');
