import { createLogger, guardProcess, loadServiceConfig } from '@passage/platform';
import { escalationConfigSchema, escalationSettingChecks } from './config.ts';
import { startEscalation } from './service.ts';

const config = loadServiceConfig('escalation', escalationConfigSchema, escalationSettingChecks);
const log = createLogger('escalation', config.LOG_LEVEL);
guardProcess(log);
const escalation = await startEscalation(config, log);
escalation.shutdown.onSignals(config.SHUTDOWN_GRACE_MS + 10_000);
log.info({ listen: escalation.address }, 'escalation ready');
