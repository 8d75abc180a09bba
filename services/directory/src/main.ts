import { createLogger, guardProcess, loadServiceConfig } from '@passage/platform';
import { directoryConfigSchema, directorySettingChecks } from './config.ts';
import { startDirectory } from './service.ts';

const config = loadServiceConfig('directory', directoryConfigSchema, directorySettingChecks);
const log = createLogger('directory', config.LOG_LEVEL);
guardProcess(log);
const directory = await startDirectory(config, log);
directory.shutdown.onSignals(config.SHUTDOWN_GRACE_MS + 10_000);
log.info({ listen: directory.address }, 'directory ready');
