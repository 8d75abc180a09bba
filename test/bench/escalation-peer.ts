// The escalation benchmark's peer: graphile-worker (npm), a job per timer, its task firing the
// timer through the escalation service's own code — `EscalationWorker.fireTimers` with the
// ports the service builds (the referrals, directory and consent calls, the settling
// transaction). Run as a process of its own, as the escalation service is, with its settings.
// BENCH_PEER_CONCURRENCY jobs at once (the service's ESCALATION_WORKERS), polling as often as
// the service looks for due timers (ESCALATION_POLL_MS).
import { Logger, run } from 'graphile-worker';
import pg from 'pg';
import { issuerFromEnv } from '@passage/auth';
import { escalationConfigSchema } from '@passage/escalation/config';
import { ServiceIdentity, escalationFiring } from '@passage/escalation/service';
import { createLogger, grpcTransport, loadConfig } from '@passage/platform';

const config = loadConfig(escalationConfigSchema, process.env);
const log = createLogger('escalation-peer', 'warn');
const firing = escalationFiring(
  config,
  config.DATABASE_URL,
  grpcTransport(config, log).clientCredentials,
  new ServiceIdentity(issuerFromEnv(config)),
  log,
);
const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 2 });
const runner = await run({
  connectionString: config.DATABASE_URL,
  concurrency: config.ESCALATION_WORKERS,
  pollInterval: config.ESCALATION_POLL_MS,
  noHandleSignals: true,
  // Errors only, as the service logs at warn.
  logger: new Logger(() => (level, message) => {
    if (level === 'error') console.error(message);
  }),
  taskList: {
    async escalate_timer(payload) {
      const { timerId } = payload as { timerId: string };
      const { claimed, putOff } = await firing.worker.fireTimers([timerId]);
      if (putOff > 0) throw new Error(`timer ${timerId} put off: the queue tries it again`);
      if (claimed === 0) {
        const { rows } = await pool.query<{ state: string }>('select state from escalation.timers where id = $1', [
          timerId,
        ]);
        if (rows[0]?.state === 'pending')
          throw new Error(`timer ${timerId} is held elsewhere: the queue tries it again`);
      }
    },
  },
});
console.log('peer ready');
process.once('SIGTERM', () => {
  void runner
    .stop()
    .then(() => Promise.all([firing.close(), pool.end()]))
    .then(() => process.exit(0));
});
