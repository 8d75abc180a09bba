import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { Hash } from './merkle.ts';

/**
 * Checkpoints in the C2SP tlog-checkpoint format, signed as C2SP signed notes with Ed25519:
 *
 *   <origin>\n<tree size>\n<base64 root hash>\n\n— <key name> <base64(key id ‖ signature)>\n
 *
 * The key id is the first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key), so tools that
 * read Go's sumdb notes or transparency-dev witnesses read these too.
 */
export interface Checkpoint {
  readonly origin: string;
  readonly treeSize: number;
  readonly rootHash: Hash;
}

const ed25519 = 0x01;
const pkcs8Ed25519Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
const spkiEd25519Prefix = Buffer.from('302a300506032b6570032100', 'hex');

export class CheckpointError extends Error {}

function keyId(name: string, publicKey: Buffer): Buffer {
  return createHash('sha256')
    .update(Buffer.concat([Buffer.from(`${name}\n`), Buffer.from([ed25519]), publicKey]))
    .digest()
    .subarray(0, 4);
}

function checkName(name: string): void {
  if (!name || /[\s+]/.test(name))
    throw new CheckpointError(`note key name "${name}" must be non-empty, without spaces or "+"`);
}

export function checkpointBody(checkpoint: Checkpoint): string {
  if (checkpoint.origin.includes('\n') || !checkpoint.origin)
    throw new CheckpointError('origin must be one non-empty line');
  return `${checkpoint.origin}\n${checkpoint.treeSize}\n${checkpoint.rootHash.toString('base64')}\n`;
}

export class NoteSigner {
  readonly name: string;
  readonly #key: KeyObject;
  readonly #id: Buffer;
  readonly #publicKey: Buffer;

  /** From the 32-byte Ed25519 seed. */
  constructor(name: string, seed: Buffer) {
    checkName(name);
    if (seed.length !== 32) throw new CheckpointError('an Ed25519 seed is 32 bytes');
    this.name = name;
    this.#key = createPrivateKey({ key: Buffer.concat([pkcs8Ed25519Prefix, seed]), format: 'der', type: 'pkcs8' });
    this.#publicKey = createPublicKey(this.#key)
      .export({ format: 'der', type: 'spki' })
      .subarray(spkiEd25519Prefix.length);
    this.#id = keyId(name, this.#publicKey);
  }

  /** `<name>+<hex key id>+<base64(0x01 ‖ public key)>`: what a verifier is given. */
  get verifierKey(): string {
    return `${this.name}+${this.#id.toString('hex')}+${Buffer.concat([Buffer.from([ed25519]), this.#publicKey]).toString('base64')}`;
  }

  sign(checkpoint: Checkpoint): string {
    const body = checkpointBody(checkpoint);
    const signature = sign(null, Buffer.from(body), this.#key);
    return `${body}\n— ${this.name} ${Buffer.concat([this.#id, signature]).toString('base64')}\n`;
  }
}

export class NoteVerifier {
  readonly name: string;
  readonly #id: Buffer;
  readonly #key: KeyObject;

  constructor(verifierKey: string) {
    // The base64 key may itself hold "+": only the first two separate fields.
    const match = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(verifierKey.trim());
    if (!match) throw new CheckpointError('a verifier key reads <name>+<8 hex digit id>+<base64 key>');
    const [, name = '', id = '', key = ''] = match;
    const raw = Buffer.from(key, 'base64');
    if (raw.length !== 33 || raw[0] !== ed25519)
      throw new CheckpointError('the verifier key is not an Ed25519 note key');
    const publicKey = raw.subarray(1);
    if (keyId(name, publicKey).toString('hex') !== id)
      throw new CheckpointError('the verifier key id does not match its key');
    this.name = name;
    this.#id = Buffer.from(id, 'hex');
    this.#key = createPublicKey({ key: Buffer.concat([spkiEd25519Prefix, publicKey]), format: 'der', type: 'spki' });
  }

  /** The checkpoint of a note that this key signed; CheckpointError otherwise. */
  open(note: string): Checkpoint {
    const split = note.indexOf('\n\n');
    if (split < 0) throw new CheckpointError('not a signed note: no blank line before the signatures');
    const body = note.slice(0, split + 1);
    const signatures = note
      .slice(split + 2)
      .split('\n')
      .filter(Boolean);
    const mine = signatures
      .map((line) => /^— (\S+) ([A-Za-z0-9+/=]+)$/.exec(line))
      .find(
        (match) =>
          match?.[1] === this.name &&
          Buffer.from(match[2] ?? '', 'base64')
            .subarray(0, 4)
            .equals(this.#id),
      );
    if (!mine) throw new CheckpointError(`the note carries no signature by ${this.name}`);
    const signature = Buffer.from(mine[2] as string, 'base64').subarray(4);
    if (!verify(null, Buffer.from(body), this.#key, signature))
      throw new CheckpointError('the note signature does not verify');
    const lines = body.split('\n');
    const [origin, size, root] = lines;
    if (!origin || !size || !root || !/^\d+$/.test(size)) throw new CheckpointError('the note is not a checkpoint');
    const rootHash = Buffer.from(root, 'base64');
    if (rootHash.length !== 32) throw new CheckpointError('the checkpoint root hash is not 32 bytes');
    return { origin, treeSize: Number(size), rootHash };
  }
}
