import { EntryEncodingError } from './canonical.ts';
import { canonicalEntrySeq } from './canonical-bytes.ts';
import { NoteVerifier, type Checkpoint } from './checkpoint.ts';
import { Frontier, leafHash, type Hash } from './merkle.ts';

export interface StoredEntry {
  readonly seq: number;
  readonly entry: Buffer;
  /** The leaf hash the writer stored beside the entry: lets a tampered entry be named. */
  readonly leafHash?: Buffer | undefined;
}

export interface LogVerification {
  readonly ok: boolean;
  readonly treeSize: number;
  readonly checkpointsChecked: number;
  /** The first entry found wrong, when one can be named. */
  readonly firstBadSeq?: number;
  readonly problem?: string;
  readonly latest?: Checkpoint;
  /**
   * When ok: the entries under the largest verified signature (the stored checkpoints and
   * the saved one), and the entries after it. Nothing vouches for that unsigned tail: it can
   * be changed or cut off in the database without a trace, until a checkpoint covers it.
   */
  readonly signed?: EntrySpan;
  readonly unsignedTail?: EntrySpan;
}

/** A count of entries and the bytes of their canonical encodings. */
export interface EntrySpan {
  readonly entries: number;
  readonly bytes: number;
}

export interface VerifyLogInput {
  /** Every stored entry in seq order, one at a time or a page at a time (see scanEntries). */
  readonly entries: AsyncIterable<StoredEntry | readonly StoredEntry[]>;
  /** The checkpoint notes the log stored, any order. */
  readonly checkpointNotes: readonly string[];
  readonly verifierKey: string;
  /** A checkpoint saved earlier, outside the database: the log must still extend it. */
  readonly savedNote?: string | undefined;
}

/**
 * Recomputes the tree from the entries and checks it against every signed checkpoint.
 * Trusts nothing the database says beyond the entries themselves: signatures decide.
 */
export async function verifyLog(input: VerifyLogInput): Promise<LogVerification> {
  const verifier = new NoteVerifier(input.verifierKey);
  const checkpoints: Checkpoint[] = [];
  for (const note of input.checkpointNotes) {
    try {
      checkpoints.push(verifier.open(note));
    } catch (error) {
      return failed(0, 0, `a stored checkpoint does not verify: ${(error as Error).message}`);
    }
  }
  let saved: Checkpoint | undefined;
  if (input.savedNote !== undefined) {
    try {
      saved = verifier.open(input.savedNote);
    } catch (error) {
      return failed(0, 0, `the saved checkpoint does not verify: ${(error as Error).message}`);
    }
  }
  const expected = new Map<number, { checkpoint: Checkpoint; label: string }[]>();
  const expect = (checkpoint: Checkpoint, label: string): void => {
    expected.set(checkpoint.treeSize, [...(expected.get(checkpoint.treeSize) ?? []), { checkpoint, label }]);
  };
  for (const checkpoint of checkpoints) expect(checkpoint, 'its signed checkpoint');
  if (saved) expect(saved, 'the saved checkpoint');

  const frontier = new Frontier();
  let checked = 0;
  let lastGood = 0;
  let bytes = 0;
  let signedBytes = 0;
  const compareAt = (size: number, root: Hash): LogVerification | undefined => {
    for (const { checkpoint, label } of expected.get(size) ?? []) {
      if (!checkpoint.rootHash.equals(root)) {
        return failed(
          size,
          checked,
          `the tree of ${size} entries does not match ${label}: an entry from seq ${lastGood} to ${size - 1} was altered`,
        );
      }
      checked += 1;
    }
    if (expected.has(size)) {
      lastGood = size;
      signedBytes = bytes;
    }
    return undefined;
  };
  const atZero = compareAt(0, frontier.root());
  if (atZero) return atZero;

  // Each entry: canonical bytes (checked as bytes, the same verdict as decoding and
  // re-encoding it: ADR 48), its own seq, its leaf hash recomputed and folded into the tree.
  const check = (stored: StoredEntry): LogVerification | undefined => {
    const seq = frontier.size;
    if (stored.seq !== seq) {
      return failed(seq, checked, `entry ${seq} is missing (the next stored entry is ${stored.seq})`, seq);
    }
    try {
      const said = canonicalEntrySeq(stored.entry);
      if (said !== seq) return failed(seq, checked, `entry ${seq} says it is entry ${said}`, seq);
    } catch (error) {
      if (!(error instanceof EntryEncodingError)) throw error;
      return failed(seq, checked, `entry ${seq} is not a canonical entry: ${error.message}`, seq);
    }
    const hash = leafHash(stored.entry);
    if (stored.leafHash && !stored.leafHash.equals(hash)) {
      return failed(seq, checked, `entry ${seq} does not match the leaf hash written with it`, seq);
    }
    frontier.push(hash);
    bytes += stored.entry.length;
    return expected.has(frontier.size) ? compareAt(frontier.size, frontier.root()) : undefined;
  };
  for await (const item of input.entries) {
    if (isPage(item)) {
      for (const stored of item) {
        const problem = check(stored);
        if (problem) return problem;
      }
    } else {
      const problem = check(item);
      if (problem) return problem;
    }
  }

  const size = frontier.size;
  const beyond = [...expected.keys()].filter((treeSize) => treeSize > size).sort((a, b) => b - a)[0];
  if (beyond !== undefined) {
    const who = saved && saved.treeSize === beyond ? 'the saved checkpoint' : 'a signed checkpoint';
    return failed(
      size,
      checked,
      `the log holds ${size} entries but ${who} covers ${beyond}: entries from seq ${size} on are gone`,
      size,
    );
  }
  const latest = [...checkpoints].sort((a, b) => b.treeSize - a.treeSize)[0];
  return {
    ok: true,
    treeSize: size,
    checkpointsChecked: checked,
    ...(latest ? { latest } : {}),
    signed: { entries: lastGood, bytes: signedBytes },
    unsignedTail: { entries: size - lastGood, bytes: bytes - signedBytes },
  };
}

const isPage = (item: StoredEntry | readonly StoredEntry[]): item is readonly StoredEntry[] => Array.isArray(item);

function failed(treeSize: number, checked: number, problem: string, firstBadSeq?: number): LogVerification {
  return {
    ok: false,
    treeSize,
    checkpointsChecked: checked,
    problem,
    ...(firstBadSeq === undefined ? {} : { firstBadSeq }),
  };
}
