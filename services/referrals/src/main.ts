import { createLogger, guardProcess, loadServiceConfig } from '@passage/platform';
import { referralsConfigSchema, referralsSettingChecks } from './config.ts';
import { startReferrals } from './service.ts';

const config = loadServiceConfig('referrals', referralsConfigSchema, referralsSettingChecks);
const log = createLogger('referrals', config.LOG_LEVEL);
guardProcess(log);
const referrals = await startReferrals(config, log);
referrals.shutdown.onSignals(config.SHUTDOWN_GRACE_MS + 10_000);
log.info({ listen: referrals.address }, 'referrals ready');
