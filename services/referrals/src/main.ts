import { createLogger, guardProcess, loadConfig } from '@passage/platform';
import { referralsConfigSchema } from './config.ts';
import { startReferrals } from './service.ts';

const config = loadConfig(referralsConfigSchema);
const log = createLogger('referrals', config.LOG_LEVEL);
guardProcess(log);
const referrals = await startReferrals(config, log);
referrals.shutdown.onSignals(config.SHUTDOWN_GRACE_MS + 10_000);
log.info({ listen: referrals.address }, 'referrals ready');
