import { createHash, hash } from 'node:crypto';

/**
 * The Merkle tree of RFC 6962 §2.1 (RFC 9162 §2.1): SHA-256, with the leaf and node
 * hashes domain-separated so that a leaf can never pass for a node.
 */
export type Hash = Buffer;

const nodePrefix = Buffer.from([0x01]);

// The prefix and the input, copied into one buffer and hashed in one call: a third of the
// cost of an incremental hash object for inputs of this size (ADR 48).
let leafInput = Buffer.alloc(4096);
const nodeInput = Buffer.alloc(65, 0x01);

export function leafHash(entry: Uint8Array): Hash {
  if (entry.length >= leafInput.length) leafInput = Buffer.alloc(entry.length * 2);
  leafInput[0] = 0x00;
  leafInput.set(entry, 1);
  return hash('sha256', leafInput.subarray(0, entry.length + 1), 'buffer');
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Hash {
  if (left.length !== 32 || right.length !== 32) {
    return createHash('sha256').update(nodePrefix).update(left).update(right).digest();
  }
  nodeInput.set(left, 1);
  nodeInput.set(right, 33);
  return hash('sha256', nodeInput, 'buffer');
}

/** MTH of the empty tree. */
export const emptyRoot: Hash = createHash('sha256').digest();

/** A perfect subtree: the 2^level leaves from index × 2^level. Level 0 is a leaf. */
export interface SubtreeKey {
  readonly level: number;
  readonly index: number;
}

/** The largest power of two smaller than n (n ≥ 2): the split point of RFC 6962. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/**
 * The right edge of a growing tree: the roots of its perfect subtrees, largest first.
 * Appending a leaf completes some subtrees; those are returned so a store can keep them
 * and later answer proofs without reading every leaf.
 */
export class Frontier {
  // The perfect subtrees, largest first: their levels and hashes side by side.
  readonly #levels: number[];
  readonly #hashes: Hash[];
  #size: number;

  /** From the perfect subtrees of a tree of `size` leaves, largest first (see frontierKeys). */
  constructor(size = 0, hashes: readonly Hash[] = []) {
    const keys = frontierKeys(size);
    if (keys.length !== hashes.length) throw new Error(`a tree of ${size} leaves has ${keys.length} frontier nodes`);
    this.#size = size;
    this.#levels = keys.map((key) => key.level);
    this.#hashes = [...hashes];
  }

  get size(): number {
    return this.#size;
  }

  /** Adds a leaf hash; returns every subtree it completed, the leaf itself first. */
  append(leaf: Hash): (SubtreeKey & { hash: Hash })[] {
    const index = this.#size;
    const completed: (SubtreeKey & { hash: Hash })[] = [{ level: 0, index, hash: leaf }];
    this.#add(leaf, (level, hash) => completed.push({ level, index: Math.floor(index / 2 ** level), hash }));
    return completed;
  }

  /** Adds a leaf hash, keeping nothing of the subtrees it completes (a verifier's append). */
  push(leaf: Hash): void {
    this.#add(leaf);
  }

  #add(leaf: Hash, completed?: (level: number, hash: Hash) => void): void {
    let level = 0;
    let hash = leaf;
    while (this.#levels.length > 0 && this.#levels[this.#levels.length - 1] === level) {
      this.#levels.pop();
      hash = nodeHash(this.#hashes.pop()!, hash);
      level += 1;
      completed?.(level, hash);
    }
    this.#levels.push(level);
    this.#hashes.push(hash);
    this.#size += 1;
  }

  /** MTH of the leaves so far: the frontier folded from the right. */
  root(): Hash {
    if (this.#hashes.length === 0) return emptyRoot;
    let hash = this.#hashes[this.#hashes.length - 1]!;
    for (let i = this.#hashes.length - 2; i >= 0; i -= 1) hash = nodeHash(this.#hashes[i]!, hash);
    return hash;
  }
}

/** The perfect subtrees that make up a tree of `size` leaves, largest first. */
export function frontierKeys(size: number): SubtreeKey[] {
  const keys: SubtreeKey[] = [];
  let start = 0;
  for (let level = 52; level >= 0; level -= 1) {
    const width = 2 ** level;
    if (size - start >= width) {
      keys.push({ level, index: start / width });
      start += width;
    }
  }
  return keys;
}

/** Reads the hash of a perfect subtree that a store has kept. */
export type SubtreeLookup = (key: SubtreeKey) => Hash;

/** MTH(D[start : start+n]) where every left part is a perfect, aligned subtree. */
function rangeHash(start: number, n: number, lookup: SubtreeLookup): Hash {
  if (n === 0) return emptyRoot;
  if (isPowerOfTwo(n) && start % n === 0) return lookup({ level: Math.log2(n), index: start / n });
  const k = splitPoint(n);
  return nodeHash(rangeHash(start, k, lookup), rangeHash(start + k, n - k, lookup));
}

export function treeRoot(size: number, lookup: SubtreeLookup): Hash {
  return rangeHash(0, size, lookup);
}

/** PATH(m, D[n]) of RFC 6962 §2.1.1: the audit path of leaf m in a tree of n leaves. */
export function inclusionPath(m: number, n: number, lookup: SubtreeLookup): Hash[] {
  if (!(m >= 0 && m < n)) throw new RangeError(`leaf ${m} is not in a tree of ${n} leaves`);
  const path: Hash[] = [];
  const walk = (index: number, start: number, size: number): void => {
    if (size === 1) return;
    const k = splitPoint(size);
    if (index < k) {
      walk(index, start, k);
      path.push(rangeHash(start + k, size - k, lookup));
    } else {
      walk(index - k, start + k, size - k);
      path.push(rangeHash(start, k, lookup));
    }
  };
  walk(m, 0, n);
  return path;
}

/** PROOF(m, D[n]) of RFC 6962 §2.1.2: that the tree of m leaves is a prefix of the tree of n. */
export function consistencyProof(m: number, n: number, lookup: SubtreeLookup): Hash[] {
  if (!(m >= 0 && m <= n)) throw new RangeError(`a tree of ${m} leaves cannot be a prefix of one of ${n}`);
  const proof: Hash[] = [];
  if (m === 0 || m === n) return proof;
  const sub = (mm: number, start: number, size: number, complete: boolean): void => {
    if (mm === size) {
      if (!complete) proof.push(rangeHash(start, size, lookup));
      return;
    }
    const k = splitPoint(size);
    if (mm <= k) {
      sub(mm, start, k, complete);
      proof.push(rangeHash(start + k, size - k, lookup));
    } else {
      sub(mm - k, start + k, size - k, false);
      proof.push(rangeHash(start, k, lookup));
    }
  };
  sub(m, 0, n, true);
  return proof;
}

/**
 * The subtrees a computation will look up, without their hashes: run it once against this
 * recorder, fetch those keys from the store in one query, then run it for real.
 */
export function recordLookups(run: (lookup: SubtreeLookup) => unknown): SubtreeKey[] {
  const keys = new Map<string, SubtreeKey>();
  run((key) => {
    keys.set(`${key.level}:${key.index}`, key);
    return emptyRoot;
  });
  return [...keys.values()];
}

/** RFC 9162 §2.1.3.2: does `path` prove leaf `index` (hash `leaf`) is in the tree of `size` with `root`? */
export function verifyInclusion(index: number, size: number, leaf: Hash, path: readonly Hash[], root: Hash): boolean {
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/** RFC 9162 §2.1.4.2: does `proof` show the tree (size1, root1) is a prefix of (size2, root2)? */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Hash[],
  root1: Hash,
  root2: Hash,
): boolean {
  if (size1 > size2) return false;
  if (size1 === size2) return proof.length === 0 && root1.equals(root2);
  if (size1 === 0) return proof.length === 0;
  const path = [...proof];
  if (isPowerOfTwo(size1)) path.unshift(root1);
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  const [first, ...rest] = path;
  if (!first) return false;
  let fr = first;
  let sr = first;
  for (const c of rest) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return fr.equals(root1) && sr.equals(root2) && sn === 0;
}
