import { NoteSigner } from '@passage/audit-log';
import { workSpan } from '@passage/platform';
import { checkpointDue, type CheckpointPolicy } from '../domain/index.ts';
import type { LogStore, StoredCheckpoint } from './ports.ts';

/**
 * Signs a checkpoint of the log every N entries, or once the tree has grown and T seconds
 * have passed since the last one, and at shutdown whatever is left (`signPending`). The root
 * is recomputed from the stored subtrees at the size being signed, so a checkpoint vouches
 * only for what is in the database. Time comes from the clock given (tests give their own).
 */
export class Checkpointer {
  readonly #store: LogStore;
  readonly #signer: NoteSigner;
  readonly #origin: string;
  readonly #policy: CheckpointPolicy;
  readonly #now: () => number;
  #last: { size: number; atMs: number } | undefined;
  #signing: Promise<unknown> = Promise.resolve();

  constructor(
    store: LogStore,
    signer: NoteSigner,
    origin: string,
    policy: CheckpointPolicy,
    now: () => number = Date.now,
  ) {
    this.#store = store;
    this.#signer = signer;
    this.#origin = origin;
    this.#policy = policy;
    this.#now = now;
  }

  get verifierKey(): string {
    return this.#signer.verifierKey;
  }

  /** After an append, or on the timer: signs if the policy says so. */
  maybeSign(size: number): Promise<StoredCheckpoint | undefined> {
    return this.#serially(async () => {
      const nowMs = this.#now();
      const last = await this.#lastSigned(nowMs);
      const state = { size, lastSize: last.size, lastAtMs: last.atMs, nowMs };
      return checkpointDue(this.#policy, state) ? this.#sign(size, nowMs) : undefined;
    });
  }

  /** At shutdown: signs the log as it is when it holds anything no checkpoint covers. */
  signPending(size: number): Promise<StoredCheckpoint | undefined> {
    return this.#serially(async () => {
      const nowMs = this.#now();
      const last = await this.#lastSigned(nowMs);
      return size > last.size ? this.#sign(size, nowMs) : undefined;
    });
  }

  /** One at a time: concurrent calls would sign the same size twice. */
  #serially<T>(run: () => Promise<T>): Promise<T> {
    const next = this.#signing.then(run);
    this.#signing = next.catch(() => undefined);
    return next;
  }

  async #lastSigned(nowMs: number): Promise<{ size: number; atMs: number }> {
    if (!this.#last) {
      const latest = await this.#store.latestCheckpoint();
      this.#last = { size: latest?.treeSize ?? 0, atMs: latest ? nowMs : 0 };
    }
    return this.#last;
  }

  #sign(size: number, nowMs: number): Promise<StoredCheckpoint> {
    // Its own span: the timer's look is untraced, so only a checkpoint signed shows (ADR 32).
    return workSpan('audit sign checkpoint', { attributes: { 'passage.audit.tree_size': size } }, () =>
      this.#signNow(size, nowMs),
    );
  }

  async #signNow(size: number, nowMs: number): Promise<StoredCheckpoint> {
    const rootHash = await this.#store.rootAt(size);
    const note = this.#signer.sign({ origin: this.#origin, treeSize: size, rootHash });
    const checkpoint = { treeSize: size, rootHash, note };
    await this.#store.saveCheckpoint(checkpoint);
    this.#last = { size, atMs: nowMs };
    return checkpoint;
  }
}
