import { ConfigError, exitOnConfigError } from './config.ts';
import type { Logger } from './logger.ts';

/**
 * The last line of defence, behind the boundaries of every gRPC server, consumer, relay and
 * timer: a promise rejection nobody handled is logged and the process serves on. An uncaught
 * exception leaves the process in an unknown state, so it is logged and the process exits
 * with 1 for its supervisor (pnpm start, Kubernetes) to restart it — but for a ConfigError (a
 * setting found wrong while starting: a certificate, a database URL), which is said on stderr
 * one line a problem, without a stack trace, with exit code 78 (exitOnConfigError).
 */
export function guardProcess(log: Logger): void {
  process.on('unhandledRejection', (reason) => {
    log.error({ err: reason }, 'a promise rejection was not handled; serving on');
  });
  process.on('uncaughtException', (error, origin) => {
    if (error instanceof ConfigError) {
      const service = (log.bindings() as { service?: string }).service ?? 'passage';
      log.flush(() => exitOnConfigError(service, error));
      return;
    }
    log.fatal({ err: error, origin }, 'uncaught exception; exiting for the supervisor to restart the service');
    log.flush(() => process.exit(1));
  });
}
