import type { Logger } from './logger.ts';
import { stopTelemetry } from './tracing.ts';

type Step = { readonly name: string; readonly run: () => Promise<void> };

/**
 * Graceful shutdown in a fixed order: the steps run in the order they were added, so a
 * service adds them as "stop accepting calls, drain, stop consumers, close NATS, close the
 * database". Each step runs even when an earlier one failed. SIGTERM or SIGINT starts it;
 * a repeated signal (Ctrl-C reaches both a supervisor and its children) changes nothing,
 * and a deadline bounds the whole.
 */
export class Shutdown {
  readonly #steps: Step[] = [];
  readonly #log: Logger;
  #running: Promise<void> | undefined;

  constructor(log: Logger) {
    this.#log = log;
  }

  add(name: string, run: () => Promise<void>): void {
    this.#steps.push({ name, run });
  }

  run(): Promise<void> {
    this.#running ??= (async () => {
      const done: string[] = [];
      for (const step of this.#steps) {
        try {
          await step.run();
          done.push(step.name);
        } catch (error) {
          this.#log.error({ err: error, step: step.name }, 'shutdown step failed');
        }
      }
      // One line with the steps in the order they finished.
      this.#log.info({ steps: done }, 'shutdown complete');
    })();
    return this.#running;
  }

  /**
   * Runs the steps on SIGTERM/SIGINT/SIGHUP (a closed terminal: drained as Ctrl-C is, not killed
   * mid-call), then exits; exits with 1 if they take longer than deadlineMs.
   */
  onSignals(deadlineMs = 30_000): void {
    let signalled = false;
    const handle = (signal: NodeJS.Signals): void => {
      if (signalled) return;
      signalled = true;
      this.#log.info({ signal }, 'shutting down');
      setTimeout(() => {
        this.#log.error({ deadlineMs }, 'shutdown did not finish in time; exiting');
        process.exit(1);
      }, deadlineMs).unref();
      // Flush the log before exiting, or the last lines (the shutdown steps) may be lost.
      const exit = (code: number) => () => this.#log.flush(() => process.exit(code));
      this.run()
        // Then the spans still buffered, the shutdown's own included: exported before exit.
        .then(() =>
          stopTelemetry().catch((error: unknown) => this.#log.warn({ err: error }, 'could not export the last spans')),
        )
        .then(exit(0), exit(1));
    };
    process.on('SIGTERM', handle);
    process.on('SIGINT', handle);
    process.on('SIGHUP', handle);
  }
}
