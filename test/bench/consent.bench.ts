// `pnpm bench:consent`: how long deciding consent takes for a subject holding 10 consents,
// in-process (the pure evaluate) and through the running consent service over gRPC on
// localhost. Prints figures; asserts nothing.
import { randomBytes, randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { TokenIssuer } from '@passage/auth';
import { evaluate, type Consent } from '@passage/consent-policy';
import { fileURLToPath } from 'node:url';
import { consent as pb } from '@passage/contracts';
import { newKekSetting } from '@passage/crypto';
import { directoryConfigSchema } from '@passage/directory/config';
import { ontarioAgencies } from '@passage/directory/seed';
import { startDirectory } from '@passage/directory/service';
import { bearerMetadata, callUnary, createLogger, loadConfig } from '@passage/platform';
import { testTls } from '@passage/platform/testing';
import { createTestDatabase, createTestNats, runScript, sparePort, waitForServing, waitUntil } from '@passage/testing';
import pg from 'pg';
import { reportTarget } from './summary.ts';

const inProcessCalls = Number(process.env['BENCH_EVALUATIONS'] ?? 200_000);
const grpcCalls = Number(process.env['BENCH_GRPC_EVALUATIONS'] ?? 5_000);
const start = new Date();
const days = (n: number) => new Date(start.getTime() + n * 86_400_000);

function percentiles(samples: number[]): { p50: number; p99: number } {
  samples.sort((a, b) => a - b);
  const at = (p: number) => samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))]!;
  return { p50: at(50), p99: at(99) };
}

// Ten consents of two scopes each, as a person referred several times over months might hold.
const agencies = ['london-coalition', 'pact-ottawa', 'walk-with-me', 'windsor-essex-ahtag', 'sarnia-lambton-committee'];
const scopes = (i: number) => [
  {
    recipientAgencyIds: [agencies[i % agencies.length]!],
    recipientKinds: [] as never[],
    purposes: ['referral', 'safety_planning'] as const,
    categories: ['identity', 'safe_contact', 'needs', 'situation'] as const,
    doNotContact: i % 3 === 0,
  },
  {
    recipientAgencyIds: [] as string[],
    recipientKinds: ['crisis_line'] as const,
    purposes: ['safety_planning'] as const,
    categories: ['safe_contact'] as const,
    doNotContact: false,
  },
];

function inProcess(): { p50: number; p99: number } {
  const consents: Consent[] = Array.from({ length: 10 }, (_, i) => ({
    id: `c${i}`,
    grantedAt: days(-i),
    expiresAt: days(90),
    revokedAt: i === 9 ? days(-0.5) : undefined,
    scopes: scopes(i).map((s, j) => ({
      ...s,
      id: `c${i}s${j}`,
      purposes: [...s.purposes],
      categories: [...s.categories],
    })),
  }));
  const recipient = { agencyId: 'london-coalition', kind: 'coalition' as const };
  for (let i = 0; i < 20_000; i++) evaluate(consents, recipient, 'referral', start); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < inProcessCalls; i++) {
    const t = process.hrtime.bigint();
    evaluate(consents, recipient, 'referral', start);
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return percentiles(samples);
}

async function overGrpc(): Promise<{
  p50: number;
  p99: number;
  perSecond: number;
  concurrent: { p50: number; p99: number; perSecond: number };
}> {
  const db = await createTestDatabase('benchconsent');
  const nats = await createTestNats('benchconsent');
  const issuer = new TokenIssuer('bench', randomBytes(32));
  // The seeded directory, in this process: consent records scopes only for agencies the
  // directory lists, which it learns from the directory's events. Idle once it has published them.
  const directory = await startDirectory(
    loadConfig(directoryConfigSchema, {
      DATABASE_URL: db.url,
      NATS_URL: nats.url,
      NATS_NAMESPACE: nats.namespace,
      GRPC_PORT: '0',
      PASSAGE_ENV: 'development',
      ...testTls('directory').env,
      DIRECTORY_SEED: 'ontario',
      AUTH_PUBLIC_KEYS: issuer.publicKeySetting,
    }),
    createLogger('bench-directory', 'warn'),
  );
  // The service in a process of its own, as `pnpm start` runs it, so client and server do
  // not share one event loop.
  const port = await sparePort();
  const service = runScript(
    'src/main.ts',
    {
      DATABASE_URL: db.url,
      NATS_URL: nats.url,
      NATS_NAMESPACE: nats.namespace,
      GRPC_PORT: String(port),
      LOG_LEVEL: 'warn',
      PASSAGE_ENV: 'development',
      PASSAGE_KEK: newKekSetting('bench'),
      AUTH_PUBLIC_KEYS: issuer.publicKeySetting,
      RECEIPT_SIGNING_KEY: `bench:${randomBytes(32).toString('base64')}`,
      // Over mutual TLS, as deployed.
      ...testTls('consent').env,
    },
    { cwd: fileURLToPath(new URL('../../services/consent/', import.meta.url)) },
  );
  const { clientCredentials } = testTls();
  await waitForServing(port, 30_000, clientCredentials);
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  await waitUntil(
    async () =>
      (await sql.query<{ n: number }>('select count(*)::int as n from consent.agencies')).rows[0]!.n ===
      ontarioAgencies.length,
    30_000,
  );
  await sql.end();
  const client = new pb.ConsentServiceClient(`127.0.0.1:${port}`, clientCredentials);
  try {
    const officer = bearerMetadata(
      issuer.issue({ userId: 'bench-officer', agencyId: 'peel-regional-police', roles: ['officer'] }),
    );
    let subjectRef = '';
    for (let i = 0; i < 10; i++) {
      const granted = await callUnary(
        client.grant.bind(client),
        {
          idempotencyKey: randomUUID(),
          subjectRef,
          method: pb.CaptureMethod.CAPTURE_METHOD_VERBAL,
          interpreterLanguage: '',
          language: 'en',
          expiresAt: days(90),
          scopes: scopes(i).map((s) => ({
            ...s,
            id: '',
            purposes: [...s.purposes],
            categories: [...s.categories],
            recipientKinds: [...s.recipientKinds],
            revokedAt: undefined,
          })),
          receiptName: '',
          notes: '',
        },
        officer,
      );
      subjectRef = granted.subjectRef;
    }
    const reader = bearerMetadata(
      issuer.issue({ userId: 'bench-intake', agencyId: 'london-coalition', roles: ['intake_worker'] }),
    );
    const request = {
      subjectRef,
      recipientAgencyId: 'london-coalition',
      recipientKind: 'coalition',
      purpose: 'referral',
    };
    for (let i = 0; i < 500; i++) await callUnary(client.evaluate.bind(client), request, reader); // warm-up
    const samples: number[] = [];
    const began = performance.now();
    for (let i = 0; i < grpcCalls; i++) {
      const t = performance.now();
      await callUnary(client.evaluate.bind(client), request, reader);
      samples.push(performance.now() - t);
    }
    const perSecond = grpcCalls / ((performance.now() - began) / 1000);
    // Concurrency: the referrals service asks consent from many requests at once.
    const concurrent: number[] = [];
    const until = performance.now() + 5000;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (performance.now() < until) {
          const t = performance.now();
          await callUnary(client.evaluate.bind(client), request, reader);
          concurrent.push(performance.now() - t);
        }
      }),
    );
    return {
      ...percentiles(samples),
      perSecond,
      concurrent: { ...percentiles(concurrent), perSecond: concurrent.length / 5 },
    };
  } finally {
    client.close();
    service.child.kill('SIGTERM');
    await service.exited();
    await directory.shutdown.run();
    await nats.cleanup();
    await db.drop();
  }
}

const local = inProcess();
const remote = await overGrpc();
const ms = (n: number) => n.toFixed(4);
console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}`);
console.log(
  `subject with 10 consents (20 scopes); ${inProcessCalls} in-process and ${grpcCalls} sequential gRPC evaluations`,
);
console.log('');
console.log('| consent evaluation | p50 (ms) | p99 (ms) | target p50 |');
console.log('|---|---:|---:|---:|');
console.log(`| evaluate, in-process | ${ms(local.p50)} | ${ms(local.p99)} | ≤ 0.05 |`);
console.log(
  `| Evaluate over gRPC (service in its own process on localhost; token verified, Postgres read) | ${ms(remote.p50)} | ${ms(remote.p99)} | ≤ 1 |`,
);
console.log(
  `| Evaluate over gRPC, 8 concurrent callers | ${ms(remote.concurrent.p50)} | ${ms(remote.concurrent.p99)} | |`,
);
console.log(
  `(gRPC: ${remote.perSecond.toFixed(0)} sequential calls/s from one client; ${remote.concurrent.perSecond.toFixed(0)} calls/s from 8)`,
);
reportTarget({
  bench: 'consent',
  measure: `consent Evaluate over gRPC p50, one caller, ${grpcCalls.toLocaleString('en-CA')} sequential calls`,
  value: remote.p50,
  unit: 'ms',
  target: '≤ 1 ms',
  met: remote.p50 <= 1,
});
