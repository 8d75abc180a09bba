import type { Logger } from './logger.ts';

/**
 * What a service's health answers: SERVING only while every named condition holds (a
 * consumer's feed flowing, the audit log whole). A condition that fails turns the server's
 * grpc.health.v1 status (and the HTTP readiness that follows it) to NOT_SERVING, with one log
 * line naming it; it turns back once all hold again.
 */
export class Readiness {
  readonly #conditions = new Map<string, boolean>();
  readonly #log: Logger | undefined;
  #server: { setServing(serving: boolean): void } | undefined;

  constructor(log?: Logger) {
    this.#log = log;
  }

  get ready(): boolean {
    return [...this.#conditions.values()].every(Boolean);
  }

  /** The conditions that do not hold now. */
  failing(): string[] {
    return [...this.#conditions].filter(([, holds]) => !holds).map(([name]) => name);
  }

  /** Every condition by name, and whether it holds now. */
  conditions(): ReadonlyMap<string, boolean> {
    return new Map(this.#conditions);
  }

  set(name: string, holds: boolean): void {
    if (this.#conditions.get(name) === holds) return;
    const known = this.#conditions.has(name);
    this.#conditions.set(name, holds);
    if (!holds) this.#log?.warn({ condition: name }, 'not ready: a condition failed');
    else if (known) this.#log?.info({ condition: name }, 'condition holds again');
    this.#server?.setServing(this.ready);
  }

  /** From now on the server's health follows these conditions. */
  follow(server: { setServing(serving: boolean): void }): void {
    this.#server = server;
    server.setServing(this.ready);
  }
}
