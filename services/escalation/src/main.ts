import { createLogger, guardProcess, loadConfig } from '@passage/platform';
import { escalationConfigSchema } from './config.ts';
import { startEscalation } from './service.ts';

const config = loadConfig(escalationConfigSchema);
const log = createLogger('escalation', config.LOG_LEVEL);
guardProcess(log);
const escalation = await startEscalation(config, log);
escalation.shutdown.onSignals(config.SHUTDOWN_GRACE_MS + 10_000);
log.info({ listen: escalation.address }, 'escalation ready');
