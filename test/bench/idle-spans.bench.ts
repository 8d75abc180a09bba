// `pnpm bench:idle-spans`: the spans an idle network makes. Directory, consent, referrals,
// audit and escalation run in this process with the SDK and an in-memory exporter (loaded by
// --import before pg and grpc-js), defaults as deployed (4 escalation workers every 250 ms,
// outbox relays every 1 s). After a warm-up, it counts the spans finished in a fixed window
// with no request made. Prints figures; asserts nothing (the assertion is in
// services/gateway/test/tracing.trace.test.ts).
import { randomBytes } from 'node:crypto';
import { auditConfigSchema } from '@passage/audit/config';
import { startAudit } from '@passage/audit/service';
import { escalationConfigSchema } from '@passage/escalation/config';
import { startEscalation } from '@passage/escalation/service';
import { createLogger, loadConfig } from '@passage/platform';
import { testTls } from '@passage/platform/testing';
import { startNetwork } from '@passage/referrals/testing';
import { finishedSpans } from '@passage/testing';

const warmUpMs = Number(process.env['BENCH_WARMUP_MS'] ?? 5_000);
const windowMs = Number(process.env['BENCH_WINDOW_MS'] ?? 10_000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const n = await startNetwork('benchidlespans');
const log = createLogger('bench', 'silent');
const common = {
  ...n.referralsEnv,
  REFERRALS_ADDRESS: n.referralService!.address,
  SERVICE_TOKEN_KEY: n.serviceTokenKey,
};
const audit = await startAudit(
  loadConfig(auditConfigSchema, {
    ...common,
    ...testTls('audit').env,
    AUDIT_SIGNING_KEY: randomBytes(32).toString('base64'),
  }),
  log,
);
const escalation = await startEscalation(
  loadConfig(escalationConfigSchema, { ...common, ...testTls('escalation').env }),
  log,
);
try {
  await sleep(warmUpMs);
  const before = finishedSpans().length;
  await sleep(windowMs);
  const spans = finishedSpans().slice(before);
  const roots = spans.filter((s) => !s.parentSpanContext);
  const byName = new Map<string, number>();
  for (const span of spans) {
    const text = (span.attributes['db.query.text'] as string | undefined) ?? '';
    const key = `${span.name}${text ? `: ${text.replace(/\s+/g, ' ').slice(0, 60)}` : ''}`;
    byName.set(key, (byName.get(key) ?? 0) + 1);
  }
  const seconds = windowMs / 1000;
  console.log(`idle window: ${seconds} s (after a ${warmUpMs / 1000} s warm-up)`);
  console.log(`spans: ${spans.length} (${(spans.length / seconds).toFixed(1)}/s), of them roots: ${roots.length}`);
  for (const [name, count] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
    console.log(`  ${String(count).padStart(6)}  ${name}`);
  }
} finally {
  await escalation.shutdown.run();
  await audit.shutdown.run();
  await n.stop();
}
