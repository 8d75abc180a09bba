import type { ReactNode } from 'react';

export interface BarGroup {
  readonly label: string;
  /** Seconds: the median and the 90th percentile (each label says its own unit: "40 s", "3 h 5 min"). */
  readonly p50: number;
  readonly p90: number;
}

/**
 * Paired horizontal bars (median, 90th percentile) per group, drawn in SVG. The figure is
 * described by its caption and summary; the same numbers are in the table beside it, so
 * nothing is conveyed by the picture alone.
 */
export function BarChart(props: {
  title: string;
  summary: string;
  groups: readonly BarGroup[];
  p50Label: string;
  p90Label: string;
  formatValue: (seconds: number) => string;
}): ReactNode {
  const rowHeight = 34;
  const labelWidth = 200;
  const width = 640;
  const barArea = width - labelWidth - 90;
  const max = Math.max(1, ...props.groups.map((g) => g.p90));
  const height = props.groups.length * rowHeight + 30;
  return (
    <figure className="chart">
      <figcaption>
        <strong>{props.title}</strong>
        <span className="hint">{props.summary}</span>
      </figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${props.title}. ${props.summary}`}>
        {props.groups.map((group, i) => {
          const y = i * rowHeight + 4;
          return (
            <g key={group.label}>
              <text x={labelWidth - 8} y={y + 18} textAnchor="end" className="chart-label">
                <title>{group.label}</title>
                {group.label.length > 20 ? `${group.label.slice(0, 19)}…` : group.label}
              </text>
              <rect x={labelWidth} y={y + 2} height={12} width={(group.p90 / max) * barArea} className="bar-p90" />
              <rect x={labelWidth} y={y + 14} height={12} width={(group.p50 / max) * barArea} className="bar-p50" />
              <text x={labelWidth + (group.p90 / max) * barArea + 6} y={y + 18} className="chart-value">
                {props.formatValue(group.p50)} / {props.formatValue(group.p90)}
              </text>
            </g>
          );
        })}
        <g transform={`translate(${labelWidth}, ${height - 18})`}>
          <rect width={12} height={12} className="bar-p50" />
          <text x={18} y={11} className="chart-label">
            {props.p50Label}
          </text>
          <rect x={150} width={12} height={12} className="bar-p90" />
          <text x={168} y={11} className="chart-label">
            {props.p90Label}
          </text>
        </g>
      </svg>
    </figure>
  );
}
