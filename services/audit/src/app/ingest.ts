import type { Checkpointer } from './checkpointer.ts';
import type { IncomingEvent, LogStore, ParkedEvent } from './ports.ts';

/** Records a batch of events from the bus, then signs a checkpoint when one is due. */
export class Ingest {
  readonly #store: LogStore;
  readonly #checkpointer: Checkpointer;

  constructor(store: LogStore, checkpointer: Checkpointer) {
    this.#store = store;
    this.#checkpointer = checkpointer;
  }

  async record(
    events: readonly IncomingEvent[],
    parked: readonly ParkedEvent[],
  ): Promise<{ appended: number; size: number }> {
    const result = await this.#store.append(events, parked);
    await this.#checkpointer.maybeSign(result.size);
    return result;
  }

  /** Where to resume reading each stream: just after what the log already holds. */
  positions(streams: readonly string[]): Promise<Map<string, number>> {
    return this.#store.positions(streams);
  }

  /** The timer's side of the policy: a quiet log still gets its checkpoint within T seconds. */
  async tick(): Promise<void> {
    await this.#checkpointer.maybeSign(await this.#store.size());
  }

  /** At shutdown, once nothing more is read: signs what no checkpoint covers yet. */
  async seal(): Promise<number | undefined> {
    return (await this.#checkpointer.signPending(await this.#store.size()))?.treeSize;
  }
}
