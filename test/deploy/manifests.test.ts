import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { TokenVerifier, issuerFromEnv } from '@passage/auth';
import { keyRingFromEnv } from '@passage/crypto';
import { writeDevSecrets } from '../../scripts/k8s-dev-secrets.ts';
import { allowed, egressAllowed, ingressAllowed, type NetworkPolicy, type Pod } from './network-policy.ts';

// The Kubernetes manifests (deploy/k8s) as `kubectl kustomize` renders the dev and prod
// overlays, and the laptop's deploy/compose.yaml: every built-in object validated against the
// Kubernetes schemas (kubernetes-models; cert-manager's with @kubernetes-models/cert-manager),
// CloudNativePG's by hand, and the rules of issue 15 checked on what would be applied.

/* eslint-disable @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-return --
   rendered YAML of a dozen kinds, read field by field: each field read is what an assertion checks */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
type Obj = any;

const root = fileURLToPath(new URL('../../', import.meta.url));
const services = ['directory', 'consent', 'referrals', 'audit', 'escalation', 'gateway'] as const;
const grpcPort: Record<string, number> = {
  directory: 50051,
  consent: 50052,
  referrals: 50053,
  audit: 50054,
  escalation: 50055,
};

let workdir = '';
const rendered: Record<'dev' | 'prod', Obj[]> = { dev: [], prod: [] };

function render(overlay: string): Obj[] {
  const text = execFileSync('kubectl', ['kustomize', overlay], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const documents = parseAllDocuments(text);
  const objects = (Array.isArray(documents) ? documents : [documents]).map((d) => {
    if (d.errors.length > 0) throw new Error(`${overlay}: ${d.errors[0]!.message}`);
    return d.toJS();
  });
  return objects.filter((o) => o !== null);
}

beforeAll(() => {
  // The dev overlay generates its Secrets from files that scripts/k8s-dev-secrets.ts writes and
  // git ignores: render a copy of deploy/ with fresh ones, leaving the work tree alone.
  workdir = mkdtempSync(join(tmpdir(), 'passage-k8s-'));
  for (const part of ['deploy/k8s', 'deploy/nats']) cpSync(join(root, part), join(workdir, part), { recursive: true });
  rmSync(join(workdir, 'deploy/k8s/overlays/dev/secrets'), { recursive: true, force: true });
  writeDevSecrets(join(workdir, 'deploy/k8s/overlays/dev/secrets'));
  rendered.dev = render(join(workdir, 'deploy/k8s/overlays/dev'));
  rendered.prod = render(join(workdir, 'deploy/k8s/overlays/prod'));
}, 60_000);

afterAll(() => {
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

const ofKind = (objects: Obj[], kind: string): Obj[] => objects.filter((o) => o.kind === kind);
const named = (objects: Obj[], kind: string, name: string): Obj => {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
};
const nonEmpty = <T>(list: T[], what: string): T[] => {
  expect(list.length, `${what}: none rendered`).toBeGreaterThan(0);
  return list;
};
const workloads = (objects: Obj[]): Obj[] =>
  objects.filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind));
const containersOf = (workload: Obj): Obj[] => [
  ...(workload.spec.template.spec.initContainers ?? []),
  ...workload.spec.template.spec.containers,
];
const matches = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

/** The model class of a built-in or cert-manager kind, or undefined for another CRD. */
async function modelFor(
  apiVersion: string,
  kind: string,
): Promise<(new (data: Obj) => { validate(): void }) | undefined> {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const module =
    group === 'cert-manager.io'
      ? `@kubernetes-models/cert-manager/cert-manager.io/${version}/${kind}`
      : group === ''
        ? `kubernetes-models/${version}/${kind}`
        : /\.k8s\.io$|^(apps|batch|policy|autoscaling)$/.test(group!)
          ? `kubernetes-models/${group}/${version}/${kind}`
          : undefined;
  if (!module) return undefined;
  const loaded = (await import(module)) as Record<string, new (data: Obj) => { validate(): void }>;
  return loaded[kind];
}

describe.each(['dev', 'prod'] as const)('the %s overlay', (overlay) => {
  const objects = () => rendered[overlay];

  it('renders with kubectl kustomize, every object in the passage namespace', () => {
    const all = nonEmpty(objects(), 'objects');
    for (const o of all.filter((o) => o.kind !== 'Namespace'))
      expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBe('passage');
  });

  it('validates every built-in and cert-manager object against its schema (kubernetes-models; unknown field names are not caught)', async () => {
    let validated = 0;
    for (const o of objects()) {
      const Model = await modelFor(o.apiVersion, o.kind);
      if (!Model) continue;
      // kustomize folds long base64 values over lines, which the API server's decoder ignores
      // and the schema's "byte" format does not.
      if (o.kind === 'Secret')
        for (const key of Object.keys(o.data ?? {})) o.data[key] = String(o.data[key]).replace(/\s/g, '');
      expect(() => new Model(o).validate(), `${o.kind} ${o.metadata.name}`).not.toThrow();
      validated++;
    }
    expect(validated).toBeGreaterThan(40);
  });

  it('checks the CloudNativePG objects by hand (no schema package): Cluster, and in prod ObjectStore and ScheduledBackup', () => {
    const others = objects().filter((o) => !/cert-manager\.io|^v1$|k8s\.io|^(apps|batch|policy)\//.test(o.apiVersion));
    expect(new Set(others.map((o) => `${o.apiVersion} ${o.kind}`))).toEqual(
      new Set(
        overlay === 'prod'
          ? [
              'postgresql.cnpg.io/v1 Cluster',
              'postgresql.cnpg.io/v1 ScheduledBackup',
              'barmancloud.cnpg.io/v1 ObjectStore',
            ]
          : ['postgresql.cnpg.io/v1 Cluster'],
      ),
    );
    const cluster = named(objects(), 'Cluster', 'passage-db');
    expect(Number.isInteger(cluster.spec.instances) && cluster.spec.instances >= 1).toBe(true);
    expect(cluster.spec.storage.size).toMatch(/^\d+[GM]i$/);
    expect(cluster.spec.bootstrap.initdb).toMatchObject({ database: 'passage', owner: 'passage_admin' });
    expect(cluster.spec.enableSuperuserAccess).toBe(false);
    // TLS only: the server certificate from cert-manager, and no connection without TLS.
    expect(cluster.spec.certificates.serverTLSSecret).toBe('passage-db-server-tls');
    expect(cluster.spec.certificates.serverCASecret).toBe('passage-db-server-tls');
    expect(cluster.spec.postgresql.pg_hba[0]).toBe('hostnossl all all all reject');
    // Each service logs in as its own role.
    const roles = cluster.spec.managed.roles as Obj[];
    for (const service of services) {
      const role = roles.find((r) => r.name === `passage_${service}`);
      expect(role, service).toMatchObject({ login: true, passwordSecret: { name: `passage-${service}-db` } });
      expect(role.superuser ?? false).toBe(false);
      expect(role.createrole ?? false).toBe(false);
    }
    if (overlay === 'prod') {
      expect(cluster.spec.postgresql.synchronous).toMatchObject({ method: 'any', number: 1 });
      const store = named(objects(), 'ObjectStore', 'passage-backups');
      expect(store.spec.configuration.destinationPath).toMatch(/^s3:\/\//);
      expect(store.spec.configuration.s3Credentials.accessKeyId.name).toBe('passage-backup-s3');
      const backup = named(objects(), 'ScheduledBackup', 'passage-db-nightly');
      expect(backup.spec.schedule.split(' ')).toHaveLength(6);
      expect(backup.spec).toMatchObject({ cluster: { name: 'passage-db' }, method: 'plugin' });
    }
  });

  it('gives every Deployment readiness and liveness probes on a port its container has, resources, and the restricted security context', () => {
    const deployments = nonEmpty(ofKind(objects(), 'Deployment'), 'Deployments');
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual([...services].sort());
    for (const d of deployments) {
      const pod = d.spec.template.spec;
      const where = `Deployment ${d.metadata.name}`;
      expect(pod.automountServiceAccountToken, where).toBe(false);
      expect(pod.securityContext, where).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      for (const c of containersOf(d)) {
        const ports = (c.ports ?? []) as Obj[];
        for (const probe of ['readinessProbe', 'livenessProbe'] as const) {
          const port = c[probe]?.httpGet?.port;
          expect(port, `${where} ${probe}`).toBeDefined();
          expect(
            ports.some((p) => p.name === port || p.containerPort === port),
            `${where}: ${probe} port ${port}`,
          ).toBe(true);
        }
        expect(c.readinessProbe.httpGet.path).toBe('/readyz');
        expect(c.livenessProbe.httpGet.path).toBe('/livez');
        const health = ports.find((p) => p.name === 'health');
        const env = configOf(objects(), c);
        expect(String(health?.containerPort), `${where}: HEALTH_PORT`).toBe(env['HEALTH_PORT']);
        for (const kind of ['requests', 'limits'] as const)
          for (const resource of ['cpu', 'memory'])
            expect(c.resources?.[kind]?.[resource], `${where} ${kind}.${resource}`).toBeDefined();
        expectRestricted(c.securityContext, where);
      }
    }
  });

  it('gives every workload (services, NATS, the migration Job) the restricted security context and a pinned image', () => {
    for (const w of nonEmpty(workloads(objects()), 'workloads')) {
      const where = `${w.kind} ${w.metadata.name}`;
      expect(w.spec.template.spec.automountServiceAccountToken, where).toBe(false);
      for (const c of containersOf(w)) {
        expectRestricted(c.securityContext, where);
        // A tag, and not latest (no digest-only references here either).
        expect(c.image, where).toMatch(/^[a-z0-9./-]+:[A-Za-z0-9._-]+$/);
        expect(c.image.split(':').pop(), where).not.toBe('latest');
      }
    }
  });

  it('covers every Deployment with a PodDisruptionBudget and a Service that select its pods', () => {
    for (const d of nonEmpty(ofKind(objects(), 'Deployment'), 'Deployments')) {
      const labels = d.spec.template.metadata.labels as Record<string, string>;
      const pdbs = ofKind(objects(), 'PodDisruptionBudget').filter((p) => matches(p.spec.selector.matchLabels, labels));
      expect(pdbs, `PDB for ${d.metadata.name}`).toHaveLength(1);
      if (overlay === 'prod') expect(pdbs[0].spec.maxUnavailable).toBeLessThan(d.spec.replicas);
      const svcs = ofKind(objects(), 'Service').filter((s) => s.spec.selector && matches(s.spec.selector, labels));
      expect(svcs, `Service for ${d.metadata.name}`).toHaveLength(1);
      const containerPorts = d.spec.template.spec.containers[0].ports.map((p: Obj) => p.name);
      for (const p of svcs[0].spec.ports) expect(containerPorts).toContain(p.targetPort);
    }
  });

  it('points every *_FILE setting at a file that a volume of that container mounts, and runs each service from its own main', () => {
    for (const d of nonEmpty(ofKind(objects(), 'Deployment'), 'Deployments')) {
      const c = d.spec.template.spec.containers[0];
      const env = configOf(objects(), c);
      const files = Object.entries(env).filter(([k]) => k.endsWith('_FILE'));
      expect(files.length, d.metadata.name).toBeGreaterThan(0);
      const mounts = (c.volumeMounts as Obj[]).map((m) => m.mountPath as string);
      for (const [name, path] of files)
        expect(
          mounts.some((m) => path.startsWith(`${m}/`)),
          `${d.metadata.name} ${name}=${path}`,
        ).toBe(true);
      const main = `services/${d.metadata.name}/src/main.ts`;
      expect(c.command).toContain(main);
      expect(existsSync(join(root, main))).toBe(true);
      expect(env['PASSAGE_ENV']).toBe('production');
    }
  });

  it('refers only to Secrets that exist: from cert-manager, generated in dev, listed as created out of band in docs/operations.md in prod', () => {
    const fromCertManager = new Set(ofKind(objects(), 'Certificate').map((c) => c.spec.secretName as string));
    const present = new Set(ofKind(objects(), 'Secret').map((s) => s.metadata.name as string));
    const documented = documentedSecrets();
    const referenced = secretReferences(objects());
    expect(referenced.size).toBeGreaterThan(20);
    for (const [name, keys] of referenced) {
      if (fromCertManager.has(name)) continue;
      if (overlay === 'dev') {
        expect(present.has(name), `Secret ${name}`).toBe(true);
        const secret = named(objects(), 'Secret', name);
        for (const key of keys) expect(Object.keys(secret.data ?? {}), `${name}: key ${key}`).toContain(key);
      } else {
        expect(documented.has(name), `Secret ${name} in docs/operations.md ("Secrets")`).toBe(true);
      }
    }
    if (overlay === 'prod') expect(present.size, 'prod generates no Secret').toBe(0);
  });

  it('runs NATS as a three-server JetStream cluster with TLS, and every stream with three replicas', () => {
    const nats = named(objects(), 'StatefulSet', 'nats');
    expect(nats.spec.replicas).toBe(3);
    expect(nats.spec.template.spec.containers[0].image).toBe('nats:2.9.10-alpine');
    expect(nats.spec.volumeClaimTemplates[0].metadata.name).toBe('data');
    expect(ofKind(objects(), 'PodDisruptionBudget').some((p) => p.metadata.name === 'nats')).toBe(true);
    const common = configMap(objects(), 'passage-common');
    expect(common['PASSAGE_STREAM_REPLICAS']).toBe('3');
    expect(common['NATS_URL']!.split(',')).toEqual([0, 1, 2].map((i) => `tls://nats-${i}.nats:4222`));
    const config = ofKind(objects(), 'ConfigMap').find((m) => m.metadata.name.startsWith('nats-config'));
    expect(config.data['nats.conf']).toMatch(/^\s*tls\s*\{/m);
    expect(config.data['nats.conf']).toMatch(/include \.\/authorization\.conf/);
  });

  it('allows exactly the traffic each service needs, and nothing else (NetworkPolicies)', () => {
    const policies = nonEmpty(ofKind(objects(), 'NetworkPolicy'), 'NetworkPolicies') as NetworkPolicy[];
    const defaultDeny = policies.find(
      (p) => Object.keys(p.spec.podSelector).length === 0 && !p.spec.ingress && !p.spec.egress,
    );
    expect(defaultDeny?.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    // Each end on its own, too: an egress rule wider than the other end's ingress is a fault.
    const matrix = (check: typeof allowed, mine: (from: Endpoint, to: Endpoint) => boolean) => {
      const found = new Set<string>();
      for (const from of endpoints)
        for (const to of endpoints)
          if (mine(from, to))
            for (const port of to.ports)
              if (check(policies, from.pod, to.pod, port)) found.add(`${from.name} -> ${to.name}:${port}`);
      return [...found].sort();
    };
    const ours = (e: Endpoint) => e.pod.namespace === 'passage';
    const expected = (mine: (from: string, to: string) => boolean) =>
      [...expectedTraffic].filter((t) => mine(...(t.split(/ -> |:/) as [string, string]))).sort();
    const endpoint = (name: string) => endpoints.find((e) => e.name === name)!;
    expect(matrix(allowed, (f, t) => ours(f) || ours(t))).toEqual(expected(() => true));
    expect(matrix(egressAllowed, (f) => ours(f))).toEqual(expected((f) => ours(endpoint(f))));
    expect(matrix(ingressAllowed, (_, t) => ours(t))).toEqual(expected((_, t) => ours(endpoint(t))));
    // Spelled out, for the reader: no service reaches another it does not call.
    const pod = (name: string) => endpoints.find((e) => e.name === name)!.pod;
    expect(allowed(policies, pod('directory'), pod('referrals'), 50053)).toBe(false);
    expect(allowed(policies, pod('referrals'), pod('escalation'), 50055)).toBe(false);
    expect(allowed(policies, pod('outside'), pod('referrals'), 50053)).toBe(false);
    expect(allowed(policies, pod('ingress-controller'), pod('gateway'), 8080)).toBe(true);
  });
});

describe('the overlays differ where they should', () => {
  it('prod: three Postgres instances with backups, at least two replicas of every service, three NATS servers', () => {
    const cluster = named(rendered.prod, 'Cluster', 'passage-db');
    expect(cluster.spec.instances).toBe(3);
    expect(cluster.spec.plugins).toEqual([
      {
        name: 'barman-cloud.cloudnative-pg.io',
        isWALArchiver: true,
        parameters: { barmanObjectName: 'passage-backups' },
      },
    ]);
    for (const d of ofKind(rendered.prod, 'Deployment'))
      expect(d.spec.replicas, d.metadata.name).toBeGreaterThanOrEqual(2);
  });

  it('dev: one replica of each service, one Postgres instance without a synchronous standby, still production mode', () => {
    for (const d of nonEmpty(ofKind(rendered.dev, 'Deployment'), 'Deployments')) expect(d.spec.replicas).toBe(1);
    const cluster = named(rendered.dev, 'Cluster', 'passage-db');
    expect(cluster.spec.instances).toBe(1);
    expect(cluster.spec.postgresql.synchronous).toBeUndefined();
    expect(configMap(rendered.dev, 'passage-common')['PASSAGE_ENV']).toBe('production');
  });

  it('dev: the generated keys are ones the services accept outside development (tokens verify, the KEK parses)', () => {
    const secret = (name: string, key: string) =>
      Buffer.from(named(rendered.dev, 'Secret', name).data[key], 'base64').toString('utf8');
    const verifier = TokenVerifier.fromSetting(secret('passage-auth-public-keys', 'AUTH_PUBLIC_KEYS'));
    for (const signer of ['gateway', 'escalation']) {
      const issuer = issuerFromEnv({
        SERVICE_TOKEN_KEY: secret(`passage-${signer}-keys`, 'SERVICE_TOKEN_KEY'),
        PASSAGE_ENV: 'production',
      });
      const token = issuer.issue({ userId: 'u-1', agencyId: 'agency-1', roles: ['system'] });
      expect(verifier.verify(token).userId).toBe('u-1');
    }
    for (const service of ['consent', 'referrals'])
      expect(() =>
        keyRingFromEnv({ PASSAGE_KEK: secret(`passage-${service}-keys`, 'PASSAGE_KEK'), PASSAGE_ENV: 'production' }),
      ).not.toThrow();
    const url = new URL(secret('passage-referrals-db', 'url'));
    expect(url.username).toBe('passage_referrals');
    expect(url.searchParams.get('sslmode')).toBe('verify-full');
    expect(url.password).toBe(secret('passage-referrals-db', 'password'));
  });
});

describe('deploy/compose.yaml', () => {
  const compose = parse(readFileSync(join(root, 'deploy/compose.yaml'), 'utf8'), { merge: true });
  const all = Object.entries(compose.services as Record<string, Obj>);
  const network = all.filter(([, s]) => !s.profiles);

  it('runs the whole network: Postgres, NATS, the migration and the six services', () => {
    expect(network.map(([name]) => name).sort()).toEqual(['migrate', 'nats', 'postgres', ...services].sort());
  });

  it('gives every long-running service a healthcheck and a restart policy, and waits on healthy dependencies', () => {
    for (const [name, s] of nonEmpty(all, 'compose services')) {
      expect(s.restart, name).toMatch(/^(unless-stopped|always|on-failure)$/);
      if (name === 'migrate') continue;
      expect(s.healthcheck?.test, `${name} healthcheck`).toBeDefined();
      for (const [dependency, condition] of Object.entries((s.depends_on ?? {}) as Record<string, Obj>))
        expect(condition.condition, `${name} -> ${dependency}`).toBe(
          dependency === 'migrate' ? 'service_completed_successfully' : 'service_healthy',
        );
    }
    for (const service of services) {
      expect(compose.services[service].depends_on.migrate.condition).toBe('service_completed_successfully');
      expect(JSON.stringify(compose.services[service].healthcheck.test)).toContain('/readyz');
    }
    expect(compose.services.migrate.depends_on.postgres.condition).toBe('service_healthy');
  });

  it('pins NATS to the version CI runs and Postgres to a minor release, and trusts no login outside the laptop profile', () => {
    for (const [name, s] of all.filter(([, s]) => s.image?.startsWith('nats:')))
      expect(s.image, name).toBe('nats:2.9.10-alpine');
    for (const [name, s] of all.filter(([, s]) => s.image?.startsWith('postgres:')))
      expect(s.image, name).toMatch(/^postgres:\d+\.\d+/);
    const trusting = all.filter(([, s]) => JSON.stringify(s.environment ?? {}).includes('trust'));
    expect(trusting.map(([name]) => name)).toEqual(['postgres-laptop']);
    for (const [, s] of trusting) expect(s.profiles).toEqual(['laptop']);
    for (const [name, s] of network) expect(JSON.stringify(s.ports ?? []), name).not.toMatch(/"\d+:\d+"|0\.0\.0\.0/);
  });
});

// ---- what the rules above read --------------------------------------------------------

function expectRestricted(context: Obj, where: string): void {
  expect(context, where).toMatchObject({
    runAsNonRoot: true,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  });
  expect(Number.isInteger(context.runAsUser) && context.runAsUser > 0, `${where}: numeric runAsUser`).toBe(true);
}

function configMap(objects: Obj[], name: string): Record<string, string> {
  const found = ofKind(objects, 'ConfigMap').find(
    (m) => m.metadata.name === name || m.metadata.name.startsWith(`${name}-`),
  );
  if (!found) throw new Error(`no ConfigMap ${name}`);
  return found.data as Record<string, string>;
}

/** A container's settings from its ConfigMaps (envFrom) and env values, later ones winning. */
function configOf(objects: Obj[], container: Obj): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const data = ofKind(objects, 'ConfigMap').find((m) => m.metadata.name === source.configMapRef?.name)?.data;
    expect(data, `ConfigMap ${source.configMapRef?.name}`).toBeDefined();
    Object.assign(env, data);
  }
  for (const e of container.env ?? []) if (typeof e.value === 'string') env[e.name] = e.value;
  return env;
}

/** Every Secret the objects name, with the keys they read from it. */
function secretReferences(objects: Obj[]): Map<string, Set<string>> {
  const refs = new Map<string, Set<string>>();
  const add = (name: string, key?: string) => {
    const keys = refs.get(name) ?? new Set<string>();
    if (key) keys.add(key);
    refs.set(name, keys);
  };
  for (const w of workloads(objects)) {
    for (const v of w.spec.template.spec.volumes ?? [])
      if (v.secret) {
        add(v.secret.secretName);
        for (const item of v.secret.items ?? []) add(v.secret.secretName, item.key);
      }
    for (const c of containersOf(w)) {
      for (const e of c.env ?? [])
        if (e.valueFrom?.secretKeyRef) add(e.valueFrom.secretKeyRef.name, e.valueFrom.secretKeyRef.key);
      for (const e of c.envFrom ?? []) if (e.secretRef) add(e.secretRef.name);
    }
  }
  for (const cluster of ofKind(objects, 'Cluster')) {
    add(cluster.spec.bootstrap.initdb.secret.name, 'password');
    for (const role of cluster.spec.managed?.roles ?? []) add(role.passwordSecret.name, 'password');
    for (const name of Object.values(cluster.spec.certificates ?? {})) add(name as string);
  }
  for (const store of ofKind(objects, 'ObjectStore'))
    for (const credential of Object.values<Obj>(store.spec.configuration.s3Credentials))
      add(credential.name, credential.key);
  for (const issuer of ofKind(objects, 'Issuer')) if (issuer.spec.ca) add(issuer.spec.ca.secretName);
  return refs;
}

/** The Secret names in backticks in docs/operations.md's "Secrets" section. */
function documentedSecrets(): Set<string> {
  const text = readFileSync(join(root, 'docs/operations.md'), 'utf8');
  const section = /^#+ Secrets\n([\s\S]*?)(?=^#+ )/m.exec(text)?.[1] ?? '';
  const names = new Set<string>();
  for (const match of section.matchAll(/`(passage-[a-z0-9<>-]+)`/g)) {
    const name = match[1]!;
    if (name.includes('<service>')) for (const s of services) names.add(name.replace('<service>', s));
    else names.add(name);
  }
  return names;
}

// ---- the traffic the network policies must allow, and only that ------------------------

interface Endpoint {
  readonly name: string;
  readonly pod: Pod;
  readonly ports: readonly number[];
}

const inPassage = (name: string, labels: Record<string, string>, ports: number[]): Endpoint => ({
  name,
  pod: { name, namespace: 'passage', labels: { 'app.kubernetes.io/part-of': 'passage', ...labels } },
  ports,
});

const endpoints: Endpoint[] = [
  ...services.map((s) =>
    inPassage(s, { 'app.kubernetes.io/name': s }, s === 'gateway' ? [8080, 8081, 9464] : [grpcPort[s]!, 8081, 9464]),
  ),
  inPassage('nats', { 'app.kubernetes.io/name': 'nats' }, [4222, 6222, 8222]),
  inPassage('passage-db', { 'cnpg.io/cluster': 'passage-db' }, [5432, 8000]),
  inPassage('migrate', { 'app.kubernetes.io/name': 'migrate' }, []),
  { name: 'dns', pod: { name: 'dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } }, ports: [53] },
  {
    name: 'ingress-controller',
    pod: { name: 'ic', namespace: 'ingress-nginx', labels: { app: 'ingress' } },
    ports: [],
  },
  { name: 'cnpg-operator', pod: { name: 'op', namespace: 'cnpg-system', labels: { app: 'cnpg' } }, ports: [] },
  { name: 'prometheus', pod: { name: 'prom', namespace: 'monitoring', labels: { app: 'prometheus' } }, ports: [] },
  { name: 'outside', pod: { name: 'x', namespace: 'default', labels: { app: 'other' } }, ports: [443] },
];

const calls: Record<string, string[]> = {
  referrals: ['directory', 'consent'],
  escalation: ['referrals', 'directory', 'consent'],
  gateway: ['directory', 'consent', 'referrals', 'audit', 'escalation'],
};

const passagePods = [...services, 'nats', 'passage-db', 'migrate'];
const expectedTraffic = new Set<string>([
  ...passagePods.map((from) => `${from} -> dns:53`),
  ...Object.entries(calls).flatMap(([from, tos]) => tos.map((to) => `${from} -> ${to}:${grpcPort[to]}`)),
  ...services.flatMap((s) => [`${s} -> nats:4222`, `${s} -> passage-db:5432`]),
  'migrate -> passage-db:5432',
  'ingress-controller -> gateway:8080',
  // Prometheus scrapes every service's METRICS_PORT, and reaches nothing else of ours.
  ...services.map((s) => `prometheus -> ${s}:9464`),
  'nats -> nats:6222',
  'passage-db -> passage-db:5432',
  'cnpg-operator -> passage-db:5432',
  'cnpg-operator -> passage-db:8000',
  // The instances reach the Kubernetes API and the backup bucket over HTTPS.
  'passage-db -> outside:443',
]);
