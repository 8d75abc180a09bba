import { suppress, type PublishedCell } from './suppression.ts';

/**
 * Loop closure in the hand-off report (docs/adr/0042-loop-closure-and-drill-down.md): what
 * became of the referrals sent, published with small-cell suppression. Every count is a cell
 * of a table over the report's groups, suppressed as the statistics are (under the threshold,
 * then complementary suppression), so no hidden count follows from the shown ones and the
 * totals row. A rate is hidden when its count is; a duration figure when its count is.
 */

/** What the projection counted for one group. */
export interface LoopCounts {
  readonly group: string;
  readonly referrals: number;
  /** Every referral once, by state now: closed:<outcome>, declined, withdrawn, open. */
  readonly outcomes: ReadonlyMap<string, number>;
  readonly resent: number;
  readonly afterHours: number;
  /** Chains started in this group that reached an acceptance, with their figures. */
  readonly acceptAnywhere: DurationFigures;
  readonly afterHoursFirstContact: DurationFigures;
}

export interface DurationFigures {
  readonly count: number;
  readonly p50Seconds: number;
  readonly p90Seconds: number;
  readonly maxSeconds: number;
}

export interface PublishedRate {
  readonly suppressed: boolean;
  /** 0 when suppressed. */
  readonly value: number;
}

export interface PublishedDurations extends DurationFigures {
  readonly suppressed: boolean;
}

export interface LoopFigures {
  readonly closed: PublishedCell;
  readonly closureRate: PublishedRate;
  readonly outcomes: readonly { outcome: string; count: PublishedCell }[];
  readonly declined: PublishedCell;
  readonly declineRate: PublishedRate;
  readonly resent: PublishedCell;
  readonly resendRate: PublishedRate;
  readonly acceptAnywhere: PublishedDurations;
  readonly afterHours: PublishedCell;
  readonly afterHoursFirstContact: PublishedDurations;
}

const hiddenCell: PublishedCell = { suppressed: true, count: 0 };
const hiddenRate: PublishedRate = { suppressed: true, value: 0 };

export const outcomeOrder = (a: string, b: string): number => {
  const rank = (o: string): number => (o.startsWith('closed:') ? 0 : o === 'declined' ? 1 : o === 'withdrawn' ? 2 : 3);
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
};

export function rateOf(count: PublishedCell, of: number): PublishedRate {
  if (count.suppressed) return hiddenRate;
  return { suppressed: false, value: of > 0 ? count.count / of : 0 };
}

function durations(figures: DurationFigures, count: PublishedCell): PublishedDurations {
  return count.suppressed
    ? { suppressed: true, count: 0, p50Seconds: 0, p90Seconds: 0, maxSeconds: 0 }
    : { ...figures, suppressed: false };
}

/** One column over the groups, suppressed: its cells by group, and its total. */
function column(groups: readonly LoopCounts[], count: (g: LoopCounts) => number, threshold: number) {
  const table = suppress(
    { rowLabels: groups.map((g) => g.group), columnLabels: ['n'], counts: groups.map((g) => [count(g)]) },
    threshold,
  );
  return { cells: table.cells.map((line) => line[0]!), total: table.grandTotal };
}

/**
 * The loop-closure figures of each group and of the total. `total` holds the whole report's
 * duration figures (computed over every referral, not added up from the groups).
 */
export function publishLoopClosure(
  groups: readonly LoopCounts[],
  total: Pick<LoopCounts, 'acceptAnywhere' | 'afterHoursFirstContact'>,
  threshold = 5,
): { rows: LoopFigures[]; total: LoopFigures } {
  const outcomes = [...new Set(groups.flatMap((g) => [...g.outcomes.keys()]))].sort(outcomeOrder);
  // The outcome mix: each row adds up to the group's referrals, which the report shows already.
  const mix = suppress(
    {
      rowLabels: groups.map((g) => g.group),
      columnLabels: outcomes,
      counts: groups.map((g) => outcomes.map((o) => g.outcomes.get(o) ?? 0)),
    },
    threshold,
    { shownRowTotals: true },
  );
  const resent = column(groups, (g) => g.resent, threshold);
  const afterHours = column(groups, (g) => g.afterHours, threshold);
  const accepted = column(groups, (g) => g.acceptAnywhere.count, threshold);
  const contacted = column(groups, (g) => g.afterHoursFirstContact.count, threshold);
  const referralsTotal = groups.reduce((sum, g) => sum + g.referrals, 0);

  const figures = (
    referrals: number,
    line: readonly PublishedCell[],
    cells: { resent: PublishedCell; afterHours: PublishedCell; accepted: PublishedCell; contacted: PublishedCell },
    durationsOf: Pick<LoopCounts, 'acceptAnywhere' | 'afterHoursFirstContact'>,
  ): LoopFigures => {
    const at = (outcome: string): PublishedCell => {
      const i = outcomes.indexOf(outcome);
      return i < 0 ? { suppressed: false, count: 0 } : line[i]!;
    };
    // Closed = the sum of the closed:* cells. Shown only when it follows from what is shown
    // anyway: every closed:* cell is shown, or every other outcome is (then it is the shown
    // total minus shown cells, a remainder the suppression already keeps at 5 or more).
    const others = outcomes.filter((o) => !o.startsWith('closed:')).map(at);
    const closedCells = outcomes.filter((o) => o.startsWith('closed:')).map(at);
    const closedCount = referrals - others.reduce((sum, c) => sum + c.count, 0);
    const closed: PublishedCell = closedCells.every((c) => !c.suppressed)
      ? { suppressed: false, count: closedCells.reduce((sum, c) => sum + c.count, 0) }
      : others.every((c) => !c.suppressed)
        ? { suppressed: false, count: closedCount }
        : hiddenCell;
    const declined = at('declined');
    return {
      closed,
      closureRate: rateOf(closed, referrals),
      outcomes: outcomes.map((outcome) => ({ outcome, count: at(outcome) })),
      declined,
      declineRate: rateOf(declined, referrals),
      resent: cells.resent,
      resendRate: rateOf(cells.resent, referrals),
      acceptAnywhere: durations(durationsOf.acceptAnywhere, cells.accepted),
      afterHours: cells.afterHours,
      afterHoursFirstContact: durations(durationsOf.afterHoursFirstContact, cells.contacted),
    };
  };

  return {
    rows: groups.map((g, r) =>
      figures(
        g.referrals,
        mix.cells[r]!,
        {
          resent: resent.cells[r]!,
          afterHours: afterHours.cells[r]!,
          accepted: accepted.cells[r]!,
          contacted: contacted.cells[r]!,
        },
        g,
      ),
    ),
    total: figures(
      referralsTotal,
      mix.columnTotals,
      { resent: resent.total, afterHours: afterHours.total, accepted: accepted.total, contacted: contacted.total },
      total,
    ),
  };
}
