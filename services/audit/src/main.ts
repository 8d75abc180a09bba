import { createLogger, guardProcess, loadServiceConfig } from '@passage/platform';
import { auditConfigSchema, auditSettingChecks } from './config.ts';
import { startAudit } from './service.ts';

const config = loadServiceConfig('audit', auditConfigSchema, auditSettingChecks);
const log = createLogger('audit', config.LOG_LEVEL);
guardProcess(log);
const audit = await startAudit(config, log);
audit.shutdown.onSignals(config.SHUTDOWN_GRACE_MS + 10_000);
log.info({ listen: audit.address, verifierKey: audit.verifierKey }, 'audit ready');
