import { useEffect, useRef, useState, type SyntheticEvent, type ReactNode } from 'react';
import { num } from '../api/edge.ts';
import {
  audit,
  type AccessRecord,
  type CoveredReferral,
  type Revocation,
  type Cell as StatisticsCell,
  type HandoffRow,
  type ReferralSummary,
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
import { saveCsv } from '../ui/csv.ts';
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

/** A figure of the hand-off report a drill-down opens: which figure, of which row. */
interface Opened {
  readonly figure: string;
  /** undefined: the total row. */
  readonly group: string | undefined;
  /** What the list is, in words: "Declined — London Coalition". */
  readonly title: string;
}

type Open = (figure: string, row: HandoffRow, isTotal: boolean, title: string) => void;

/** A count of the report: a button that opens the referrals behind it, or x when hidden. */
function FigureCell(props: {
  count: StatisticsCell | undefined;
  text?: string;
  onOpen: () => void;
  name: string;
}): ReactNode {
  const { t, language } = useI18n();
  if (props.count?.suppressed) return <Hidden />;
  const n = num(props.count?.count);
  const text = props.text ?? number(n, language);
  if (n === 0) return <>{text}</>;
  return (
    <button
      type="button"
      className="figure"
      onClick={props.onOpen}
      aria-label={t('oversight.open', { what: props.name, n: text })}
    >
      {text}
    </button>
  );
}

function Hidden(): ReactNode {
  const { t } = useI18n();
  return (
    <>
      <span aria-hidden="true">x</span>
      <span className="visually-hidden">{t('statistics.suppressed')}</span>
    </>
  );
}

const stageFigure: Record<(typeof stages)[number], string> = {
  acknowledge: 'acknowledged',
  accept: 'accepted',
  firstContact: 'first_contact',
  close: 'closed',
};

const cellOf = (n: number | string | undefined): StatisticsCell => ({ suppressed: false, count: String(n ?? 0) });

function HandoffDashboard(): ReactNode {
  const i18n = useI18n();
  const { t, l, language } = i18n;
  const [groupBy, setGroupBy] = useState<(typeof handoffGroupings)[number]>('agency');
  const period = usePeriod();
  const report = useGet(audit.handoffReport({ groupBy, range: period.range }));
  const [opened, setOpened] = useState<Opened | undefined>(undefined);
  const rows = report.data?.rows ?? [];
  // The report's times are seconds; each bar's label says its own unit ("40 s", "3 h 5 min").
  const span = (seconds: number) => duration(seconds * 1000, language);
  const open: Open = (figure, row, isTotal, title) =>
    setOpened({
      figure,
      group: isTotal ? undefined : (row.group ?? ''),
      title: `${title} — ${isTotal ? t('common.total') : groupLabel(groupBy, row.group, i18n)}`,
    });
  return (
    <div>
      <div className="row">
        <SelectField
          label={t('handoffReport.groupBy')}
          value={groupBy}
          onChange={(value) => {
            setGroupBy(value);
            setOpened(undefined);
          }}
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
                groupHeader={t('handoffReport.group')}
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
          <p className="hint">{t('oversight.openHint')}</p>
          <HandoffTable rows={rows} total={report.data?.total} groupBy={groupBy} onOpen={open} />
          <LoopClosureTable rows={rows} total={report.data?.total} groupBy={groupBy} onOpen={open} />
          <OutcomeMixTable rows={rows} total={report.data?.total} groupBy={groupBy} onOpen={open} />
          {opened && (
            <DrillDown
              key={`${groupBy} ${opened.figure} ${opened.group ?? ''} ${period.range.since ?? ''} ${period.range.until ?? ''}`}
              opened={opened}
              groupBy={groupBy}
              range={period.range}
              onClose={() => setOpened(undefined)}
            />
          )}
        </>
      )}
    </div>
  );
}

interface TableProps {
  rows: readonly HandoffRow[];
  total: HandoffRow | undefined;
  groupBy: string;
  onOpen: Open;
}

/** A table's title with its CSV export beside it. */
function TableHeading(props: { title: string; onExport: () => void }): ReactNode {
  const { t } = useI18n();
  return (
    <div className="table-heading">
      <h3>{props.title}</h3>
      <button type="button" onClick={props.onExport}>
        {t('oversight.exportCsv')}
        <span className="visually-hidden"> — {props.title}</span>
      </button>
    </div>
  );
}

const csvCount = (cell: StatisticsCell | undefined): string | number => (cell?.suppressed ? 'x' : num(cell?.count));
const csvRate = (rate: { suppressed?: boolean; value?: number } | undefined): string | number =>
  rate?.suppressed ? 'x' : Math.round((rate?.value ?? 0) * 10000) / 10000;
const csvSeconds = (
  figures: { suppressed?: boolean; p50Seconds?: number; p90Seconds?: number; count?: number | string } | undefined,
): (string | number)[] =>
  figures?.suppressed ? ['x', 'x', 'x'] : [figures?.p50Seconds ?? 0, figures?.p90Seconds ?? 0, num(figures?.count)];

function HandoffTable(props: TableProps): ReactNode {
  const i18n = useI18n();
  const { t, language } = i18n;
  const span = (seconds: number | undefined) => duration((seconds ?? 0) * 1000, language);
  const stageCell = (row: HandoffRow, stage: (typeof stages)[number], isTotal: boolean) => {
    const figures = row[stage];
    if (num(figures?.count) === 0) return '—';
    return (
      <FigureCell
        count={cellOf(figures?.count)}
        text={`${span(figures?.p50Seconds)} / ${span(figures?.p90Seconds)} (${number(num(figures?.count), language)})`}
        name={t(`stage.${stage}`)}
        onOpen={() => props.onOpen(stageFigure[stage], row, isTotal, t(`stage.${stage}`))}
      />
    );
  };
  const line = (row: HandoffRow, name: string, key: string, isTotal: boolean) => (
    <tr key={key}>
      <th scope="row">{name}</th>
      <td>
        <FigureCell
          count={cellOf(row.referrals)}
          name={t('handoffReport.referrals')}
          onOpen={() => props.onOpen('referrals', row, isTotal, t('handoffReport.referrals'))}
        />
      </td>
      {stages.map((stage) => (
        <td key={stage}>{stageCell(row, stage, isTotal)}</td>
      ))}
      <td>{percent(row.acknowledgedWithinSla, language)}</td>
      <td>{percent(row.acceptedWithinSla, language)}</td>
      <td>
        <FigureCell
          count={cellOf(row.openPastDue)}
          name={t('handoffReport.openPastDue')}
          onOpen={() => props.onOpen('open_past_due', row, isTotal, t('handoffReport.openPastDue'))}
        />
      </td>
      <td>
        <FigureCell
          count={cellOf(row.escalations)}
          name={t('handoffReport.escalations')}
          onOpen={() => props.onOpen('escalated', row, isTotal, t('handoffReport.escalations'))}
        />
      </td>
    </tr>
  );
  const title = t('oversight.handoff');
  const exportCsv = () => {
    const header = [
      t('handoffReport.group'),
      t('handoffReport.referrals'),
      ...stages.flatMap((stage) => [
        `${t(`stage.${stage}`)} ${t('handoffReport.p50')} (s)`,
        `${t(`stage.${stage}`)} ${t('handoffReport.p90')} (s)`,
        `${t(`stage.${stage}`)} ${t('handoffReport.count')}`,
      ]),
      t('handoffReport.ackWithin'),
      t('handoffReport.acceptWithin'),
      t('handoffReport.openPastDue'),
      t('handoffReport.escalations'),
    ];
    const csvLine = (row: HandoffRow, name: string) => [
      name,
      num(row.referrals),
      ...stages.flatMap((stage) => csvSeconds(row[stage])),
      csvRate({ value: row.acknowledgedWithinSla }),
      csvRate({ value: row.acceptedWithinSla }),
      num(row.openPastDue),
      num(row.escalations),
    ];
    saveCsv('passage-handoff-times', header, [
      ...props.rows.map((row) => csvLine(row, groupLabel(props.groupBy, row.group, i18n))),
      ...(props.total ? [csvLine(props.total, t('common.total'))] : []),
    ]);
  };
  return (
    <>
      <TableHeading title={title} onExport={exportCsv} />
      <TableScroll label={title}>
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
            {props.rows.map((row, i) =>
              line(row, groupLabel(props.groupBy, row.group, i18n), `${row.group ?? ''}-${i}`, false),
            )}
          </tbody>
          {props.total && <tfoot>{line(props.total, t('common.total'), 'total', true)}</tfoot>}
        </table>
      </TableScroll>
    </>
  );
}

/** Loop closure: what became of the referrals sent, small cells hidden (x). */
function LoopClosureTable(props: TableProps): ReactNode {
  const i18n = useI18n();
  const { t, language } = i18n;
  const span = (seconds: number | undefined) => duration((seconds ?? 0) * 1000, language);
  const withRate = (
    row: HandoffRow,
    isTotal: boolean,
    count: StatisticsCell | undefined,
    rate: { suppressed?: boolean; value?: number } | undefined,
    figure: string,
    name: string,
  ) => (
    <td>
      <FigureCell
        count={count}
        text={
          count?.suppressed
            ? undefined
            : `${number(num(count?.count), language)} (${percent(rate?.value ?? 0, language)})`
        }
        name={name}
        onOpen={() => props.onOpen(figure, row, isTotal, name)}
      />
    </td>
  );
  const times = (
    row: HandoffRow,
    isTotal: boolean,
    figures: HandoffRow['acceptAnywhere'],
    figure: string,
    name: string,
  ) => (
    <td>
      {figures?.suppressed ? (
        <Hidden />
      ) : num(figures?.count) === 0 ? (
        '—'
      ) : (
        <FigureCell
          count={cellOf(figures?.count)}
          text={`${span(figures?.p50Seconds)} / ${span(figures?.p90Seconds)} (${number(num(figures?.count), language)})`}
          name={name}
          onOpen={() => props.onOpen(figure, row, isTotal, name)}
        />
      )}
    </td>
  );
  const names = {
    closed: t('oversight.loop.closed'),
    declined: t('oversight.loop.declined'),
    resent: t('oversight.loop.resent'),
    anywhere: t('oversight.loop.acceptAnywhere'),
    afterHours: t('oversight.loop.afterHours'),
    afterHoursContact: t('oversight.loop.afterHoursContact'),
  };
  const line = (row: HandoffRow, name: string, key: string, isTotal: boolean) => (
    <tr key={key}>
      <th scope="row">{name}</th>
      <td>{number(num(row.referrals), language)}</td>
      {withRate(row, isTotal, row.closed, row.closureRate, 'closed', names.closed)}
      {withRate(row, isTotal, row.declined, row.declineRate, 'declined', names.declined)}
      {withRate(row, isTotal, row.resent, row.resendRate, 'resent', names.resent)}
      {times(row, isTotal, row.acceptAnywhere, 'accepted_anywhere', names.anywhere)}
      <td>
        <FigureCell
          count={row.afterHours}
          name={names.afterHours}
          onOpen={() => props.onOpen('after_hours', row, isTotal, names.afterHours)}
        />
      </td>
      {times(row, isTotal, row.afterHoursFirstContact, 'after_hours_first_contact', names.afterHoursContact)}
    </tr>
  );
  const title = t('oversight.loop.title');
  const exportCsv = () => {
    const header = [
      t('handoffReport.group'),
      t('handoffReport.referrals'),
      names.closed,
      t('oversight.loop.closureRate'),
      names.declined,
      t('oversight.loop.declineRate'),
      names.resent,
      t('oversight.loop.resendRate'),
      `${names.anywhere} ${t('handoffReport.p50')} (s)`,
      `${names.anywhere} ${t('handoffReport.p90')} (s)`,
      `${names.anywhere} ${t('handoffReport.count')}`,
      names.afterHours,
      `${names.afterHoursContact} ${t('handoffReport.p50')} (s)`,
      `${names.afterHoursContact} ${t('handoffReport.p90')} (s)`,
      `${names.afterHoursContact} ${t('handoffReport.count')}`,
    ];
    const csvLine = (row: HandoffRow, name: string) => [
      name,
      num(row.referrals),
      csvCount(row.closed),
      csvRate(row.closureRate),
      csvCount(row.declined),
      csvRate(row.declineRate),
      csvCount(row.resent),
      csvRate(row.resendRate),
      ...csvSeconds(row.acceptAnywhere),
      csvCount(row.afterHours),
      ...csvSeconds(row.afterHoursFirstContact),
    ];
    saveCsv('passage-loop-closure', header, [
      ...props.rows.map((row) => csvLine(row, groupLabel(props.groupBy, row.group, i18n))),
      ...(props.total ? [csvLine(props.total, t('common.total'))] : []),
    ]);
  };
  return (
    <section aria-labelledby="loop-closure">
      <TableHeading title={title} onExport={exportCsv} />
      <p className="hint" id="loop-closure">
        {t('oversight.loop.note')}
      </p>
      <TableScroll label={title}>
        <table>
          <thead>
            <tr>
              <th scope="col">{t('handoffReport.group')}</th>
              <th scope="col">{t('handoffReport.referrals')}</th>
              <th scope="col">{names.closed}</th>
              <th scope="col">{names.declined}</th>
              <th scope="col">{names.resent}</th>
              <th scope="col">{names.anywhere}</th>
              <th scope="col">{names.afterHours}</th>
              <th scope="col">{names.afterHoursContact}</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((row, i) =>
              line(row, groupLabel(props.groupBy, row.group, i18n), `${row.group ?? ''}-${i}`, false),
            )}
          </tbody>
          {props.total && <tfoot>{line(props.total, t('common.total'), 'total', true)}</tfoot>}
        </table>
      </TableScroll>
    </section>
  );
}

/** The outcome mix: every referral once, by its state now. */
function OutcomeMixTable(props: TableProps): ReactNode {
  const i18n = useI18n();
  const { t, l } = i18n;
  const outcomes = (props.total?.outcomes ?? []).map((o) => o.outcome ?? '');
  const countOf = (row: HandoffRow, outcome: string) => row.outcomes?.find((o) => o.outcome === outcome)?.count;
  const line = (row: HandoffRow, name: string, key: string, isTotal: boolean) => (
    <tr key={key}>
      <th scope="row">{name}</th>
      {outcomes.map((outcome) => (
        <td key={outcome}>
          <FigureCell
            count={countOf(row, outcome) ?? cellOf(0)}
            name={statisticsOutcomeLabel(l, outcome)}
            onOpen={() => props.onOpen(`outcome:${outcome}`, row, isTotal, statisticsOutcomeLabel(l, outcome))}
          />
        </td>
      ))}
    </tr>
  );
  const title = t('oversight.loop.mix');
  const exportCsv = () =>
    saveCsv(
      'passage-outcome-mix',
      [t('handoffReport.group'), ...outcomes.map((o) => statisticsOutcomeLabel(l, o))],
      [
        ...props.rows.map((row) => [
          groupLabel(props.groupBy, row.group, i18n),
          ...outcomes.map((o) => csvCount(countOf(row, o) ?? cellOf(0))),
        ]),
        ...(props.total ? [[t('common.total'), ...outcomes.map((o) => csvCount(countOf(props.total!, o)))]] : []),
      ],
    );
  if (outcomes.length === 0) return null;
  return (
    <>
      <TableHeading title={title} onExport={exportCsv} />
      <TableScroll label={title}>
        <table>
          <thead>
            <tr>
              <th scope="col">{t('handoffReport.group')}</th>
              {outcomes.map((o) => (
                <th scope="col" key={o}>
                  {statisticsOutcomeLabel(l, o)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {props.rows.map((row, i) =>
              line(row, groupLabel(props.groupBy, row.group, i18n), `${row.group ?? ''}-${i}`, false),
            )}
          </tbody>
          {props.total && <tfoot>{line(props.total, t('common.total'), 'total', true)}</tfoot>}
        </table>
      </TableScroll>
    </>
  );
}

/** The referrals behind one figure: ids, agencies, priority, state and times; never the packet. */
function DrillDown(props: { opened: Opened; groupBy: string; range: TimeRange; onClose: () => void }): ReactNode {
  const { t, l, language, agencyName } = useI18n();
  const [pages, setPages] = useState<{ referrals: readonly ReferralSummary[]; next: string } | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(true);
  const heading = useRef<HTMLHeadingElement>(null);
  const request = (cursor: string, limit: number) =>
    audit
      .handoffReferrals({
        groupBy: props.groupBy,
        group: props.opened.group ?? '',
        figure: props.opened.figure,
        range: props.range,
        cursor,
        limit,
      })
      .fetch();
  const load = async (cursor: string) => {
    setBusy(true);
    setError(undefined);
    try {
      const page = await request(cursor, 50);
      setPages((previous) => ({
        referrals: [...(cursor === '' ? [] : (previous?.referrals ?? [])), ...(page.referrals ?? [])],
        next: page.nextCursor ?? '',
      }));
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    let current = true;
    heading.current?.focus();
    request('', 50).then(
      (page) => {
        if (!current) return;
        setPages({ referrals: page.referrals ?? [], next: page.nextCursor ?? '' });
        setBusy(false);
      },
      (failure: unknown) => {
        if (!current) return;
        setError(failure);
        setBusy(false);
      },
    );
    return () => {
      current = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- loads once per opened figure (the component's key)
  }, []);
  const state = (code: string | undefined) => label(l.state, `STATE_${(code ?? '').toUpperCase()}`);
  const priority = (code: string | undefined) =>
    code === 'urgent' ? t('status.urgent') : code === 'standard' ? t('status.standard') : (code ?? '');
  const header = [
    t('oversight.drill.referral'),
    t('oversight.drill.from'),
    t('oversight.drill.to'),
    t('oversight.drill.priority'),
    t('oversight.drill.state'),
    t('oversight.drill.sent'),
    t('oversight.drill.accepted'),
    t('oversight.drill.contact'),
    t('oversight.drill.ended'),
  ];
  const ended = (r: ReferralSummary) => r.closedAt ?? r.declinedAt ?? r.withdrawnAt;
  const exportCsv = async () => {
    // Every page, not only the ones shown.
    const all: ReferralSummary[] = [];
    let cursor = '';
    do {
      const page = await request(cursor, 500);
      all.push(...(page.referrals ?? []));
      cursor = page.nextCursor ?? '';
    } while (cursor !== '' && all.length < 100_000);
    saveCsv(
      'passage-referrals',
      [...header, t('oversight.drill.previous'), t('oversight.loop.afterHours'), t('oversight.drill.reference')],
      all.map((r) => [
        r.referralId ?? '',
        r.fromAgency ?? '',
        r.toAgency ?? '',
        r.priority ?? '',
        r.state ?? '',
        r.sentAt ?? '',
        r.acceptedAt ?? '',
        r.contactAt ?? '',
        ended(r) ?? '',
        r.previousReferralId ?? '',
        r.afterHours ? t('common.yes') : t('common.no'),
        r.reference ?? '',
      ]),
    );
  };
  const when = (at: string | undefined) => (at ? dateTime(at, language) : '—');
  return (
    <section className="card drill" aria-labelledby="drill-title">
      <div className="table-heading">
        <h3 id="drill-title" tabIndex={-1} ref={heading}>
          {t('oversight.drill.title', { what: props.opened.title })}
        </h3>
        <div className="actions">
          <button type="button" onClick={() => void exportCsv()} disabled={!pages || pages.referrals.length === 0}>
            {t('oversight.exportCsv')}
            <span className="visually-hidden"> — {props.opened.title}</span>
          </button>
          <button type="button" onClick={props.onClose}>
            {t('oversight.drill.close')}
          </button>
        </div>
      </div>
      <p className="hint">{t('oversight.drill.note')}</p>
      {error !== undefined && <ErrorNotice error={error} onRetry={() => void load('')} />}
      {!pages && busy && <Loading />}
      {pages && pages.referrals.length === 0 && <p>{t('oversight.drill.empty')}</p>}
      {pages && pages.referrals.length > 0 && (
        <TableScroll label={props.opened.title}>
          <table>
            <thead>
              <tr>
                {header.map((h) => (
                  <th scope="col" key={h}>
                    {h}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {pages.referrals.map((r) => (
                <tr key={r.referralId}>
                  <th scope="row">
                    {/* Its short reference, as people read it out; else the end of the id (ids
                        are time-ordered, so their starts are alike). */}
                    <code>{r.reference || (r.referralId ?? '').slice(-8)}</code>
                    <span className="visually-hidden">{r.referralId}</span>
                  </th>
                  <td>{agencyName(r.fromAgency)}</td>
                  <td>{agencyName(r.toAgency)}</td>
                  <td>{priority(r.priority)}</td>
                  <td>{state(r.state)}</td>
                  <td>{when(r.sentAt)}</td>
                  <td>{when(r.acceptedAt)}</td>
                  <td>{when(r.contactAt)}</td>
                  <td>{when(ended(r))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
      {pages && pages.next !== '' && (
        <div className="actions">
          <button type="button" onClick={() => void load(pages.next)} disabled={busy}>
            {t('oversight.drill.more')}
          </button>
        </div>
      )}
    </section>
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
          <RevocationsTable revocations={data.revocations ?? []} />
          <TableHeading
            title={t('consentReport.consents')}
            onExport={() =>
              saveCsv(
                'passage-consents',
                [
                  t('consentReport.agency'),
                  t('consentReport.method'),
                  t('consentReport.granted'),
                  t('consentReport.revoked'),
                  t('consentReport.expired'),
                ],
                (data.consents ?? []).map((row) => [
                  agencyName(row.agencyId),
                  row.method ?? '',
                  num(row.granted),
                  num(row.revoked),
                  num(row.expired),
                ]),
              )
            }
          />
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
          <TableHeading
            title={t('consentReport.accesses')}
            onExport={() =>
              saveCsv(
                'passage-accesses',
                [
                  t('consentReport.agency'),
                  t('consentReport.category'),
                  t('consentReport.allowed'),
                  t('consentReport.denied'),
                ],
                (data.accesses ?? []).map((row) => [
                  agencyName(row.agencyId),
                  row.category ?? '',
                  num(row.granted),
                  num(row.denied),
                ]),
              )
            }
          />
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

/** Consent honoured: each revocation, the referrals it covered, when each stopped being readable. */
function RevocationsTable(props: { revocations: readonly Revocation[] }): ReactNode {
  const { t, l, language, agencyName } = useI18n();
  const lines = props.revocations.flatMap((revocation): { revocation: Revocation; referral?: CoveredReferral }[] =>
    (revocation.referrals ?? []).length === 0
      ? [{ revocation, referral: undefined }]
      : (revocation.referrals ?? []).map((referral) => ({ revocation, referral })),
  );
  const title = t('oversight.honoured.title');
  const stopped = (referral: CoveredReferral | undefined) =>
    !referral
      ? t('oversight.honoured.noReferral')
      : referral.firstRefusedAt
        ? dateTime(referral.firstRefusedAt, language)
        : t('oversight.honoured.noRead');
  const header = [
    t('consentReport.consent'),
    t('oversight.honoured.revokedAt'),
    t('oversight.drill.referral'),
    t('oversight.drill.state'),
    t('oversight.honoured.stopped'),
    t('oversight.honoured.grantedAfter'),
  ];
  return (
    <>
      <TableHeading
        title={title}
        onExport={() =>
          saveCsv(
            'passage-consent-honoured',
            header,
            lines.map(({ revocation, referral }) => [
              revocation.consentId ?? '',
              revocation.revokedAt ?? '',
              referral?.referralId ?? '',
              referral?.state ?? '',
              referral ? (referral.firstRefusedAt ?? '') : '',
              referral ? num(referral.grantedAfter) : '',
            ]),
          )
        }
      />
      <p className="hint">{t('oversight.honoured.note')}</p>
      {lines.length === 0 ? (
        <p>{t('oversight.honoured.none')}</p>
      ) : (
        <TableScroll label={title}>
          <table>
            <thead>
              <tr>
                {header.map((h) => (
                  <th scope="col" key={h}>
                    {h}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {lines.map(({ revocation, referral }) => (
                <tr key={`${revocation.consentId ?? ''}-${revocation.revokedAt ?? ''}-${referral?.referralId ?? ''}`}>
                  <th scope="row">
                    <code>{revocation.consentId}</code>
                  </th>
                  <td>{revocation.revokedAt ? dateTime(revocation.revokedAt, language) : ''}</td>
                  <td>
                    {referral && (
                      <>
                        <code>{(referral.referralId ?? '').slice(-8)}</code>{' '}
                        <span className="hint">
                          {agencyName(referral.fromAgency)} → {agencyName(referral.toAgency)}
                        </span>
                      </>
                    )}
                  </td>
                  <td>{referral ? label(l.state, `STATE_${(referral.state ?? '').toUpperCase()}`) : ''}</td>
                  <td>{stopped(referral)}</td>
                  <td className={referral && num(referral.grantedAfter) > 0 ? 'problem' : undefined}>
                    {referral ? number(num(referral.grantedAfter), language) : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
    </>
  );
}

function AccessLog(): ReactNode {
  const { t, l, language, agencyName } = useI18n();
  const [subject, setSubject] = useState('');
  const [records, setRecords] = useState<readonly AccessRecord[] | undefined>(undefined);
  const [foundAs, setFoundAs] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const show = async (event: SyntheticEvent) => {
    event.preventDefault();
    setError(undefined);
    try {
      // A referral id, a receipt reference or the subject reference: the log says which it found.
      const log = await audit.findAccessLog({ reference: subject.trim() }).fetch();
      setFoundAs(log.foundAs ?? '');
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
          label={t('oversight.access.reference')}
          hint={t('oversight.access.referenceHelp')}
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
      {records &&
        records.length > 0 &&
        (foundAs === 'referral' ||
          foundAs === 'referral_reference' ||
          foundAs === 'receipt' ||
          foundAs === 'subject') && <p className="hint">{t(`oversight.access.found.${foundAs}`)}</p>}
      {records && records.length > 0 && (
        <TableHeading
          title={t('oversight.access')}
          onExport={() =>
            saveCsv(
              'passage-access-log',
              [
                t('access.when'),
                t('access.who'),
                t('access.agency'),
                t('access.what'),
                t('access.purpose'),
                t('access.outcome'),
                t('oversight.drill.referral'),
              ],
              records.map((record) => [
                record.at ?? '',
                record.actorUser ?? '',
                record.actorAgency ?? '',
                (record.categories ?? []).join(' '),
                record.purpose ?? '',
                record.outcome ?? '',
                record.referralId ?? '',
              ]),
            )
          }
        />
      )}
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
      {data && (
        <TableHeading
          title={t('oversight.statistics')}
          onExport={() =>
            saveCsv(
              'passage-statistics',
              [
                l.dimension[rows],
                ...(data.columnLabels ?? []).map((c) => dimensionLabel(columns, c)),
                t('common.total'),
              ],
              [
                ...(data.rows ?? []).map((row) => [
                  dimensionLabel(rows, row.label),
                  ...(row.cells ?? []).map(csvCount),
                  csvCount(row.total),
                ]),
                ...(data.totals
                  ? [[t('common.total'), ...(data.totals.cells ?? []).map(csvCount), csvCount(data.totals.total)]]
                  : []),
              ],
            )
          }
        />
      )}
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
