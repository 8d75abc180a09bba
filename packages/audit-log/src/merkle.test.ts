import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Frontier,
  consistencyProof,
  frontierKeys,
  inclusionPath,
  leafHash,
  nodeHash,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
  type Hash,
  type SubtreeKey,
  type SubtreeLookup,
} from './merkle.ts';

// MTH straight from RFC 6962 §2.1, recursive over the leaf hashes.
function referenceRoot(leaves: readonly Hash[]): Hash {
  if (leaves.length === 1) return leaves[0] as Hash;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

function storeOf(leaves: readonly Hash[]): { lookup: SubtreeLookup; frontier: Frontier } {
  const nodes = new Map<string, Hash>();
  const frontier = new Frontier();
  for (const leaf of leaves)
    for (const node of frontier.append(leaf)) nodes.set(`${node.level}:${node.index}`, node.hash);
  const lookup = (key: SubtreeKey): Hash => {
    const hash = nodes.get(`${key.level}:${key.index}`);
    if (!hash) throw new Error(`no subtree ${key.level}:${key.index}`);
    return hash;
  };
  return { lookup, frontier };
}

const leavesOf = (n: number): Hash[] => Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`entry ${i}`)));

describe('Merkle tree (RFC 6962)', () => {
  it('gives the published test-vector roots of the certificate-transparency leaves', () => {
    const inputs = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];
    const roots = [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
      'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
      '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
      'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
      '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
    ];
    const frontier = new Frontier();
    inputs.forEach((hex, i) => {
      frontier.append(leafHash(Buffer.from(hex, 'hex')));
      expect(frontier.root().toString('hex')).toBe(roots[i]);
    });
  });

  it('keeps the root of the recursive definition at every size, from the frontier and from stored subtrees', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), (n) => {
        const leaves = leavesOf(n);
        const { lookup, frontier } = storeOf(leaves);
        const expected = referenceRoot(leaves);
        expect(frontier.root().equals(expected)).toBe(true);
        expect(treeRoot(n, lookup).equals(expected)).toBe(true);
        const restored = new Frontier(n, frontierKeys(n).map(lookup));
        expect(restored.root().equals(expected)).toBe(true);
      }),
    );
  });

  it('proves every leaf included, and no proof survives a changed leaf or path', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 }))),
        ([n, m]) => {
          const leaves = leavesOf(n);
          const { lookup } = storeOf(leaves);
          const root = treeRoot(n, lookup);
          const path = inclusionPath(m, n, lookup);
          expect(verifyInclusion(m, n, leaves[m] as Hash, path, root)).toBe(true);
          expect(verifyInclusion(m, n, leafHash(Buffer.from('forged')), path, root)).toBe(false);
          if (path.length > 0) {
            const broken = path.map((p, i) => (i === 0 ? leafHash(p) : p));
            expect(verifyInclusion(m, n, leaves[m] as Hash, broken, root)).toBe(false);
          }
          if (n > 1) expect(verifyInclusion((m + 1) % n, n, leaves[m] as Hash, path, root)).toBe(false);
        },
      ),
    );
  });

  it('proves every prefix consistent, and rejects a rewritten history', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }).chain((n) => fc.tuple(fc.integer({ min: 1, max: n }), fc.constant(n))),
        ([m, n]) => {
          const leaves = leavesOf(n);
          const { lookup } = storeOf(leaves);
          const proof = consistencyProof(m, n, lookup);
          const oldRoot = treeRoot(m, lookup);
          const newRoot = treeRoot(n, lookup);
          expect(verifyConsistency(m, n, proof, oldRoot, newRoot)).toBe(true);
          const rewritten = [...leaves];
          rewritten[m - 1] = leafHash(Buffer.from('rewritten'));
          const forged = storeOf(rewritten);
          expect(
            verifyConsistency(m, n, consistencyProof(m, n, forged.lookup), oldRoot, treeRoot(n, forged.lookup)),
          ).toBe(false);
        },
      ),
    );
  });

  it('refuses proofs outside the tree', () => {
    const { lookup } = storeOf(leavesOf(4));
    expect(() => inclusionPath(4, 4, lookup)).toThrow(RangeError);
    expect(() => consistencyProof(5, 4, lookup)).toThrow(RangeError);
  });
});
