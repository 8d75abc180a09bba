import { gapAction, gapEvent, type GapAcknowledgement, type StreamGap } from '../domain/index.ts';
import type { Checkpointer } from './checkpointer.ts';
import type { IncomingEvent, LogStore, ParkedEvent, StreamHead } from './ports.ts';

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

  /** Where the log ends a stream, and what it holds there. */
  streamHead(stream: string): Promise<StreamHead> {
    return this.#store.streamHead(stream);
  }

  /**
   * Writes an acknowledged gap into the log as an entry of its own; reading the stream then
   * resumes after `ack.resumeAfterSeq`. Refused if the log no longer ends the stream where the
   * gap was seen.
   */
  async recordGap(gap: StreamGap, ack: GapAcknowledgement): Promise<{ seq: number }> {
    const entry: IncomingEvent = {
      eventId: ack.id,
      subject: gapAction,
      stream: gap.stream,
      streamSeq: ack.resumeAfterSeq,
      receivedAt: ack.at,
      event: gapEvent(gap, ack),
      fields: {
        action: gapAction,
        occurredAt: ack.at,
        actorAgency: ack.actor.agency,
        actorUser: ack.actor.user,
        actorRole: ack.actor.role,
        referralId: '',
        subjectRef: '',
        fromAgency: '',
        toAgency: '',
      },
    };
    const { seq, size } = await this.#store.appendGap(entry, gap.lastStoredSeq);
    await this.#checkpointer.maybeSign(size);
    return { seq };
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
