import { createLogger, guardProcess, loadConfig } from '@passage/platform';
import { gatewayConfigSchema } from './config.ts';
import { startGateway } from './service.ts';

const config = loadConfig(gatewayConfigSchema);
const log = createLogger('gateway', config.LOG_LEVEL);
guardProcess(log);
const gateway = await startGateway(config, log);
gateway.shutdown.onSignals(config.SHUTDOWN_GRACE_MS + 10_000);
log.info({ listen: gateway.url }, 'gateway ready');
