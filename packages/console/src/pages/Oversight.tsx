import { useState, type SyntheticEvent, type ReactNode } from 'react';
import { num } from '../api/edge.ts';
import {
  audit,
  type AccessRecord,
  type Cell as StatisticsCell,
  type HandoffRow,
  type TimeRange,
  type VerifyResponse,
} from '../api/generated.ts';
import { useGet, useOversightFeed, useSubmission, type PoliceAccessEvent } from '../api/hooks.ts';
import { Link, usePath } from '../app/router.tsx';
import { useSession } from '../app/session.ts';
import { useI18n, type I18n } from '../i18n/context.tsx';
import { dateTime, duration, month, number, percent, torontoInstant } from '../i18n/format.ts';
import { handoffGroupings, label, statisticsDimensions, statisticsOutcomeLabel } from '../i18n/labels.ts';
import { BarChart } from '../ui/chart.tsx';
import { ErrorNotice, Loading } from '../ui/feedback.tsx';
import { SelectField, TableScroll, TextField } from '../ui/fields.tsx';

type Tab = 'handoff' | 'consent' | 'access' | 'statistics' | 'audit';

export function Oversight(): ReactNode {
  const { t } = useI18n();
  const { user } = useSession();
  const { search } = usePath();
  const overseer = user.roles.some((role) => role === 'auditor' || role === 'admin');
  const tabs: Tab[] = overseer
    ? ['handoff', 'consent', 'access', 'statistics', 'audit']
    : ['handoff', 'consent', 'statistics'];
  const asked = search.get('tab') as Tab | null;
  const tab = asked && tabs.includes(asked) ? asked : 'handoff';
  return (
    <section>
      <h1 tabIndex={-1}>{t('oversight.title')}</h1>
      <nav aria-label={t('oversight.sections')} className="tabs">
        <ul>
          {tabs.map((id) => (
            <li key={id}>
              <Link to={`/oversight?tab=${id}`} current={id === tab}>
                {t(`oversight.${id}`)}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <h2>{t(`oversight.${tab}`)}</h2>
      {tab === 'handoff' && <HandoffDashboard />}
      {tab === 'consent' && <ConsentReportView />}
      {tab === 'access' && <AccessLog />}
      {tab === 'statistics' && <Statistics />}
      {tab === 'audit' && <AuditLog />}
    </section>
  );
}

/** A period picker: the report's since/until as dates in the person's day. */
function usePeriod(): { range: TimeRange; controls: ReactNode } {
  const { t } = useI18n();
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  const [applied, setApplied] = useState({ since: '', until: '' });
  const range = {
    // Whole days in Ontario, whatever the computer's own time zone.
    since: applied.since ? torontoInstant(applied.since, '00:00').toISOString() : undefined,
    until: applied.until
      ? new Date(torontoInstant(applied.until, '23:59').getTime() + 59_999).toISOString()
      : undefined,
  };
  const controls = (
    <form
      className="row"
      onSubmit={(event) => {
        event.preventDefault();
        setApplied({ since, until });
      }}
    >
      <TextField label={t('common.since')} type="date" value={since} onChange={setSince} />
      <TextField label={t('common.until')} type="date" value={until} onChange={setUntil} />
      <div className="field">
        <button type="submit">{t('common.apply')}</button>
      </div>
    </form>
  );
  return { range, controls };
}

const stages = ['acknowledge', 'accept', 'firstContact', 'close'] as const;

function groupLabel(groupBy: string, group: string | undefined, i18n: I18n): string {
  const value = group ?? '';
  if (groupBy === 'agency') return i18n.agencyName(value);
  if (groupBy === 'month') return month(value, i18n.language);
  if (groupBy === 'region') return label(i18n.l.region, value);
  if (groupBy === 'priority')
    return value === 'urgent' ? i18n.t('status.urgent') : value === 'standard' ? i18n.t('status.standard') : value;
  return value;
}

function HandoffDashboard(): ReactNode {
  const i18n = useI18n();
  const { t, l, language } = i18n;
  const [groupBy, setGroupBy] = useState<(typeof handoffGroupings)[number]>('agency');
  const period = usePeriod();
  const report = useGet(audit.handoffReport({ groupBy, range: period.range }));
  const rows = report.data?.rows ?? [];
  // The report's times are seconds; each bar's label says its own unit ("40 s", "3 h 5 min").
  const span = (seconds: number) => duration(seconds * 1000, language);
  return (
    <div>
      <div className="row">
        <SelectField
          label={t('handoffReport.groupBy')}
          value={groupBy}
          onChange={setGroupBy}
          options={handoffGroupings.map((g) => ({ value: g, label: l.grouping[g] }))}
        />
      </div>
      {period.controls}
      {report.error && <ErrorNotice error={report.error} onRetry={report.reload} />}
      {!report.data && report.loading && <Loading />}
      {report.data?.approximate && <p className="notice">{t('handoffReport.approximate')}</p>}
      {report.data && rows.length === 0 && <p>{t('handoffReport.empty')}</p>}
      {rows.length > 0 && (
        <>
          <div className="charts">
            {stages.map((stage) => (
              <BarChart
                key={stage}
                title={t('handoffReport.chartTitle', { stage: t(`stage.${stage}`) })}
                summary={t('handoffReport.chartSummary')}
                p50Label={t('handoffReport.p50')}
                p90Label={t('handoffReport.p90')}
                formatValue={span}
                groups={rows
                  .filter((row) => num(row[stage]?.count) > 0)
                  .map((row) => ({
                    label: groupLabel(groupBy, row.group, i18n),
                    p50: row[stage]?.p50Seconds ?? 0,
                    p90: row[stage]?.p90Seconds ?? 0,
                  }))}
              />
            ))}
          </div>
          <HandoffTable rows={rows} total={report.data?.total} groupBy={groupBy} />
        </>
      )}
    </div>
  );
}

function HandoffTable(props: {
  rows: readonly HandoffRow[];
  total: HandoffRow | undefined;
  groupBy: string;
}): ReactNode {
  const i18n = useI18n();
  const { t, language } = i18n;
  const stageCell = (row: HandoffRow, stage: (typeof stages)[number]) => {
    const figures = row[stage];
    if (num(figures?.count) === 0) return '—';
    return `${span(figures?.p50Seconds)} / ${span(figures?.p90Seconds)} (${number(num(figures?.count), language)})`;
  };
  const span = (seconds: number | undefined) => duration((seconds ?? 0) * 1000, language);
  const line = (row: HandoffRow, name: string, key: string) => (
    <tr key={key}>
      <th scope="row">{name}</th>
      <td>{number(num(row.referrals), language)}</td>
      {stages.map((stage) => (
        <td key={stage}>{stageCell(row, stage)}</td>
      ))}
      <td>{percent(row.acknowledgedWithinSla, language)}</td>
      <td>{percent(row.acceptedWithinSla, language)}</td>
      <td>{number(num(row.openPastDue), language)}</td>
      <td>{number(num(row.escalations), language)}</td>
    </tr>
  );
  return (
    <TableScroll label={t('oversight.handoff')}>
      <table>
        <caption className="hint">
          {t('handoffReport.p50')} / {t('handoffReport.p90')} ({t('handoffReport.count')})
        </caption>
        <thead>
          <tr>
            <th scope="col">{t('handoffReport.group')}</th>
            <th scope="col">{t('handoffReport.referrals')}</th>
            {stages.map((stage) => (
              <th scope="col" key={stage}>
                {t(`stage.${stage}`)}
              </th>
            ))}
            <th scope="col">{t('handoffReport.ackWithin')}</th>
            <th scope="col">{t('handoffReport.acceptWithin')}</th>
            <th scope="col">{t('handoffReport.openPastDue')}</th>
            <th scope="col">{t('handoffReport.escalations')}</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row, i) => line(row, groupLabel(props.groupBy, row.group, i18n), `${row.group ?? ''}-${i}`))}
        </tbody>
        {props.total && <tfoot>{line(props.total, t('common.total'), 'total')}</tfoot>}
      </table>
    </TableScroll>
  );
}

function ConsentReportView(): ReactNode {
  const { t, l, language, agencyName } = useI18n();
  const { user } = useSession();
  const overseer = user.roles.some((role) => role === 'auditor' || role === 'admin');
  const period = usePeriod();
  const report = useGet(audit.consentReport({ range: period.range }));
  const data = report.data;
  // Auditors and administrators hear of police access as it happens (ADR 22); the table reloads too.
  const [announced, setAnnounced] = useState<PoliceAccessEvent[]>([]);
  const live = useOversightFeed(
    overseer,
    (event) => {
      setAnnounced((previous) => [event, ...previous].slice(0, 20));
      report.reload();
    },
    report.reload,
  );
  const policeState = (state: string | undefined) =>
    state === 'proposed' || state === 'confirmed' || state === 'granted'
      ? t(`consentReport.state.${state}`)
      : (state ?? '');
  return (
    <div>
      {period.controls}
      {report.error && <ErrorNotice error={report.error} onRetry={report.reload} />}
      {!data && report.loading && <Loading />}
      {data && (
        <>
          <p>{t('consentReport.withdrawn', { n: number(num(data.referralsWithdrawnByRevocation), language) })}</p>
          <p>{t('consentReport.deniedTotal', { n: number(num(data.accessesDenied), language) })}</p>
          <h3>{t('consentReport.consents')}</h3>
          <TableScroll label={t('consentReport.consents')}>
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('consentReport.agency')}</th>
                  <th scope="col">{t('consentReport.method')}</th>
                  <th scope="col">{t('consentReport.granted')}</th>
                  <th scope="col">{t('consentReport.revoked')}</th>
                  <th scope="col">{t('consentReport.expired')}</th>
                </tr>
              </thead>
              <tbody>
                {(data.consents ?? []).map((row, i) => (
                  <tr key={`${row.agencyId ?? ''}-${row.method ?? ''}-${i}`}>
                    <th scope="row">{agencyName(row.agencyId)}</th>
                    <td>{label(l.captureMethod, row.method ? `CAPTURE_METHOD_${row.method.toUpperCase()}` : '')}</td>
                    <td>{number(num(row.granted), language)}</td>
                    <td>{number(num(row.revoked), language)}</td>
                    <td>{number(num(row.expired), language)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroll>
          <h3>{t('consentReport.accesses')}</h3>
          <TableScroll label={t('consentReport.accesses')}>
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('consentReport.agency')}</th>
                  <th scope="col">{t('consentReport.category')}</th>
                  <th scope="col">{t('consentReport.allowed')}</th>
                  <th scope="col">{t('consentReport.denied')}</th>
                </tr>
              </thead>
              <tbody>
                {(data.accesses ?? []).map((row, i) => (
                  <tr key={`${row.agencyId ?? ''}-${row.category ?? ''}-${i}`}>
                    <th scope="row">{agencyName(row.agencyId)}</th>
                    <td>{label(l.category, row.category)}</td>
                    <td>{number(num(row.granted), language)}</td>
                    <td>{number(num(row.denied), language)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroll>
          <h3>{t('consentReport.police')}</h3>
          {(data.policeAccess ?? []).length === 0 ? (
            <p>{t('consentReport.policeNone')}</p>
          ) : (
            <TableScroll label={t('consentReport.police')}>
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t('consentReport.consent')}</th>
                    <th scope="col">{t('consentReport.state')}</th>
                    <th scope="col">{t('consentReport.recordedBy')}</th>
                    <th scope="col">{t('consentReport.policeServices')}</th>
                    <th scope="col">{t('consentReport.categories')}</th>
                    <th scope="col">{t('consentReport.confirmedBy')}</th>
                  </tr>
                </thead>
                <tbody>
                  {(data.policeAccess ?? []).map((row) => (
                    <tr key={`${row.consentId ?? ''}-${row.scopeId ?? ''}`}>
                      <th scope="row">
                        <code>{row.consentId}</code>
                      </th>
                      <td>{policeState(row.state)}</td>
                      <td>{agencyName(row.recordedByAgency)}</td>
                      <td>
                        {row.allPolice
                          ? t('consentReport.allPolice')
                          : (row.policeAgencyIds ?? []).map((id) => agencyName(id)).join(', ')}
                      </td>
                      <td>{(row.categories ?? []).map((c) => label(l.category, c)).join(', ')}</td>
                      <td>{row.confirmedByAgency ? agencyName(row.confirmedByAgency) : ''}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableScroll>
          )}
        </>
      )}
      {overseer && (
        <section aria-labelledby="police-live">
          <h3 id="police-live">{t('consentReport.live')}</h3>
          {!live.connected && <p className="notice">{t('consentReport.liveOffline')}</p>}
          <div role="log" aria-live="polite">
            {announced.length === 0 ? (
              <p>{t('consentReport.liveNone')}</p>
            ) : (
              <ul>
                {announced.map((event) => (
                  <li key={`${event.consentId}-${event.scopeId}-${event.state}-${event.occurredAt}`}>
                    {t('consentReport.liveItem', {
                      when: dateTime(event.occurredAt, language),
                      state: policeState(event.state),
                      actor: agencyName(event.actorAgency),
                      police: event.allPolice
                        ? t('consentReport.allPolice')
                        : event.policeAgencyIds.map((id) => agencyName(id)).join(', '),
                      consent: event.consentId,
                    })}
                  </li>
                ))}
              </ul>
            )}
          </div>
        </section>
      )}
    </div>
  );
}

function AccessLog(): ReactNode {
  const { t, l, language, agencyName } = useI18n();
  const [subject, setSubject] = useState('');
  const [records, setRecords] = useState<readonly AccessRecord[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const show = async (event: SyntheticEvent) => {
    event.preventDefault();
    setError(undefined);
    try {
      const log = await audit.accessLog({ subjectRef: subject.trim() }).fetch();
      setRecords(log.records ?? []);
    } catch (failure) {
      setRecords(undefined);
      setError(failure);
    }
  };
  return (
    <div>
      <form onSubmit={(e) => void show(e)} className="row">
        <TextField
          label={t('access.subject')}
          hint={t('access.subjectHelp')}
          value={subject}
          onChange={setSubject}
          required
        />
        <div className="field">
          <button type="submit">{t('access.show')}</button>
        </div>
      </form>
      {error !== undefined && <ErrorNotice error={error} />}
      {records && records.length === 0 && <p>{t('access.empty')}</p>}
      {records && records.length > 0 && (
        <TableScroll label={t('oversight.access')}>
          <table>
            <thead>
              <tr>
                <th scope="col">{t('access.when')}</th>
                <th scope="col">{t('access.who')}</th>
                <th scope="col">{t('access.agency')}</th>
                <th scope="col">{t('access.what')}</th>
                <th scope="col">{t('access.purpose')}</th>
                <th scope="col">{t('access.outcome')}</th>
              </tr>
            </thead>
            <tbody>
              {records.map((record) => (
                <tr key={record.seq}>
                  <td>{dateTime(record.at, language)}</td>
                  <td>
                    {record.actorUser} ({label(l.role, record.actorRole).toLowerCase()})
                  </td>
                  <td>{agencyName(record.actorAgency)}</td>
                  <td>{(record.categories ?? []).map((c) => label(l.category, c)).join(', ')}</td>
                  <td>{label(l.purpose, record.purpose)}</td>
                  <td>{label(l.accessOutcome, record.outcome)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
    </div>
  );
}

function Statistics(): ReactNode {
  const i18n = useI18n();
  const { t, l, language } = i18n;
  const [rows, setRows] = useState<(typeof statisticsDimensions)[number]>('region');
  const [columns, setColumns] = useState<(typeof statisticsDimensions)[number]>('month');
  const report = useGet(audit.statisticsReport({ rows, columns }));
  const threshold = num(report.data?.threshold) || 5;
  const dimensionLabel = (dimension: string, value: string | undefined) => {
    if (dimension === 'region') return label(l.region, value);
    if (dimension === 'month') return month(value ?? '', language);
    if (dimension === 'need') return label(l.need, value);
    if (dimension === 'outcome') return statisticsOutcomeLabel(l, value);
    return value ?? '';
  };
  const cell = (value: StatisticsCell | undefined, key: string) => (
    <td key={key}>
      {/* Not "<5": a value hidden to protect another may be large (complementary suppression). */}
      {value?.suppressed ? (
        <>
          <span aria-hidden="true">x</span>
          <span className="visually-hidden">{t('statistics.suppressed')}</span>
        </>
      ) : (
        number(num(value?.count), language)
      )}
    </td>
  );
  const data = report.data;
  return (
    <div>
      <div className="row">
        <SelectField
          label={t('statistics.rows')}
          value={rows}
          onChange={setRows}
          options={statisticsDimensions.map((d) => ({ value: d, label: l.dimension[d] }))}
        />
        <SelectField
          label={t('statistics.columns')}
          value={columns}
          onChange={setColumns}
          options={statisticsDimensions.map((d) => ({ value: d, label: l.dimension[d] }))}
        />
      </div>
      <p className="hint">{t('statistics.note', { n: threshold })}</p>
      {report.error && <ErrorNotice error={report.error} onRetry={report.reload} />}
      {!data && report.loading && <Loading />}
      {data && (
        <TableScroll label={t('oversight.statistics')}>
          <table>
            <thead>
              <tr>
                <th scope="col">{l.dimension[rows]}</th>
                {(data.columnLabels ?? []).map((c) => (
                  <th scope="col" key={c}>
                    {dimensionLabel(columns, c)}
                  </th>
                ))}
                <th scope="col">{t('common.total')}</th>
              </tr>
            </thead>
            <tbody>
              {(data.rows ?? []).map((row) => (
                <tr key={row.label ?? ''}>
                  <th scope="row">{dimensionLabel(rows, row.label)}</th>
                  {(row.cells ?? []).map((c, i) => cell(c, String(i)))}
                  {cell(row.total, 'total')}
                </tr>
              ))}
            </tbody>
            {data.totals && (
              <tfoot>
                <tr>
                  <th scope="row">{t('common.total')}</th>
                  {(data.totals.cells ?? []).map((c, i) => cell(c, String(i)))}
                  {cell(data.totals.total, 'total')}
                </tr>
              </tfoot>
            )}
          </table>
        </TableScroll>
      )}
    </div>
  );
}

function AuditLog(): ReactNode {
  const { t, language, pair } = useI18n();
  const latest = useGet(audit.latestCheckpoint({}));
  const [result, setResult] = useState<VerifyResponse | undefined>(undefined);
  const { busy, error, submit } = useSubmission();
  const verify = () => {
    setResult(undefined);
    return submit(async () => {
      setResult(await audit.verify({}));
      latest.reload();
    });
  };
  const checkpoint = latest.data?.checkpoint;
  return (
    <div>
      <h3>{t('audit.latest')}</h3>
      {latest.error && <ErrorNotice error={latest.error} onRetry={latest.reload} />}
      {latest.data && !checkpoint && <p>{t('audit.none')}</p>}
      {checkpoint && (
        <dl className="facts card">
          <dt>{t('audit.origin')}</dt>
          <dd>{checkpoint.origin}</dd>
          <dt>{t('audit.size')}</dt>
          <dd>{number(num(checkpoint.treeSize), language)}</dd>
          <dt>{t('audit.note')}</dt>
          <dd>
            <pre className="checkpoint" tabIndex={0}>
              {checkpoint.note}
            </pre>
          </dd>
        </dl>
      )}
      <div className="actions">
        <button type="button" className="primary" onClick={() => void verify()} disabled={busy}>
          {t('audit.verify')}
        </button>
      </div>
      <div role="status" aria-live="polite">
        {busy && <p>{t('audit.verifying')}</p>}
        {result?.ok && (
          <p className="notice notice-ok">
            {t('audit.ok', {
              entries: number(num(result.treeSize), language),
              checkpoints: number(num(result.checkpointsChecked), language),
            })}
          </p>
        )}
      </div>
      {result && !result.ok && (
        <div className="notice notice-error" role="alert">
          <p>{t('audit.failed', { seq: num(result.firstBadSeq) })}</p>
          {/* The verifier's own words are English. */}
          {language === 'en' && result.problem && <p>{result.problem}</p>}
        </div>
      )}
      {error !== undefined && <ErrorNotice error={error} />}
      {result?.latest?.treeSize !== undefined && (
        <p className="muted">
          {pair(t('audit.size'), number(num(result.latest.treeSize), language))} —{' '}
          {dateTime(new Date().toISOString(), language)}
        </p>
      )}
    </div>
  );
}
