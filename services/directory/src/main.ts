import { createLogger, guardProcess, loadConfig } from '@passage/platform';
import { directoryConfigSchema } from './config.ts';
import { startDirectory } from './service.ts';

const config = loadConfig(directoryConfigSchema);
const log = createLogger('directory', config.LOG_LEVEL);
guardProcess(log);
const directory = await startDirectory(config, log);
directory.shutdown.onSignals(config.SHUTDOWN_GRACE_MS + 10_000);
log.info({ listen: directory.address }, 'directory ready');
