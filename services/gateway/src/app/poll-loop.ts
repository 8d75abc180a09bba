import { untraced } from '@passage/platform';

/**
 * Runs a queue's work now and again (the notification e-mails', the webhooks'): every `pollMs`,
 * at once when woken (and once more after a run it was woken during), one run at a time. A run
 * that finds nothing makes no span (ADR 32: an idle network traces nothing); a failed run is
 * reported and the loop goes on.
 */
export class PollLoop {
  readonly #work: () => Promise<boolean>;
  readonly #pollMs: number;
  readonly #failed: (error: unknown) => void;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  /** `work` answers whether to run again at once (more may be waiting behind what it did). */
  constructor(work: () => Promise<boolean>, pollMs: number, failed: (error: unknown) => void) {
    this.#work = work;
    this.#pollMs = pollMs;
    this.#failed = failed;
  }

  start(): void {
    this.#schedule(0);
  }

  wake(): void {
    if (this.#stopped) return;
    if (this.#running) this.#again = true;
    else this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#running = untraced(() => this.#work())
        .then((more) => {
          if (more) this.#again = true;
        })
        .catch(this.#failed)
        .finally(() => {
          this.#running = undefined;
          const again = this.#again;
          this.#again = false;
          this.#schedule(again ? 0 : this.#pollMs);
        });
    }, ms);
    this.#timer.unref();
  }
}
