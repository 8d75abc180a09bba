// A small evaluator of Kubernetes NetworkPolicy (networking.k8s.io/v1) for the manifests
// test: may a pod with these labels, in this namespace, open a TCP connection to that pod's
// port? Traffic passes when the source's egress and the destination's ingress both allow it;
// a pod that no policy of a direction selects is open in that direction. It handles what the
// manifests use (matchLabels, namespaceSelector with matchLabels, numeric TCP ports) and
// refuses the rest (matchExpressions, ipBlock, named ports), so a policy it cannot read fails
// the test instead of being misjudged.

export interface Pod {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: unknown[];
}

interface Peer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: unknown;
}

interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: { protocol?: string; port?: number | string; endPort?: number }[];
}

export interface NetworkPolicy {
  metadata: { name: string; namespace?: string };
  spec: {
    podSelector: LabelSelector;
    policyTypes?: ('Ingress' | 'Egress')[];
    ingress?: Rule[];
    egress?: Rule[];
  };
}

function selects(selector: LabelSelector | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (selector === undefined) return true;
  if (selector.matchExpressions !== undefined) throw new Error('matchExpressions: not understood by this evaluator');
  return Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
}

/** Namespaces carry the label kubernetes.io/metadata.name, as the API server sets it. */
const namespaceLabels = (namespace: string) => ({ 'kubernetes.io/metadata.name': namespace });

function peerMatches(peer: Peer, policyNamespace: string, other: Pod): boolean {
  if (peer.ipBlock !== undefined) throw new Error('ipBlock: not understood by this evaluator');
  const namespaceOk =
    peer.namespaceSelector === undefined
      ? other.namespace === policyNamespace
      : selects(peer.namespaceSelector, namespaceLabels(other.namespace));
  return namespaceOk && selects(peer.podSelector, other.labels);
}

function portMatches(rule: Rule, port: number): boolean {
  if (rule.ports === undefined || rule.ports.length === 0) return true;
  return rule.ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== 'TCP') return false;
    if (p.port === undefined) return true;
    if (typeof p.port !== 'number') throw new Error(`named port ${p.port}: not understood by this evaluator`);
    return p.endPort === undefined ? p.port === port : port >= p.port && port <= p.endPort;
  });
}

function types(policy: NetworkPolicy): ('Ingress' | 'Egress')[] {
  return policy.spec.policyTypes ?? (policy.spec.egress ? ['Ingress', 'Egress'] : ['Ingress']);
}

function allowedOneWay(
  policies: readonly NetworkPolicy[],
  direction: 'Ingress' | 'Egress',
  subject: Pod,
  other: Pod,
  port: number,
): boolean {
  const applying = policies.filter(
    (p) =>
      (p.metadata.namespace ?? '') === subject.namespace &&
      types(p).includes(direction) &&
      selects(p.spec.podSelector, subject.labels),
  );
  if (applying.length === 0) return true;
  return applying.some((policy) => {
    const rules = (direction === 'Ingress' ? policy.spec.ingress : policy.spec.egress) ?? [];
    return rules.some((rule) => {
      const peers = direction === 'Ingress' ? rule.from : rule.to;
      const peerOk =
        peers === undefined || peers.length === 0 || peers.some((peer) => peerMatches(peer, subject.namespace, other));
      return peerOk && portMatches(rule, port);
    });
  });
}

/** Whether the policies that select `from` let it open a connection to `to` on TCP `port`. */
export const egressAllowed = (policies: readonly NetworkPolicy[], from: Pod, to: Pod, port: number): boolean =>
  allowedOneWay(policies, 'Egress', from, to, port);

/** Whether the policies that select `to` let `from` in on TCP `port`. */
export const ingressAllowed = (policies: readonly NetworkPolicy[], from: Pod, to: Pod, port: number): boolean =>
  allowedOneWay(policies, 'Ingress', to, from, port);

/** Whether `from` may connect to `to` on TCP `port` under these policies: both ends must allow it. */
export const allowed = (policies: readonly NetworkPolicy[], from: Pod, to: Pod, port: number): boolean =>
  egressAllowed(policies, from, to, port) && ingressAllowed(policies, from, to, port);
