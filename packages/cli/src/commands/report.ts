import { audit } from '@passage/contracts';
import { callUnary } from '@passage/platform';
import { UsageError, auditConnection } from '../connection.ts';
import { duration, formatRows, percent, type Format, type Row } from '../output.ts';

export interface ReportFlags {
  readonly by?: string | undefined;
  readonly rows?: string | undefined;
  readonly columns?: string | undefined;
  readonly since?: string | undefined;
  readonly until?: string | undefined;
  readonly as?: string | undefined;
  readonly format: Format;
}

/** YYYY-MM-DD is a day in Ontario: it starts at midnight America/Toronto. Full timestamps are taken as given. */
export function parseDay(text: string | undefined, flag: string): Date | undefined {
  if (text === undefined) return undefined;
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (day) {
    const [y, m, d] = [Number(day[1]), Number(day[2]), Number(day[3])];
    // Toronto's offset a few hours into the UTC day: before any 02:00 clock change.
    const probe = new Date(Date.UTC(y, m - 1, d, 5));
    const offset = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Toronto', timeZoneName: 'longOffset' })
      .formatToParts(probe)
      .find((part) => part.type === 'timeZoneName')?.value;
    const match = /GMT([+-])(\d{2}):(\d{2})/.exec(offset ?? '');
    const minutes = match ? (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3])) : 0;
    return new Date(Date.UTC(y, m - 1, d) - minutes * 60_000);
  }
  const at = new Date(text);
  if (Number.isNaN(at.getTime())) throw new UsageError(`--${flag}: a date (YYYY-MM-DD) or an ISO timestamp`);
  return at;
}

function range(flags: ReportFlags): audit.TimeRange {
  return { since: parseDay(flags.since, 'since'), until: parseDay(flags.until, 'until') };
}

async function withAudit<T>(
  env: NodeJS.ProcessEnv,
  flags: ReportFlags,
  run: (client: audit.AuditServiceClient, metadata: ReturnType<typeof auditConnection>['metadata']) => Promise<T>,
): Promise<T> {
  const { client, metadata } = auditConnection(env, flags.as);
  try {
    return await run(client, metadata);
  } finally {
    client.close();
  }
}

export async function reportHandoff(
  env: NodeJS.ProcessEnv,
  flags: ReportFlags,
  print: (text: string) => void,
): Promise<number> {
  const report = await withAudit(env, flags, (client, metadata) =>
    callUnary(client.handoffReport.bind(client), { groupBy: flags.by ?? 'agency', range: range(flags) }, metadata),
  );
  const rows = [...report.rows, ...(report.total ? [report.total] : [])];
  if (flags.format === 'json') {
    print(JSON.stringify(report, null, 2));
    return 0;
  }
  const human = flags.format === 'table';
  const stage = (figures: audit.StageFigures | undefined, name: string): Row => {
    const f = figures ?? { count: 0, p50Seconds: 0, p90Seconds: 0, maxSeconds: 0 };
    return human
      ? { [`${name} p50`]: duration(f.p50Seconds, f.count), [`${name} p90`]: duration(f.p90Seconds, f.count) }
      : {
          [`${name}_count`]: f.count,
          [`${name}_p50_seconds`]: f.p50Seconds,
          [`${name}_p90_seconds`]: f.p90Seconds,
          [`${name}_max_seconds`]: f.maxSeconds,
        };
  };
  const table = rows.map((row) => ({
    [report.groupBy]: row.group,
    referrals: row.referrals,
    ...stage(row.acknowledge, human ? 'ack' : 'acknowledge'),
    ...stage(row.accept, 'accept'),
    ...stage(row.firstContact, human ? 'contact' : 'first_contact'),
    ...stage(row.close, 'close'),
    [human ? 'ack in SLA' : 'acknowledged_within_sla']: human
      ? percent(row.acknowledgedWithinSla)
      : row.acknowledgedWithinSla,
    [human ? 'accept in SLA' : 'accepted_within_sla']: human ? percent(row.acceptedWithinSla) : row.acceptedWithinSla,
    [human ? 'past due' : 'open_past_due']: row.openPastDue,
    escalations: row.escalations,
    [human ? 'of which accept' : 'accept_escalations']: row.acceptEscalations,
    // Loop closure (ADR 42): a hidden count (under 5, or one that would give such a count away) is x.
    ...loopClosure(row, human),
  }));
  print(formatRows(table, Object.keys(table[0] ?? { [report.groupBy]: '' }), flags.format));
  return 0;
}

const hidden = 'x';

function cell(value: audit.Cell | undefined): string | number {
  return value?.suppressed ? hidden : (value?.count ?? 0);
}

function rate(value: audit.Rate | undefined, human: boolean): string | number {
  if (value?.suppressed) return hidden;
  return human ? percent(value?.value ?? 0) : (value?.value ?? 0);
}

function loopClosure(row: audit.HandoffRow, human: boolean): Row {
  const times = (figures: audit.StageFigures | undefined, name: string): Row => {
    const f = figures ?? { count: 0, p50Seconds: 0, p90Seconds: 0, maxSeconds: 0, suppressed: false };
    if (human) return { [`${name} p50`]: f.suppressed ? hidden : duration(f.p50Seconds, f.count) };
    return {
      [`${name}_count`]: f.suppressed ? hidden : f.count,
      [`${name}_p50_seconds`]: f.suppressed ? hidden : f.p50Seconds,
      [`${name}_p90_seconds`]: f.suppressed ? hidden : f.p90Seconds,
    };
  };
  return {
    closed: cell(row.closed),
    [human ? 'closure' : 'closure_rate']: rate(row.closureRate, human),
    declined: cell(row.declined),
    [human ? 'decline' : 'decline_rate']: rate(row.declineRate, human),
    resent: cell(row.resent),
    [human ? 'resend' : 'resend_rate']: rate(row.resendRate, human),
    ...times(row.acceptAnywhere, human ? 'accept anywhere' : 'accept_anywhere'),
    [human ? 'after hours' : 'after_hours']: cell(row.afterHours),
    ...times(row.afterHoursFirstContact, human ? 'after-hours contact' : 'after_hours_first_contact'),
    // The outcome mix in CSV and JSON; too wide for a terminal table.
    ...(human ? {} : Object.fromEntries(row.outcomes.map((o) => [`outcome:${o.outcome}`, cell(o.count)]))),
  };
}

export async function reportConsent(
  env: NodeJS.ProcessEnv,
  flags: ReportFlags,
  print: (text: string) => void,
): Promise<number> {
  const report = await withAudit(env, flags, (client, metadata) =>
    callUnary(client.consentReport.bind(client), { range: range(flags) }, metadata),
  );
  if (flags.format === 'json') {
    print(JSON.stringify(report, null, 2));
    return 0;
  }
  const consents = report.consents.map((c) => ({ ...c, agency: c.agencyId }));
  print(formatRows(consents, ['agency', 'method', 'granted', 'revoked', 'expired'], flags.format));
  print('');
  const accesses = report.accesses.map((a) => ({ ...a, agency: a.agencyId }));
  print(formatRows(accesses, ['agency', 'category', 'granted', 'denied'], flags.format));
  if (flags.format === 'table') {
    print('');
    print(`referrals withdrawn because consent was revoked: ${report.referralsWithdrawnByRevocation}`);
    print(`accesses denied: ${report.accessesDenied}`);
    print('');
    print('police access (scopes that let police read, ADR 22):');
  }
  const police = report.policeAccess.map((p) => ({
    consent: p.consentId,
    state: p.state,
    recorded_by: p.recordedByAgency,
    police: p.allPolice ? 'all police' : p.policeAgencyIds.join(' '),
    categories: p.categories.join(' '),
    confirmed_by: p.confirmedByAgency,
  }));
  print(formatRows(police, ['consent', 'state', 'recorded_by', 'police', 'categories', 'confirmed_by'], flags.format));
  return 0;
}

export async function reportStatistics(
  env: NodeJS.ProcessEnv,
  flags: ReportFlags,
  print: (text: string) => void,
): Promise<number> {
  const report = await withAudit(env, flags, (client, metadata) =>
    callUnary(
      client.statisticsReport.bind(client),
      { rows: flags.rows ?? 'region', columns: flags.columns ?? 'month', range: range(flags) },
      metadata,
    ),
  );
  if (flags.format === 'json') {
    print(JSON.stringify(report, null, 2));
    return 0;
  }
  const shown = (cell: audit.Cell | undefined): string => (!cell || cell.suppressed ? 'x' : String(cell.count));
  const rowName = flags.rows ?? 'region';
  const lines = [...report.rows, ...(report.totals ? [report.totals] : [])].map((row) => ({
    [rowName]: row.label,
    ...Object.fromEntries(report.columnLabels.map((label, i) => [label, shown(row.cells[i])])),
    total: shown(row.total),
  }));
  print(formatRows(lines, [rowName, ...report.columnLabels, 'total'], flags.format));
  if (flags.format === 'table') print(`\nx: suppressed (under ${report.threshold}, or would let one be worked out)`);
  return 0;
}
