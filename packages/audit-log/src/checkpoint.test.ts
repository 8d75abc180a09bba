import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CheckpointError, NoteSigner, NoteVerifier } from './checkpoint.ts';
import { canonicalJson, decodeEntry, encodeEntry, EntryEncodingError } from './canonical.ts';
import { leafHash } from './merkle.ts';

const signer = new NoteSigner('passage.test/audit', Buffer.alloc(32, 7));
const checkpoint = { origin: 'passage.test/audit', treeSize: 42, rootHash: leafHash(Buffer.from('root')) };

describe('signed checkpoints', () => {
  it('round-trips through the note format and names the key the C2SP way', () => {
    const note = signer.sign(checkpoint);
    expect(note).toMatch(
      /^passage\.test\/audit\n42\n[A-Za-z0-9+/]{43}=\n\n— passage\.test\/audit [A-Za-z0-9+/=]{92}\n$/,
    );
    expect(signer.verifierKey).toMatch(/^passage\.test\/audit\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+$/);
    const opened = new NoteVerifier(signer.verifierKey).open(note);
    expect(opened.treeSize).toBe(42);
    expect(opened.rootHash.equals(checkpoint.rootHash)).toBe(true);
  });

  it('refuses a changed size, a changed root and another key', () => {
    const note = signer.sign(checkpoint);
    const verifier = new NoteVerifier(signer.verifierKey);
    expect(() => verifier.open(note.replace('\n42\n', '\n41\n'))).toThrow('does not verify');
    const otherRoot = leafHash(Buffer.from('other')).toString('base64');
    expect(() => verifier.open(note.replace(checkpoint.rootHash.toString('base64'), otherRoot))).toThrow(
      CheckpointError,
    );
    const stranger = new NoteSigner('passage.test/audit', randomBytes(32));
    expect(() => new NoteVerifier(stranger.verifierKey).open(note)).toThrow('no signature');
  });
});

describe('canonical entries', () => {
  const entry = {
    seq: 3,
    receivedAt: new Date('2026-11-28T15:04:05.123Z'),
    subject: 'referral.v1.peel.london.sent',
    event: {
      type: 'referral.v1.sent',
      id: 'e1',
      actor: { user: 'u', agency: 'peel' },
      categories: ['needs', 'contact'],
    },
  };

  it('sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: 'é"' } })).toBe('{"a":{"c":"é\\"","d":[2,1]},"b":1}');
    expect(encodeEntry(entry).toString()).toBe(
      '{"event":{"actor":{"agency":"peel","user":"u"},"categories":["needs","contact"],"id":"e1","type":"referral.v1.sent"},' +
        '"received_at":"2026-11-28T15:04:05.123Z","seq":3,"subject":"referral.v1.peel.london.sent","v":1}',
    );
  });

  it('reads back only the canonical bytes', () => {
    const bytes = encodeEntry(entry);
    expect(decodeEntry(bytes)).toEqual(entry);
    const spaced = Buffer.from(bytes.toString().replace('"seq":3', '"seq": 3'));
    expect(() => decodeEntry(spaced)).toThrow(EntryEncodingError);
    expect(() => canonicalJson({ x: 1.5 })).toThrow('integers only');
  });
});
