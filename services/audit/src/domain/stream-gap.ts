/**
 * A hole between what the log holds of a stream and what the stream still has. The log never
 * reads past one: ingest of that stream stops until an administrator acknowledges the gap,
 * which becomes an entry of the log itself (docs/adr/0020-audit-log-whole-or-says-not.md).
 *
 * - `behind`: the stream ends before the last event the log holds (it was recreated, or a
 *   node came back on an empty disk): reading on from the stored position would skip the
 *   stream's next events.
 * - `lost`: the stream's first event comes after the one the log expects next: events the log
 *   never read were removed (purged, expired, lost with a disk).
 * - `replaced`: the stream holds an event at the stored position, but not the one the log
 *   holds there: the stream was recreated and has grown past the position since.
 */
export type GapReason = 'behind' | 'lost' | 'replaced';

export interface StreamGap {
  readonly stream: string;
  readonly reason: GapReason;
  /** The last stream sequence the log holds. */
  readonly lastStoredSeq: number;
  /** The first and last sequence the stream holds now (first = last + 1 when it is empty). */
  readonly firstSeq: number;
  readonly lastSeq: number;
}

/** What JetStream says of a stream: its first and last sequence and how many messages it holds. */
export interface StreamExtent {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly messages: number;
}

/**
 * Whether the stream's message at the stored position is the event the log holds there:
 * `unknown` when the stream no longer has it or the log's last record there is a gap entry.
 */
export type AtStoredPosition = 'same' | 'different' | 'unknown';

/** The first sequence the stream can still deliver: an empty stream's next one. */
export function firstAvailable(extent: StreamExtent): number {
  return extent.messages > 0 ? extent.firstSeq : extent.lastSeq + 1;
}

export function findGap(
  stream: string,
  lastStoredSeq: number,
  extent: StreamExtent,
  atStored: AtStoredPosition,
): StreamGap | undefined {
  if (lastStoredSeq === 0) return undefined; // nothing read yet: the stream is read from its start
  const gap = (reason: GapReason): StreamGap => ({
    stream,
    reason,
    lastStoredSeq,
    firstSeq: firstAvailable(extent),
    lastSeq: extent.lastSeq,
  });
  if (extent.lastSeq < lastStoredSeq) return gap('behind');
  if (firstAvailable(extent) > lastStoredSeq + 1) return gap('lost');
  if (atStored === 'different') return gap('replaced');
  return undefined;
}

/** One line for logs and the command line: stream names and numbers only. */
export function describeGap(gap: StreamGap): string {
  const held = `the log holds stream ${gap.stream} up to seq ${gap.lastStoredSeq}`;
  const now =
    gap.lastSeq < gap.firstSeq
      ? `the stream is empty (next seq ${gap.firstSeq})`
      : `the stream holds seq ${gap.firstSeq} to ${gap.lastSeq}`;
  switch (gap.reason) {
    case 'behind':
      return `${held}, but ${now}: it was recreated or lost its data`;
    case 'lost':
      return `${held}, but ${now}: seq ${gap.lastStoredSeq + 1} to ${gap.firstSeq - 1} were removed before the log read them`;
    case 'replaced':
      return `${held}, but ${now} and its event at seq ${gap.lastStoredSeq} is not the one the log holds: it was recreated`;
  }
}

export const gapAction = 'audit.v1.stream_gap';

/** Who acknowledged a gap: from the verified caller token. */
export interface GapAcknowledgement {
  readonly id: string;
  readonly at: Date;
  readonly actor: { readonly agency: string; readonly user: string; readonly role: string };
  /** Ingest resumes after this sequence: the stream's first available one, minus one. */
  readonly resumeAfterSeq: number;
}

/**
 * The event of a gap entry, shaped like an envelope's JSON (id, type, occurredAt, actor) with
 * a `streamGap` body: stream names and sequence numbers, no personal data.
 */
export function gapEvent(gap: StreamGap, ack: GapAcknowledgement) {
  return {
    id: ack.id,
    type: gapAction,
    occurredAt: ack.at.toISOString(),
    actor: { agency: ack.actor.agency, user: ack.actor.user, role: ack.actor.role },
    streamGap: {
      stream: gap.stream,
      reason: gap.reason,
      lastStoredSeq: gap.lastStoredSeq,
      firstSeq: gap.firstSeq,
      lastSeq: gap.lastSeq,
      resumeAfterSeq: ack.resumeAfterSeq,
    },
  };
}
