// passage: the administrators' command line.
//   pnpm passage audit verify [--checkpoint FILE] [--key KEY] [--require-signed] [--json]
//   pnpm passage audit checkpoint > saved.note
//   pnpm passage audit prove SEQ [--json]
//   pnpm passage audit status [--json]
//   pnpm passage audit acknowledge-gap --stream STREAM [--json]
//   pnpm passage report handoff --by agency|region|priority|month [--since DATE] [--until DATE] [--csv|--json]
//   pnpm passage report consent [--since DATE] [--until DATE] [--csv|--json]
//   pnpm passage report stats [--rows region] [--columns month] [--since DATE] [--until DATE] [--csv|--json]
//   pnpm passage events parked [--service consent|referrals|escalation] [--consumer C] [--csv|--json]
//   pnpm passage events replay EVENT_ID [--service S] [--consumer C] [--json]
//   pnpm passage nats config [--namespace NS] > deploy/nats/authorization.conf
//   pnpm passage certs dev --out DIR [--hosts a,b,…]
//   pnpm passage keys new (--env DIR | --files DIR) [--label L] [--origin O]
//   pnpm passage people list|create|disable|enable|reset-password|link-oidc|unlink-oidc|sessions|end-sessions|import …
//   pnpm passage webhooks list|create|delete|rotate-secret|deliveries|redeliver …
//   pnpm passage scim create-client AGENCY
//   pnpm passage clients create AGENCY --name NAME [--jwk FILE] | list [--agency A] [--revoked] | rotate CLIENT [--jwk FILE] [--grace S] | revoke CLIENT
//   pnpm passage agencies onboard AGENCY --name-en … --name-fr … --kind … --services … --supervisor USER --supervisor-name NAME
import { parseArgs } from 'node:util';
import { ConfigError, PassageError } from '@passage/platform';
import { auditAcknowledgeGap, auditCheckpoint, auditProve, auditStatus, auditVerify } from './commands/audit.ts';
import { eventsParked, eventsReplay } from './commands/events.ts';
import { natsConfig } from './commands/nats.ts';
import { certsDev } from './commands/certs.ts';
import { keysNew } from './commands/keys.ts';
import { reportConsent, reportHandoff, reportStatistics } from './commands/report.ts';
import { createScimClient, onboardAgency, peopleCommand } from './commands/people.ts';
import { clientsCommand } from './commands/clients.ts';
import { webhooksCommand } from './commands/webhooks.ts';
import { UsageError } from './connection.ts';
import type { Format } from './output.ts';

const usage = `usage: passage <command>
  audit verify [--checkpoint FILE] [--key KEY] [--require-signed] [--json]
                                                          recompute the log from the database, check every signature;
                                                          --require-signed fails when entries are under no checkpoint
  audit checkpoint                                        print the latest signed checkpoint (save it for --checkpoint)
  audit prove SEQ [--json]                                prove entry SEQ is in the signed log
  audit status [--json]                                   each stream the log reads; exits 1 if one stopped at a gap
  audit acknowledge-gap --stream STREAM                   admin: record the stream's gap in the log, read it again
  report handoff [--by agency|region|priority|month] [--since DATE] [--until DATE]
  report consent [--since DATE] [--until DATE]
  report stats [--rows region|month|need|outcome] [--columns ...] [--since DATE] [--until DATE]
  events parked [--service S] [--consumer C]              admin: the events each service's consumers parked after
                                                          repeated failures (S: consent, referrals, escalation)
  events replay EVENT_ID [--service S] [--consumer C]     admin: the owning service runs the event's handler again
                                                          (audited); exits 1 if it fails again and stays parked
  nats config [--namespace NS]                            print the NATS servers' authorization block: a user per
                                                          service allowed only what it does on the bus
  certs dev --out DIR [--hosts a,b,...]                   make a development CA and a certificate for every service,
                                                          cli, nats and postgres (mutual TLS; never for real data);
                                                          --hosts adds DNS names to every certificate
  people list [--agency AGENCY]                           the people you manage (admin: all; supervisor: your agency's)
  people create USER --name NAME --roles r1,r2 [--agency AGENCY] [--email E] [--language en|fr]
         [--credential link|temporary-password]           prints a one-time set-password link token or a temporary
                                                          password, once
  people disable|enable USER                              disable: sign-in refused, sessions and live feeds end at once
  people reset-password USER [--credential link|temporary-password]
  people link-oidc|unlink-oidc USER --issuer URL --subject SUB
  people sessions USER                                    the person's open sessions
  people end-sessions USER [--session ID]                 one session, or all of them
  people import FILE.csv [--dry-run] [--credential …]     many people, all or nothing; every error by line
                                                          (columns user_id,display_name,email,agency_id,roles,language)
  webhooks list [--agency AGENCY]                         an agency's webhook endpoints (ADR 46; supervisor: your
                                                          agency's; admin: any)
  webhooks create URL [--events e1,e2] [--direction received|sent] [--description D] [--agency AGENCY]
                                                          register an endpoint; prints its signing secret once
  webhooks delete|rotate-secret ID                        stop it (pending deliveries cancelled); a new secret, once
  webhooks deliveries ID [--status S] [--referral R]      its delivery log: status, attempts, last answer, next try
  webhooks redeliver ID DELIVERY_ID                       send one delivery again (same webhook-id)
  agencies onboard AGENCY --name-en N --name-fr N --kind KIND --services s1,s2 [--regions r1,r2] --supervisor USER
         --supervisor-name NAME [--supervisor-email E] [--credential …]
                                                          admin: its directory listing (kept if listed already), then
                                                          its first supervisor
  scim create-client AGENCY                               admin: a SCIM 2.0 client (/scim/v2) provisioning the agency's
                                                          people as its supervisor; prints its bearer token once
  clients create AGENCY --name NAME [--jwk FILE]          admin, or the agency's supervisor: an OAuth 2.0 client for the
                                                          agency's own system, a worker of it (role system); prints its
                                                          secret once, or registers the public JWK in FILE
  clients list [--agency AGENCY] [--revoked]              the integration clients you manage
  clients rotate CLIENT [--jwk FILE] [--grace SECONDS]    a new secret (printed once) or key; the old one stops working
                                                          at once, or after --grace seconds (at most 86400)
  clients revoke CLIENT                                   no more tokens; the ones it holds stop working at once
  keys new (--env DIR | --files DIR) [--label L] [--origin O]
                                                          every key a deployment needs (token, receipt, checkpoint
                                                          signing keys, KEKs), fresh, as an env file per process or
                                                          a file per setting (for <NAME>_FILE); never printed
options: --csv or --json instead of a table; --as USER (development only: act as a demo user)
people, agencies, clients and webhooks: the gateway's HTTP API — GATEWAY_URL, PASSAGE_USERNAME, PASSAGE_PASSWORD (development: --as USER
  with DEMO_PASSWORD)
environment: DATABASE_URL (audit verify/checkpoint), AUDIT_ADDRESS, CONSENT_ADDRESS, REFERRALS_ADDRESS,
  ESCALATION_ADDRESS (events), PASSAGE_TOKEN, AUDIT_VERIFIER_KEY,
  GRPC_TLS_CA, GRPC_TLS_CERT, GRPC_TLS_KEY (or *_FILE: the CA and this command's certificate and key, for
  mutual TLS with the audit service; none only with PASSAGE_ENV=development, over plaintext)`;

export async function run(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  print: (line: string) => void,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      checkpoint: { type: 'string' },
      key: { type: 'string' },
      'require-signed': { type: 'boolean' },
      stream: { type: 'string' },
      json: { type: 'boolean' },
      csv: { type: 'boolean' },
      by: { type: 'string' },
      rows: { type: 'string' },
      columns: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      as: { type: 'string' },
      namespace: { type: 'string' },
      out: { type: 'string' },
      hosts: { type: 'string' },
      service: { type: 'string' },
      consumer: { type: 'string' },
      env: { type: 'string' },
      files: { type: 'string' },
      label: { type: 'string' },
      origin: { type: 'string' },
      agency: { type: 'string' },
      name: { type: 'string' },
      email: { type: 'string' },
      roles: { type: 'string' },
      language: { type: 'string' },
      credential: { type: 'string' },
      issuer: { type: 'string' },
      subject: { type: 'string' },
      session: { type: 'string' },
      'dry-run': { type: 'boolean' },
      kind: { type: 'string' },
      'name-en': { type: 'string' },
      'name-fr': { type: 'string' },
      regions: { type: 'string' },
      services: { type: 'string' },
      supervisor: { type: 'string' },
      'supervisor-name': { type: 'string' },
      'supervisor-email': { type: 'string' },
      jwk: { type: 'string' },
      grace: { type: 'string' },
      revoked: { type: 'boolean' },
      events: { type: 'string' },
      direction: { type: 'string' },
      description: { type: 'string' },
      status: { type: 'string' },
      referral: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [area, command, ...rest] = positionals;
  if (values.help || !area) {
    print(usage);
    return values.help ? 0 : 2;
  }
  const format: Format = values.json ? 'json' : values.csv ? 'csv' : 'table';
  const reportFlags = { ...values, format };
  switch (`${area} ${command ?? ''}`) {
    case 'audit verify':
      return auditVerify(env, values, print);
    case 'audit checkpoint':
      return auditCheckpoint(env, print);
    case 'audit prove':
      return auditProve(env, rest[0], values, print);
    case 'audit status':
      return auditStatus(env, values, print);
    case 'audit acknowledge-gap':
      return auditAcknowledgeGap(env, values, print);
    case 'report handoff':
      return reportHandoff(env, reportFlags, print);
    case 'report consent':
      return reportConsent(env, reportFlags, print);
    case 'report stats':
      return reportStatistics(env, reportFlags, print);
    case 'events parked':
      return eventsParked(env, reportFlags, print);
    case 'events replay':
      return eventsReplay(env, rest[0], reportFlags, print);
    case 'nats config':
      return natsConfig(values, print);
    case 'certs dev':
      return certsDev(values, print);
    case 'keys new':
      return keysNew(values, print);
    case 'scim create-client':
      return createScimClient(rest[0], env, reportFlags, print);
    case 'agencies onboard':
      return onboardAgency(rest[0], env, reportFlags, print);
    default:
      if (area === 'people' && command) return peopleCommand(command, rest[0], env, reportFlags, print);
      if (area === 'clients' && command) return clientsCommand(command, rest[0], env, reportFlags, print);
      if (area === 'webhooks' && command) return webhooksCommand(command, rest, env, reportFlags, print);
      throw new UsageError(`unknown command "${positionals.join(' ')}"\n${usage}`);
  }
}

if (import.meta.main) {
  try {
    process.exitCode = await run(process.argv.slice(2), process.env, (line) => console.log(line));
  } catch (error) {
    if (
      error instanceof UsageError ||
      error instanceof PassageError ||
      error instanceof ConfigError ||
      (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
    ) {
      console.error(`passage: ${(error as Error).message}`);
      process.exitCode = 2;
    } else {
      throw error;
    }
  }
}
