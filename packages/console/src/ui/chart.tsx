import type { ReactNode } from 'react';
import { useI18n } from '../i18n/context.tsx';

export interface BarGroup {
  readonly label: string;
  /** Seconds: the median and the 90th percentile (each label says its own unit: "40 s", "3 h 5 min"). */
  readonly p50: number;
  readonly p90: number;
}

/**
 * Paired horizontal bars (median, 90th percentile) per group, drawn with HTML boxes rather
 * than a scaled SVG, so the text keeps its size on a phone (at least 12 px: the page's own
 * font) and a long name wraps instead of being cut. A screen reader hears the picture as one
 * image named by its title, and reads the figures from a table that stands in for it.
 */
export function BarChart(props: {
  title: string;
  summary: string;
  groups: readonly BarGroup[];
  p50Label: string;
  p90Label: string;
  /** The header of the groups' column in the table equivalent. */
  groupHeader: string;
  formatValue: (seconds: number) => string;
}): ReactNode {
  const { t } = useI18n();
  const max = Math.max(1, ...props.groups.map((g) => g.p90));
  const width = (seconds: number) => `${Math.max(0.5, (seconds / max) * 100)}%`;
  return (
    <figure className="chart">
      <figcaption>
        <strong>{props.title}</strong>
        <span className="hint">{props.summary}</span>
      </figcaption>
      {/* One picture to a screen reader (its children are presentational), the table below for the figures. */}
      <div className="chart-bars" role="img" aria-label={`${props.title}. ${props.summary}`}>
        {props.groups.map((group) => (
          <div className="chart-group" key={group.label}>
            <div className="chart-label">{group.label}</div>
            <div className="chart-track">
              <div className="bar bar-p90" style={{ width: width(group.p90) }} />
              <div className="bar bar-p50" style={{ width: width(group.p50) }} />
            </div>
            <div className="chart-value">
              {props.formatValue(group.p50)} / {props.formatValue(group.p90)}
            </div>
          </div>
        ))}
        <div className="chart-legend">
          <span>
            <span className="swatch bar-p50" /> {props.p50Label}
          </span>
          <span>
            <span className="swatch bar-p90" /> {props.p90Label}
          </span>
        </div>
      </div>
      {/* Hidden by its box: a table itself grows to its content whatever its width says. */}
      <div className="visually-hidden">
        <table>
          <caption>{t('oversight.chart.table', { title: props.title })}</caption>
          <thead>
            <tr>
              <th scope="col">{props.groupHeader}</th>
              <th scope="col">{props.p50Label}</th>
              <th scope="col">{props.p90Label}</th>
            </tr>
          </thead>
          <tbody>
            {props.groups.map((group) => (
              <tr key={group.label}>
                <th scope="row">{group.label}</th>
                <td>{props.formatValue(group.p50)}</td>
                <td>{props.formatValue(group.p90)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}
