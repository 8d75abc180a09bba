import { createLogger, guardProcess, loadConfig } from '@passage/platform';
import { consentConfigSchema } from './config.ts';
import { startConsent } from './service.ts';

const config = loadConfig(consentConfigSchema);
const log = createLogger('consent', config.LOG_LEVEL);
guardProcess(log);
const consent = await startConsent(config, log);
consent.shutdown.onSignals(config.SHUTDOWN_GRACE_MS + 10_000);
log.info({ listen: consent.address }, 'consent ready');
