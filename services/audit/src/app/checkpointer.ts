import { NoteSigner } from '@passage/audit-log';
import { checkpointDue, type CheckpointPolicy } from '../domain/index.ts';
import type { LogStore, StoredCheckpoint } from './ports.ts';

/**
 * Signs a checkpoint of the log every N entries or T seconds, whichever comes first. The
 * root is recomputed from the stored subtrees at the size being signed, so a checkpoint
 * vouches only for what is in the database.
 */
export class Checkpointer {
  readonly #store: LogStore;
  readonly #signer: NoteSigner;
  readonly #origin: string;
  readonly #policy: CheckpointPolicy;
  #last: { size: number; atMs: number } | undefined;
  #signing: Promise<unknown> = Promise.resolve();

  constructor(store: LogStore, signer: NoteSigner, origin: string, policy: CheckpointPolicy) {
    this.#store = store;
    this.#signer = signer;
    this.#origin = origin;
    this.#policy = policy;
  }

  get verifierKey(): string {
    return this.#signer.verifierKey;
  }

  /** After an append, or on the timer: signs if the policy says so. */
  async maybeSign(size: number, nowMs = Date.now()): Promise<void> {
    // One at a time: concurrent calls would sign the same size twice.
    const next = this.#signing.then(async () => {
      if (!this.#last) {
        const latest = await this.#store.latestCheckpoint();
        this.#last = { size: latest?.treeSize ?? 0, atMs: latest ? nowMs : 0 };
      }
      const state = { size, lastSize: this.#last.size, lastAtMs: this.#last.atMs, nowMs };
      if (checkpointDue(this.#policy, state)) await this.sign(size, nowMs);
    });
    this.#signing = next.catch(() => undefined);
    await next;
  }

  async sign(size: number, nowMs = Date.now()): Promise<StoredCheckpoint> {
    const rootHash = await this.#store.rootAt(size);
    const note = this.#signer.sign({ origin: this.#origin, treeSize: size, rootHash });
    const checkpoint = { treeSize: size, rootHash, note };
    await this.#store.saveCheckpoint(checkpoint);
    this.#last = { size, atMs: nowMs };
    return checkpoint;
  }
}
