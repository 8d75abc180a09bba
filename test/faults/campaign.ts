// The whole-system fault campaign (`pnpm test:chaos`, and its short form in
// test/faults/chaos.test.ts). On a Postgres and a NATS of its own (never the shared ones),
// it starts the six services as `pnpm start` does, one process each, and plays referrals with
// consent through every ending (closed, declined, withdrawn, consent revoked, escalated) while
// it kills services with SIGKILL, kills NATS and stops Postgres immediately, at random, and
// starts each again. Clients retry with the same idempotency keys. Then it checks what the
// network promised and reports what it measured. Seeded: the journeys and the fault schedule
// follow from CHAOS_SEED (the interleaving of the two does not, it is the machine's).
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { demoUsers, developmentIssuer } from '@passage/auth';
import { consent as cpb, referrals as pb } from '@passage/contracts';
import { ontarioAgencies } from '@passage/directory/seed';
import { Topology, decodeEnvelope } from '@passage/events';
import { bearerMetadata, callUnary, type PassageError } from '@passage/platform';
import { testTls } from '@passage/platform/testing';
import { healthStatus, sparePort } from '@passage/testing';
import { loopbackCluster, singleNode, type Infrastructure } from './infrastructure.ts';

export const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));

export const endings = ['closed', 'declined', 'withdrawn', 'consent_revoked', 'escalated'] as const;
export type Ending = (typeof endings)[number];
const serviceNames = ['directory', 'consent', 'referrals', 'audit', 'escalation', 'gateway'] as const;
type ServiceName = (typeof serviceNames)[number];
/** The single-node campaign's faults: each service killed, NATS killed, Postgres stopped; each restarted. */
export const faultKinds = [...serviceNames, 'nats', 'postgres'] as const;
/** The loopback cluster's: a NATS node lost with its disk, one instance of every service killed, a Postgres failover. */
export const clusterFaultKinds = ['nats-node', 'instances', 'postgres-failover'] as const;
export type FaultKind = (typeof faultKinds)[number] | (typeof clusterFaultKinds)[number];

export interface CampaignOptions {
  readonly referrals: number;
  readonly seed: number;
  /** Journeys in flight at once. */
  readonly concurrency?: number;
  readonly log?: (line: string) => void;
  /** The loopback cluster (three NATS nodes, a Postgres standby, two instances of each service) instead of one of each. */
  readonly cluster?: boolean;
}

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface FaultRecord {
  readonly kind: FaultKind;
  /** What was done, when more than the kind says. */
  readonly detail?: string;
  /** How long the campaign kept it down. */
  readonly downMs: number;
  /** From the restart until every service answered SERVING and a read through the whole path succeeded. */
  readonly recoveryMs: number | undefined;
}

export interface CampaignReport {
  readonly cluster: boolean;
  readonly seed: number;
  readonly referrals: number;
  readonly concurrency: number;
  readonly endings: Record<Ending, number>;
  readonly faults: readonly FaultRecord[];
  readonly unexpectedExits: readonly string[];
  readonly retries: number;
  readonly calls: number;
  readonly durationMs: number;
  readonly checks: readonly Check[];
}

/** mulberry32: small, seeded, good enough to choose. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

function shuffled<T>(random: () => number, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The campaign's own clock: how faults are spaced, and a client's pause between retries. */
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface JourneyPlan {
  readonly index: number;
  readonly ending: Ending;
  readonly sender: 'crisis-counsellor' | 'peel-officer';
  readonly recipient: 'london-intake' | 'pact-intake';
  /** For `withdrawn`: acknowledged before the sender withdraws it. */
  readonly acknowledgeFirst: boolean;
}

/** The journeys follow from the seed alone: each ending in turn, the rest at random. */
export function planJourneys(seed: number, count: number): JourneyPlan[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, index) => ({
    index,
    ending: endings[index % endings.length]!,
    sender: pick(random, ['crisis-counsellor', 'peel-officer'] as const),
    recipient: pick(random, ['london-intake', 'pact-intake'] as const),
    acknowledgeFirst: random() < 0.5,
  }));
}

/**
 * The fault schedule follows from the seed alone: every kind once per round, in a shuffled
 * order; round after round, or (`rounds`) only so many.
 */
export function* faultSchedule(
  seed: number,
  kinds: readonly FaultKind[] = faultKinds,
  rounds = Infinity,
): Generator<{ kind: FaultKind; downMs: number; gapMs: number }> {
  const random = seededRandom(seed ^ 0x5bd1e995);
  for (let round = 0; round < rounds; round++) {
    for (const kind of shuffled(random, kinds)) {
      yield { kind, downMs: Math.round(200 + random() * 2800), gapMs: Math.round(500 + random() * 3500) };
    }
  }
}

const retryable = new Set(['unavailable', 'internal', 'aborted', 'resource_exhausted']);

interface Journey {
  readonly plan: JourneyPlan;
  subjectRef?: string;
  consentId?: string;
  referralId?: string;
  /** The referral as a client was last told it is (a successful answer). */
  acked?: { state: string; version: number };
  /** What the referral should be at the end, given every acknowledged write. */
  expected?: { state: string; version: number; escalated: boolean; events: string[] };
  revokeAcked?: boolean;
  failure?: string;
  /** A person's pause between two steps. */
  think?: () => Promise<unknown>;
}

const stateName = (state: pb.State): string =>
  (Object.entries(pb.State).find(([, value]) => value === state)?.[0] ?? String(state))
    .replace('STATE_', '')
    .toLowerCase();

class Service {
  child: ChildProcess | undefined;
  #expectExit = false;
  #restartTimer: NodeJS.Timeout | undefined;
  readonly name: ServiceName;
  readonly port: number;
  readonly env: Record<string, string>;
  readonly logFile: string;
  readonly onUnexpectedExit: (service: Service, how: string) => void;

  constructor(
    name: ServiceName,
    port: number,
    env: Record<string, string>,
    logFile: string,
    onUnexpectedExit: (service: Service, how: string) => void,
  ) {
    this.name = name;
    this.port = port;
    this.env = env;
    this.logFile = logFile;
    this.onUnexpectedExit = onUnexpectedExit;
  }

  /** Killed or stopped on purpose, and not started since. */
  get down(): boolean {
    return this.#expectExit;
  }

  start(): void {
    this.#expectExit = false;
    const out = openSync(this.logFile, 'a');
    const child = spawn(process.execPath, ['--import', '@passage/platform/instrument', 'src/main.ts'], {
      cwd: join(repositoryRoot, 'services', this.name),
      env: this.env,
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    this.child = child;
    child.once('exit', (code, signal) => {
      if (this.#expectExit || this.child !== child) return;
      // Supervised as `pnpm start` does: recorded, and started again.
      this.onUnexpectedExit(this, String(signal ?? code));
      this.#restartTimer = setTimeout(() => this.start(), 1_000);
    });
  }

  /** SIGKILL: no goodbye, as a crashed machine. */
  async kill(): Promise<void> {
    this.#expectExit = true;
    clearTimeout(this.#restartTimer);
    await this.#signal('SIGKILL');
  }

  /** SIGTERM: a graceful stop, at the end of the campaign. */
  async stop(): Promise<void> {
    this.#expectExit = true;
    clearTimeout(this.#restartTimer);
    await this.#signal('SIGTERM');
  }

  async #signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }

  logTail(lines = 3): string {
    try {
      return readFileSync(this.logFile, 'utf8')
        .trimEnd()
        .split('\n')
        .slice(-lines)
        .map((line) => (line.length > 600 ? `${line.slice(0, 600)}…` : line))
        .join('\n');
    } catch {
      return '';
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms))),
  ]);
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${Math.round(timeoutMs / 1000)} s`);
    await pause(everyMs);
  }
}

const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

export async function runCampaign(options: CampaignOptions): Promise<CampaignReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const startedAt = Date.now();
  const plans = planJourneys(options.seed, options.referrals);
  const concurrency = options.concurrency ?? 4;
  const workDir = mkdtempSync(join(tmpdir(), 'passage-chaos-'));
  log(`chaos: seed ${options.seed}, ${options.referrals} referrals, ${concurrency} at a time; logs in ${workDir}`);

  const cluster = options.cluster ?? false;
  const infra: Infrastructure = cluster ? await loopbackCluster() : await singleNode();
  const kinds: readonly FaultKind[] = cluster ? clusterFaultKinds : faultKinds;
  const services = new Map<ServiceName, Service[]>();
  const instances = (name: ServiceName): Service[] => services.get(name) ?? [];
  // Should the campaign itself be stopped (a test timeout, Ctrl-C), its services go with it.
  const orphans = () => {
    for (const service of [...services.values()].flat()) service.child?.kill('SIGKILL');
  };
  process.once('exit', orphans);
  const unexpectedExits: string[] = [];
  let sql: { url: string; pool: pg.Pool } | undefined;
  try {
    /** The campaign's own pool, on the writable Postgres of the moment. */
    const currentPool = (): pg.Pool => {
      const url = infra.primaryUrl();
      if (sql?.url !== url) {
        void sql?.pool.end().catch(() => undefined);
        const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 3_000 });
        pool.on('error', () => undefined);
        sql = { url, pool };
      }
      return sql.pool;
    };
    /** A query of the campaign's own, retried through outages. */
    const query = async <R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> => {
      for (let attempt = 0; ; attempt++) {
        try {
          return (await currentPool().query<R>(text, values)).rows;
        } catch (error) {
          if (attempt > 600) throw error;
          await pause(200);
        }
      }
    };

    const ports = {} as Record<ServiceName, number[]>;
    for (const name of serviceNames) {
      ports[name] = [];
      for (let i = 0; i < infra.instances; i++) ports[name].push(await sparePort());
    }
    /** Where a client reaches a service: its one instance, or all of them (grpc-js tries the next when one fails). */
    const address = (name: ServiceName): string =>
      ports[name].length === 1
        ? `127.0.0.1:${ports[name][0]!}`
        : `ipv4:${ports[name].map((port) => `127.0.0.1:${port}`).join(',')}`;
    const baseEnv: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (value !== undefined && !/^(NATS_NAMESPACE|OTEL_|VITEST|DATABASE_URL|NATS_URL|GRPC_TLS_)/.test(key))
        baseEnv[key] = value;
    }
    const specific: Record<ServiceName, Record<string, string>> = {
      directory: { DIRECTORY_SEED: 'ontario' },
      consent: {},
      referrals: { DIRECTORY_ADDRESS: address('directory'), CONSENT_ADDRESS: address('consent') },
      audit: { AUDIT_CHECKPOINT_SECONDS: '1' },
      escalation: {
        REFERRALS_ADDRESS: address('referrals'),
        DIRECTORY_ADDRESS: address('directory'),
        CONSENT_ADDRESS: address('consent'),
        ESCALATION_POLL_MS: '100',
      },
      gateway: {
        DIRECTORY_ADDRESS: address('directory'),
        CONSENT_ADDRESS: address('consent'),
        REFERRALS_ADDRESS: address('referrals'),
        AUDIT_ADDRESS: address('audit'),
        ESCALATION_ADDRESS: address('escalation'),
        DEMO_USERS: 'on',
        DEMO_PASSWORD: 'passage-demo',
      },
    };
    for (const name of serviceNames) {
      for (const [instance, port] of ports[name].entries()) {
        const env = {
          ...baseEnv,
          ...infra.serviceEnv(name),
          DATABASE_URL: infra.databaseUrl,
          NATS_URL: infra.natsUrl,
          GRPC_HOST: '127.0.0.1',
          // The gateway's gRPC port is unused; give it one nobody else has.
          GRPC_PORT: String(name === 'gateway' ? await sparePort() : port),
          ...(name === 'gateway' ? { HTTP_PORT: String(port) } : {}),
          OTEL_SERVICE_NAME: `passage-${name}`,
          PASSAGE_ENV: 'development',
          LOG_LEVEL: 'warn',
          // Mutual TLS between the services, as pnpm start and a deployment run them.
          ...testTls(name).env,
          ...specific[name],
        };
        const label = infra.instances === 1 ? name : `${name}-${instance}`;
        const service = new Service(name, port, env, join(workDir, `${label}.log`), (s, how) => {
          const line = `${label} exited on its own (${how}) at +${Math.round((Date.now() - startedAt) / 1000)} s`;
          unexpectedExits.push(`${line}; its log ends:\n${s.logTail()}`);
          log(`chaos: ${line}; restarting it`);
        });
        services.set(name, [...instances(name), service]);
        service.start();
      }
    }

    const issuer = developmentIssuer();
    const as = (user: keyof typeof demoUsers) => bearerMetadata(issuer.issue(demoUsers[user]!, 3_600));
    const { clientCredentials } = testTls();
    const consent = new cpb.ConsentServiceClient(address('consent'), clientCredentials);
    const referrals = new pb.ReferralServiceClient(address('referrals'), clientCredentials);
    let calls = 0;
    let retries = 0;
    /** A client call retried, with the same request and so the same idempotency key, until it is answered. */
    const call = async <T>(fn: () => Promise<T>, timeoutMs = 300_000): Promise<T> => {
      const deadline = Date.now() + timeoutMs;
      let delay = 100;
      for (;;) {
        calls++;
        try {
          return await fn();
        } catch (error) {
          const code = (error as PassageError).code;
          if (!retryable.has(code) || Date.now() > deadline) throw error;
          retries++;
          await pause(delay);
          delay = Math.min(delay * 2, 1_000);
        }
      }
    };

    const grant = (plan: JourneyPlan, label: string) => {
      const toAgency = demoUsers[plan.recipient]!.agencyId;
      // The idempotency key rides along for consent services that take one (issue 13, finding 10).
      const request = {
        idempotencyKey: `chaos-${options.seed}-${label}-grant`,
        subjectRef: '',
        method: cpb.CaptureMethod.CAPTURE_METHOD_VERBAL,
        interpreterLanguage: '',
        language: 'en',
        expiresAt: new Date(Date.now() + 30 * 86_400_000),
        scopes: [
          {
            id: '',
            recipientAgencyIds: [toAgency],
            recipientKinds: [],
            purposes: ['referral'],
            categories: ['needs', 'safe_contact'],
            doNotContact: false,
            revokedAt: undefined,
          },
        ],
        receiptName: '',
        notes: '',
      } as cpb.GrantRequest;
      return call(() => callUnary(consent.grant.bind(consent), request, as(plan.sender)));
    };
    const send = (plan: JourneyPlan, label: string, subjectRef: string) =>
      call(() =>
        callUnary(
          referrals.send.bind(referrals),
          {
            idempotencyKey: `chaos-${options.seed}-${label}-send`,
            subjectRef,
            fromAgency: demoUsers[plan.sender]!.agencyId,
            toAgency: demoUsers[plan.recipient]!.agencyId,
            priority: pb.Priority.PRIORITY_STANDARD,
            needs: ['counselling'],
            language: 'en',
            interpreterNeeded: false,
            packet: [
              { category: 'needs', content: `Synthetic chaos ${label}: counselling`, withheld: false },
              { category: 'safe_contact', content: `Synthetic chaos ${label}: call the worker`, withheld: false },
            ],
          },
          as(plan.sender),
        ),
      );

    // Ready: every instance not taken down on purpose answers, and the consent service has learnt the seeded directory.
    const healthy = async (): Promise<boolean> => {
      for (const name of serviceNames) {
        for (const service of instances(name)) {
          if (service.down) continue;
          const at = `127.0.0.1:${service.port}`;
          if (name === 'gateway') {
            const response = await withTimeout(fetch(`http://${at}/api/openapi.json`), 3_000);
            if (response?.status !== 200) return false;
          } else if ((await withTimeout(healthStatus(at, '', clientCredentials), 3_000)) !== 'SERVING') return false;
        }
      }
      return true;
    };
    await waitFor('the network starts', healthy, 180_000);
    await waitFor(
      'consent learns the directory',
      async () =>
        (await query<{ n: number }>('select count(*)::int as n from consent.agencies'))[0]!.n >= ontarioAgencies.length,
      120_000,
    );

    // A canary referral: a read of it goes through referrals, consent, directory and Postgres.
    const canaryPlan: JourneyPlan = {
      index: -1,
      ending: 'closed',
      sender: 'crisis-counsellor',
      recipient: 'london-intake',
      acknowledgeFirst: false,
    };
    const canaryConsent = await grant(canaryPlan, 'canary');
    const canary = (await send(canaryPlan, 'canary', canaryConsent.subjectRef)).referral!;
    const recovered = async (): Promise<boolean> => {
      if (!(await healthy())) return false;
      const read = await withTimeout(
        callUnary(referrals.get.bind(referrals), { referralId: canary.id, purpose: '' }, as('london-intake'), 3_000),
        4_000,
      );
      return read?.packet.some((section) => !section.withheld) ?? false;
    };
    await waitFor('the canary reads', recovered, 60_000);
    log(`chaos: network up after ${Math.round((Date.now() - startedAt) / 1000)} s; faults begin`);

    // The faults, one at a time, until the journeys are done.
    const faults: FaultRecord[] = [];
    let journeysDone = false;
    const faultRandom = seededRandom(options.seed ^ 0x2545f491);
    /** Takes something away; the returned step brings it back. */
    const takeDown = async (kind: FaultKind): Promise<{ restore: () => Promise<void>; detail?: string }> => {
      const server = infra.faults[kind]?.(faultRandom);
      if (server) {
        await server.inject();
        return { restore: () => server.restore(), detail: server.detail() };
      }
      if (kind === 'instances') {
        // One instance of every service, at once: the others must carry the network.
        const victims = serviceNames.map((name) => instances(name)[Math.floor(faultRandom() * infra.instances)]!);
        await Promise.all(victims.map((service) => service.kill()));
        return {
          restore: () => Promise.resolve(victims.forEach((service) => service.start())),
          detail: `killed ${victims.map((service) => `${service.name}:${service.port}`).join(', ')}`,
        };
      }
      const [service] = instances(kind as ServiceName);
      await service!.kill();
      return { restore: () => Promise.resolve(service!.start()) };
    };
    /** The network at full strength again: every instance up and reading, the event history fully replicated. */
    const fullStrength = async (): Promise<boolean> =>
      (await recovered()) && (await infra.redundancyProblems()).length === 0;
    const inject = async (kind: FaultKind, downMs: number): Promise<void> => {
      const { restore, detail } = await takeDown(kind);
      // With a second instance of everything, the network should serve while one is down.
      let servedWhileDownMs: number | undefined;
      if (infra.instances > 1 && kind === 'instances') {
        const downAt = Date.now();
        await waitFor(`serving without the killed instances`, recovered, 120_000, 250).then(
          () => (servedWhileDownMs = Date.now() - downAt),
          (error: unknown) => log(`chaos: ${(error as Error).message}`),
        );
      }
      await pause(downMs);
      const restartedAt = Date.now();
      let recoveryMs: number | undefined;
      try {
        // A server that does not come back at once (its port still held) is tried again.
        await waitFor(`${kind} restarts`, () => restore().then(() => true), 60_000, 500);
        await waitFor(`recovery from ${kind}`, fullStrength, 180_000, 250);
        recoveryMs = Date.now() - restartedAt;
      } catch (error) {
        log(`chaos: ${(error as Error).message}`);
      }
      const described = [
        detail,
        servedWhileDownMs === undefined ? undefined : `served again ${servedWhileDownMs} ms after the kill`,
      ]
        .filter(Boolean)
        .join('; ');
      faults.push({ kind, downMs, recoveryMs, ...(described ? { detail: described } : {}) });
      log(
        `chaos: ${kind}${described ? ` (${described})` : ''} down ${downMs} ms, recovered ${recoveryMs === undefined ? 'NOT' : `${recoveryMs} ms`} after restart`,
      );
    };
    const faultLoop = (async () => {
      // The cluster's faults once each (a failover cannot be undone); one node's, round after round.
      for (const { kind, downMs, gapMs } of faultSchedule(options.seed, kinds, cluster ? 1 : Infinity)) {
        // Every kind of fault at least once, however short the campaign.
        if (journeysDone && faults.length >= kinds.length) return;
        await inject(kind, downMs);
        const until = Date.now() + gapMs;
        while (!journeysDone && Date.now() < until) await pause(Math.min(100, until - Date.now()));
      }
    })();

    // The journeys.
    const journeys: Journey[] = plans.map((plan) => ({ plan }));
    let revokedReads = 0;
    let readsAfterRevocation = 0;
    let readsWithContent = 0;
    const read = async (journey: Journey, user: keyof typeof demoUsers) => {
      const view = await call(() =>
        callUnary(referrals.get.bind(referrals), { referralId: journey.referralId!, purpose: '' }, as(user)),
      );
      const shown = view.packet.filter((section) => !section.withheld && section.content !== '');
      if (journey.revokeAcked) {
        readsAfterRevocation++;
        if (shown.length > 0) revokedReads++;
      } else if (shown.length > 0) readsWithContent++;
      return view;
    };
    const step = async (
      journey: Journey,
      label: string,
      run: (key: string, expectedVersion: number) => Promise<{ referral?: pb.Referral | undefined }>,
    ): Promise<void> => {
      const key = `chaos-${options.seed}-${journey.plan.index}-${label}`;
      const version = journey.acked!.version;
      const { referral } = await call(() => run(key, version));
      journey.acked = { state: stateName(referral!.state), version: referral!.version };
      await journey.think?.();
    };
    const playOne = async (journey: Journey): Promise<void> => {
      const { plan } = journey;
      const label = String(plan.index);
      // A person's pace between steps, from the seed: the journeys overlap the faults.
      const thinking = seededRandom(options.seed + plan.index * 7919);
      const think = () => pause(300 + Math.round(thinking() * 1700));
      journey.think = think;
      const { subjectRef, consentId } = await grant(plan, label);
      journey.subjectRef = subjectRef;
      journey.consentId = consentId;
      const { referral } = await send(plan, label, subjectRef);
      journey.referralId = referral!.id;
      journey.acked = { state: stateName(referral!.state), version: referral!.version };
      await think();
      const id = referral!.id;
      const recipient = plan.recipient;
      const acknowledge = () =>
        step(journey, 'acknowledge', (idempotencyKey, expectedVersion) =>
          callUnary(
            referrals.acknowledge.bind(referrals),
            { idempotencyKey, referralId: id, expectedVersion },
            as(recipient),
          ),
        );
      const accept = () =>
        step(journey, 'accept', (idempotencyKey, expectedVersion) =>
          callUnary(
            referrals.accept.bind(referrals),
            { idempotencyKey, referralId: id, expectedVersion },
            as(recipient),
          ),
        );
      switch (plan.ending) {
        case 'closed': {
          await acknowledge();
          await accept();
          await read(journey, recipient);
          // Part of the request: a retry must send the same one, or its key is refused.
          const contactAt = new Date();
          await step(journey, 'contact', (idempotencyKey, expectedVersion) =>
            callUnary(
              referrals.recordContact.bind(referrals),
              { idempotencyKey, referralId: id, at: contactAt, method: 'phone', expectedVersion },
              as(recipient),
            ),
          );
          await step(journey, 'close', (idempotencyKey, expectedVersion) =>
            callUnary(
              referrals.closeReferral.bind(referrals),
              { idempotencyKey, referralId: id, outcome: 'services_provided', note: '', expectedVersion },
              as(recipient),
            ),
          );
          journey.expected = {
            ...journey.acked,
            escalated: false,
            events: ['sent', 'acknowledged', 'accepted', 'contact_recorded', 'closed'],
          };
          break;
        }
        case 'declined':
          await acknowledge();
          await step(journey, 'decline', (idempotencyKey, expectedVersion) =>
            callUnary(
              referrals.decline.bind(referrals),
              {
                idempotencyKey,
                referralId: id,
                reason: 'no_capacity',
                note: '',
                suggestedAgency: '',
                noteForSender: '',
                expectedVersion,
              },
              as(recipient),
            ),
          );
          journey.expected = { ...journey.acked, escalated: false, events: ['sent', 'acknowledged', 'declined'] };
          break;
        case 'withdrawn':
          if (plan.acknowledgeFirst) await acknowledge();
          await step(journey, 'withdraw', (idempotencyKey, expectedVersion) =>
            callUnary(
              referrals.withdraw.bind(referrals),
              { idempotencyKey, referralId: id, reason: 'person_withdrew', expectedVersion },
              as(plan.sender),
            ),
          );
          journey.expected = {
            ...journey.acked,
            escalated: false,
            events: plan.acknowledgeFirst ? ['sent', 'acknowledged', 'withdrawn'] : ['sent', 'withdrawn'],
          };
          break;
        case 'consent_revoked': {
          await acknowledge();
          await accept();
          await read(journey, recipient);
          const revoke = {
            idempotencyKey: `chaos-${options.seed}-${label}-revoke`,
            consentId,
            scopeIds: [],
            all: true,
            reason: 'person_withdrew',
          } as cpb.RevokeRequest;
          await call(() => callUnary(consent.revoke.bind(consent), revoke, as(plan.sender)));
          journey.revokeAcked = true;
          // The referrals service withdraws it when the revocation reaches it; meanwhile every
          // read must come back without the revoked categories.
          const deadline = Date.now() + 300_000;
          for (;;) {
            const view = await read(journey, recipient);
            if (view.referral!.state === pb.State.STATE_WITHDRAWN) break;
            if (Date.now() > deadline) throw new Error('not withdrawn within 300 s of the revocation');
            await pause(200);
          }
          journey.expected = {
            state: 'withdrawn',
            version: journey.acked.version + 1,
            escalated: false,
            events: ['sent', 'acknowledged', 'accepted', 'withdrawn'],
          };
          break;
        }
        case 'escalated': {
          // The test clock: the referral's timers fall due now instead of at the agency's targets.
          const deadline = Date.now() + 300_000;
          for (;;) {
            await query(
              `update escalation.timers set due_at = now() where referral_id = $1 and state = 'pending' and due_at > now()`,
              [id],
            );
            const timers = await query<{ state: string }>(
              'select state from escalation.timers where referral_id = $1',
              [id],
            );
            if (timers.length === 2 && timers.every((timer) => timer.state !== 'pending')) break;
            if (Date.now() > deadline) throw new Error(`timers not fired within 300 s: ${JSON.stringify(timers)}`);
            await pause(200);
          }
          journey.expected = {
            state: 'sent',
            version: journey.acked.version + 2,
            escalated: true,
            events: ['sent', 'escalated', 'escalated'],
          };
          break;
        }
      }
    };
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < journeys.length) {
          const journey = journeys[next++]!;
          try {
            await playOne(journey);
          } catch (error) {
            journey.failure = `journey ${journey.plan.index} (${journey.plan.ending}): ${(error as Error).message}`;
            log(`chaos: ${journey.failure}`);
          }
          const done = journeys.filter((j) => j.expected || j.failure).length;
          if (done % 10 === 0) log(`chaos: ${done}/${journeys.length} journeys done`);
        }
      }),
    );
    journeysDone = true;
    await faultLoop;
    log(
      `chaos: journeys done after ${Math.round((Date.now() - startedAt) / 1000)} s; waiting for the network to settle`,
    );

    // Settled: outboxes drained, the audit log has every event, no timer left on a finished referral.
    const outboxSchemas = (
      await query<{ schema: string }>(
        `select table_schema as schema from information_schema.tables where table_name = 'outbox' order by 1`,
      )
    ).map((row) => row.schema);
    const parkedSchemas = (
      await query<{ schema: string }>(
        `select table_schema as schema from information_schema.tables where table_name = 'parked_events' order by 1`,
      )
    ).map((row) => row.schema);
    const unpublished = async () => {
      let total = 0;
      for (const schema of outboxSchemas) {
        total += (
          await query<{ n: number }>(`select count(*)::int as n from "${schema}".outbox where published_at is null`)
        )[0]!.n;
      }
      return total;
    };
    const topology = new Topology('');
    const streamEvents = async (): Promise<Map<string, number>> => {
      const seen = new Map<string, number>();
      const nc = await connect(infra.natsAdmin);
      try {
        const jsm = await jetstreamManager(nc);
        for (const { name } of topology.allStreams()) {
          const info = await jsm.streams.info(name).catch(() => undefined);
          if (!info || info.state.messages === 0) continue;
          for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
            const message = await jsm.streams.getMessage(name, { seq }).catch(() => null);
            if (!message) continue;
            const id = decodeEnvelope(message.data).id;
            seen.set(id, (seen.get(id) ?? 0) + 1);
          }
        }
      } finally {
        await nc.close();
      }
      return seen;
    };
    const streamTotal = async (): Promise<number> => {
      const nc = await connect(infra.natsAdmin);
      try {
        const jsm = await jetstreamManager(nc);
        let total = 0;
        for (const { name } of topology.allStreams()) {
          total += (await jsm.streams.info(name).catch(() => undefined))?.state.messages ?? 0;
        }
        return total;
      } finally {
        await nc.close();
      }
    };
    const auditCount = async () => (await query<{ n: number }>('select count(*)::int as n from audit.entries'))[0]!.n;
    const finishedIds = journeys.filter((j) => j.referralId).map((j) => j.referralId!);
    const pendingOnFinished = async () =>
      (
        await query<{ n: number }>(
          `select count(*)::int as n from escalation.timers t join referrals.referrals r on r.id = t.referral_id
           where t.state = 'pending' and t.referral_id = any($1::uuid[])
             and (r.state in ('closed', 'declined', 'withdrawn') or r.escalated)`,
          [finishedIds],
        )
      )[0]!.n;
    let settled = true;
    try {
      await waitFor(
        'the network settles',
        async () => {
          if ((await unpublished()) > 0) return false;
          if ((await pendingOnFinished()) > 0) return false;
          return (await auditCount()) >= (await streamTotal());
        },
        300_000,
        500,
      );
    } catch (error) {
      settled = false;
      log(`chaos: ${(error as Error).message}`);
    }

    // The checks.
    const checks: Check[] = [];
    const check = (name: string, problems: readonly string[], summary: string) =>
      checks.push({
        name,
        ok: problems.length === 0,
        detail: problems.length === 0 ? summary : `${problems.length}: ${problems.slice(0, 10).join('; ')}`,
      });

    check(
      'every journey completed',
      [...journeys.filter((j) => j.failure).map((j) => j.failure!)],
      `${journeys.length} journeys`,
    );
    check('no process exited on its own', unexpectedExits, 'none');
    check('the network settled', settled ? [] : ['see the lines above'], 'outboxes drained, audit caught up');

    const referralRows = await query<{
      id: string;
      subject_ref: string;
      state: string;
      version: number;
      escalated: boolean;
      reason: string;
    }>('select id, subject_ref, state, version, escalated, reason from referrals.referrals');
    const byId = new Map(referralRows.map((row) => [row.id, row]));
    const lost: string[] = [];
    for (const journey of journeys) {
      if (!journey.expected || !journey.referralId) continue;
      const row = byId.get(journey.referralId);
      const want = journey.expected;
      if (!row) lost.push(`referral ${journey.referralId} (journey ${journey.plan.index}) is missing`);
      else if (row.state !== want.state || row.version !== want.version || row.escalated !== want.escalated) {
        lost.push(
          `referral ${row.id} (${journey.plan.ending}) is ${row.state} v${row.version}${row.escalated ? ' escalated' : ''}, ` +
            `acknowledged as ${want.state} v${want.version}${want.escalated ? ' escalated' : ''}`,
        );
      }
    }
    const consentRows = await query<{
      id: string;
      subject_ref: string;
      revoked_at: Date | null;
      scopes: { revokedAt?: string }[];
    }>('select id, subject_ref, revoked_at, scopes from consent.consents');
    const consentById = new Map(consentRows.map((row) => [row.id, row]));
    for (const journey of journeys) {
      if (!journey.consentId) continue;
      const row = consentById.get(journey.consentId);
      if (!row) lost.push(`consent ${journey.consentId} (journey ${journey.plan.index}) is missing`);
      else if (journey.revokeAcked && !row.revoked_at) lost.push(`consent ${row.id} was revoked, and is not`);
    }
    const acknowledgedWrites = journeys.filter((j) => j.expected).length;
    check(
      'every acknowledged write is there in its last acknowledged state',
      lost,
      `${acknowledgedWrites} referrals and their consents`,
    );

    const duplicates: string[] = [];
    const subjects = new Map<string, number>();
    for (const row of referralRows) subjects.set(row.subject_ref, (subjects.get(row.subject_ref) ?? 0) + 1);
    for (const [subject, n] of subjects) if (n > 1) duplicates.push(`${n} referrals for subject ${subject}`);
    const attempted = journeys.filter((j) => j.referralId || j.failure).length + 1; // + the canary
    if (referralRows.length > attempted) duplicates.push(`${referralRows.length} referrals for ${attempted} sends`);
    const consentSubjects = new Map<string, number>();
    for (const row of consentRows)
      consentSubjects.set(row.subject_ref, (consentSubjects.get(row.subject_ref) ?? 0) + 1);
    for (const [subject, n] of consentSubjects) if (n > 1) duplicates.push(`${n} consents for subject ${subject}`);
    const grantsAttempted = journeys.filter((j) => j.consentId || j.failure).length + 1;
    if (consentRows.length > grantsAttempted)
      duplicates.push(`${consentRows.length} consents for ${grantsAttempted} grants`);
    const transitions = await query<{ referral_id: string; event: string; reason: string }>(
      'select referral_id, event, reason from referrals.transitions order by seq',
    );
    const timeline = new Map<string, { event: string; reason: string }[]>();
    for (const row of transitions) {
      const list = timeline.get(row.referral_id) ?? [];
      list.push(row);
      timeline.set(row.referral_id, list);
    }
    for (const journey of journeys) {
      if (!journey.expected || !journey.referralId) continue;
      const events = (timeline.get(journey.referralId) ?? []).map((t) => t.event);
      const want = journey.expected.events;
      const sameEvents = [...events].sort().join() === [...want].sort().join();
      if (!sameEvents || events[0] !== 'sent') {
        duplicates.push(
          `referral ${journey.referralId} (${journey.plan.ending}) has transitions ${events.join(',')}, expected ${want.join(',')}`,
        );
      }
    }
    for (const row of referralRows) {
      const n = timeline.get(row.id)?.length ?? 0;
      if (n !== row.version) duplicates.push(`referral ${row.id} is at version ${row.version} with ${n} transitions`);
    }
    check(
      'no duplicate referral, consent or transition',
      duplicates,
      `${referralRows.length} referrals, ${consentRows.length} consents, ${transitions.length} transitions`,
    );

    const inStream = await streamEvents();
    const outboxIds: string[] = [];
    for (const schema of outboxSchemas) {
      for (const row of await query<{ id: string }>(`select id from "${schema}".outbox`)) outboxIds.push(row.id);
    }
    const auditIds = new Map<string, number>();
    for (const row of await query<{ event_id: string }>('select event_id from audit.entries')) {
      auditIds.set(row.event_id, (auditIds.get(row.event_id) ?? 0) + 1);
    }
    const eventProblems: string[] = [];
    for (const [id, n] of inStream) if (n > 1) eventProblems.push(`event ${id} is ${n} times in JetStream`);
    for (const id of outboxIds)
      if (!inStream.has(id)) eventProblems.push(`event ${id} was published and is not in JetStream`);
    for (const id of inStream.keys()) {
      const n = auditIds.get(id) ?? 0;
      if (n !== 1) eventProblems.push(`event ${id} is ${n} times in the audit log`);
    }
    for (const id of auditIds.keys())
      if (!inStream.has(id)) eventProblems.push(`audit entry for event ${id} that is not in JetStream`);
    check(
      'each event once in JetStream and once in the audit log',
      inStream.size === 0 ? ['no event in JetStream'] : eventProblems,
      `${inStream.size} events, ${outboxIds.length} from the outboxes, ${auditIds.size} audit entries`,
    );

    const backlog: string[] = [];
    for (const schema of outboxSchemas) {
      const n = (
        await query<{ n: number }>(`select count(*)::int as n from "${schema}".outbox where published_at is null`)
      )[0]!.n;
      if (n > 0) backlog.push(`${n} unpublished in ${schema}.outbox`);
    }
    for (const schema of parkedSchemas) {
      const rows = await query<{ error: string }>(`select error from "${schema}".parked_events`);
      if (rows.length > 0) backlog.push(`${rows.length} parked in ${schema} (${rows[0]!.error})`);
    }
    check(
      'outboxes drained, nothing parked',
      backlog,
      `${outboxSchemas.join(', ')} outboxes; ${parkedSchemas.join(', ')} parked_events`,
    );

    const verify = await promisify(execFile)(process.execPath, ['packages/cli/src/main.ts', 'audit', 'verify'], {
      cwd: repositoryRoot,
      env: { ...baseEnv, DATABASE_URL: infra.primaryUrl(), PASSAGE_ENV: 'development' },
    }).then(
      ({ stdout }) => ({ ok: /^OK/.test(stdout), output: stdout.trim() }),
      (error: unknown) => {
        const failed = error as { stdout?: string; stderr?: string; message: string };
        return { ok: false, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}`.trim() || failed.message };
      },
    );
    check('passage audit verify says OK', verify.ok ? [] : [verify.output], verify.output.split('\n')[0] ?? '');

    const timerProblems: string[] = [];
    const pendingLeft = await query<{ referral_id: string; target: string; state: string }>(
      `select t.referral_id, t.target, r.state from escalation.timers t join referrals.referrals r on r.id = t.referral_id
       where t.state = 'pending' and (r.state in ('closed', 'declined', 'withdrawn') or r.escalated)`,
    );
    for (const row of pendingLeft)
      timerProblems.push(`a pending ${row.target} timer on ${row.state} referral ${row.referral_id}`);
    const doubled = await query<{ referral_id: string; reason: string; n: number }>(
      `select referral_id, reason, count(*)::int as n from referrals.transitions where event = 'escalated'
       group by referral_id, reason having count(*) > 1`,
    );
    for (const row of doubled)
      timerProblems.push(`referral ${row.referral_id} escalated ${row.n} times for ${row.reason}`);
    const doubledItems = await query<{ referral_id: string; audience: string; n: number }>(
      `select referral_id, audience || ':' || missed_target as audience, count(*)::int as n from escalation.items
       group by referral_id, audience, missed_target having count(*) > 1`,
    );
    for (const row of doubledItems)
      timerProblems.push(`referral ${row.referral_id} has ${row.n} escalation items for ${row.audience}`);
    const escalatedJourneys = journeys.filter((j) => j.plan.ending === 'escalated' && j.expected).length;
    check(
      'no pending timer on a finished referral, no double escalation',
      timerProblems,
      `${(await query<{ n: number }>(`select count(*)::int as n from escalation.timers`))[0]!.n} timers, ${escalatedJourneys} referrals escalated`,
    );

    const revokedJourneys = journeys.filter((j) => j.revokeAcked).length;
    check(
      'no read returned a revoked category',
      [
        ...(revokedReads > 0
          ? [`${revokedReads} of ${readsAfterRevocation} reads after a revocation returned content`]
          : []),
        ...(revokedJourneys > 0 && readsAfterRevocation === 0 ? ['no read after a revocation was made'] : []),
        ...(readsWithContent === 0
          ? ['no read before a revocation returned content (the check would prove nothing)']
          : []),
      ],
      `${readsAfterRevocation} reads after ${revokedJourneys} revocations, none with content; ${readsWithContent} reads before returned content`,
    );
    if (cluster) {
      check(
        'every stream on three current replicas',
        await infra.redundancyProblems(),
        `${new Topology('').allStreams().length} streams`,
      );
    }
    const kindsMissing = kinds.filter((kind) => !faults.some((fault) => fault.kind === kind));
    check(
      'the network recovered from every fault',
      faults.filter((f) => f.recoveryMs === undefined).map((f) => `no recovery after ${f.kind}`),
      `${faults.length} faults${kindsMissing.length > 0 ? ` (none of: ${kindsMissing.join(', ')})` : ''}`,
    );

    const endingCounts = Object.fromEntries(endings.map((e) => [e, 0])) as Record<Ending, number>;
    for (const journey of journeys) if (journey.expected) endingCounts[journey.plan.ending]++;
    consent.close();
    referrals.close();
    return {
      cluster,
      seed: options.seed,
      referrals: options.referrals,
      concurrency,
      endings: endingCounts,
      faults,
      unexpectedExits,
      retries,
      calls,
      durationMs: Date.now() - startedAt,
      checks,
    };
  } finally {
    process.removeListener('exit', orphans);
    for (const service of [...services.values()].flat()) await service.stop().catch(() => undefined);
    await sql?.pool.end().catch(() => undefined);
    await infra.dispose();
    if (!process.env['CHAOS_KEEP_LOGS']) rmSync(workDir, { recursive: true, force: true });
  }
}

/** The report, as printed. */
export function formatReport(report: CampaignReport): string {
  const lines = [
    `Chaos campaign: seed ${report.seed}, ${report.referrals} referrals (${endings
      .map((e) => `${report.endings[e]} ${e.replace('_', ' ')}`)
      .join(', ')}), ${Math.round(report.durationMs / 1000)} s`,
    `${report.faults.length} faults, ${report.calls} calls, ${report.retries} retried`,
    '',
    'Recovery after restart, per fault kind (ms): count, median, 90th percentile, max',
  ];
  for (const kind of report.cluster ? clusterFaultKinds : faultKinds) {
    const all = report.faults.filter((f) => f.kind === kind);
    const times = all
      .map((f) => f.recoveryMs)
      .filter((ms): ms is number => ms !== undefined)
      .sort((a, b) => a - b);
    if (all.length === 0) {
      lines.push(`  ${kind.padEnd(17)} none`);
      continue;
    }
    const notRecovered = all.length - times.length;
    lines.push(
      `  ${kind.padEnd(17)} ${String(all.length).padStart(3)}  ` +
        (times.length > 0
          ? `${quantile(times, 0.5)}  ${quantile(times, 0.9)}  ${times[times.length - 1]}`
          : 'never recovered') +
        (notRecovered > 0 && times.length > 0 ? `  (${notRecovered} never recovered)` : ''),
    );
  }
  const described = report.faults.filter((fault) => fault.detail);
  if (described.length > 0) {
    lines.push('', 'Faults in order');
    for (const fault of described) {
      lines.push(
        `  ${fault.kind}: ${fault.detail}; down ${fault.downMs} ms; full strength ${fault.recoveryMs === undefined ? 'NEVER' : `${fault.recoveryMs} ms`} after the restart`,
      );
    }
  }
  lines.push('', 'Checks');
  for (const check of report.checks) lines.push(`  ${check.ok ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}`);
  if (report.unexpectedExits.length > 0)
    lines.push('', 'Processes that exited on their own:', ...report.unexpectedExits);
  lines.push(
    '',
    `Replay: CHAOS_SEED=${report.seed} ${report.cluster ? 'CLUSTER_REFERRALS' : 'CHAOS_REFERRALS'}=${report.referrals} CHAOS_CONCURRENCY=${report.concurrency} pnpm ${report.cluster ? 'test:cluster' : 'test:chaos'}`,
  );
  return lines.join('\n');
}

/** CHAOS_SEED, or a fresh one (printed, so a failure can be replayed). */
export function campaignSeed(): number {
  const given = process.env['CHAOS_SEED'];
  return given ? Number(given) >>> 0 : Math.floor(Math.random() * 2 ** 32);
}
