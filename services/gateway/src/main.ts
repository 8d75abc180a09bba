import { createLogger, guardProcess, loadServiceConfig } from '@passage/platform';
import { gatewayConfigSchema, gatewaySettingChecks } from './config.ts';
import { startGateway } from './service.ts';

const config = loadServiceConfig('gateway', gatewayConfigSchema, gatewaySettingChecks);
const log = createLogger('gateway', config.LOG_LEVEL);
guardProcess(log);
const gateway = await startGateway(config, log);
gateway.shutdown.onSignals(config.SHUTDOWN_GRACE_MS + 10_000);
log.info({ listen: gateway.url }, 'gateway ready');
