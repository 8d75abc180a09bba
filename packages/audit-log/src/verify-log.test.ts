import { describe, expect, it } from 'vitest';
import { NoteSigner } from './checkpoint.ts';
import { encodeEntry } from './canonical.ts';
import { Frontier, leafHash } from './merkle.ts';
import { verifyLog, type StoredEntry } from './verify-log.ts';

const signer = new NoteSigner('passage.test/audit', Buffer.alloc(32, 3));
const entries: StoredEntry[] = Array.from({ length: 7 }, (_, seq) => {
  const entry = encodeEntry({
    seq,
    receivedAt: new Date(Date.UTC(2026, 10, 1, 12, seq)),
    subject: 'directory.v1.agency_upserted',
    event: { id: `event-${seq}`, padding: 'x'.repeat(seq) },
  });
  return { seq, entry, leafHash: leafHash(entry) };
});

function noteAt(size: number): string {
  const frontier = new Frontier();
  for (const stored of entries.slice(0, size)) frontier.append(leafHash(stored.entry));
  return signer.sign({ origin: 'passage.test/audit', treeSize: size, rootHash: frontier.root() });
}

function all(): AsyncIterable<StoredEntry> {
  return (async function* () {
    for (const stored of entries) yield await Promise.resolve(stored);
  })();
}

const bytes = (from: number, to: number): number =>
  entries.slice(from, to).reduce((sum, stored) => sum + stored.entry.length, 0);

describe('verifyLog', () => {
  it('reports the entries under the largest signature and the unsigned tail after it, in entries and bytes', async () => {
    const result = await verifyLog({
      entries: all(),
      checkpointNotes: [noteAt(2), noteAt(4)],
      verifierKey: signer.verifierKey,
    });
    expect(result).toMatchObject({
      ok: true,
      treeSize: 7,
      checkpointsChecked: 2,
      signed: { entries: 4, bytes: bytes(0, 4) },
      unsignedTail: { entries: 3, bytes: bytes(4, 7) },
    });
  });

  it('counts a saved checkpoint as a signature, and a log signed to its end has no tail', async () => {
    const saved = await verifyLog({
      entries: all(),
      checkpointNotes: [noteAt(2)],
      verifierKey: signer.verifierKey,
      savedNote: noteAt(5),
    });
    expect(saved).toMatchObject({ ok: true, signed: { entries: 5 }, unsignedTail: { entries: 2 } });
    const whole = await verifyLog({ entries: all(), checkpointNotes: [noteAt(7)], verifierKey: signer.verifierKey });
    expect(whole).toMatchObject({ signed: { entries: 7, bytes: bytes(0, 7) }, unsignedTail: { entries: 0, bytes: 0 } });
    const none = await verifyLog({ entries: all(), checkpointNotes: [], verifierKey: signer.verifierKey });
    expect(none).toMatchObject({ ok: true, signed: { entries: 0, bytes: 0 }, unsignedTail: { entries: 7 } });
  });
});
