import { ArcElement, Chart, DoughnutController, Tooltip, type TooltipItem } from 'chart.js';
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { formatCount, formatPercent } from '../format';
import type { AuthenticationStatus } from '../gql/graphql';

// Only the pieces the doughnut uses are registered: importing 'chart.js/auto' would bundle every chart type.
Chart.register(DoughnutController, ArcElement, Tooltip);

/** STATUS_ORDER is the chart's order of the four states, the same as the API's AuthenticationStatus. */
export const STATUS_ORDER: readonly AuthenticationStatus[] = [
  'AUTHENTICATION_SUCCEEDED',
  'NO_AUTHENTICATION_INFO',
  'AUTHENTICATION_FAILED',
  'CLIENT_AGENTS_MUST_UPGRADE',
];

// Each state keeps one colour everywhere; styles.css defines them (--succeeded, …), these are the same
// values for a canvas that cannot read a stylesheet before it is attached.
const COLOUR: Record<AuthenticationStatus, { cssVar: string; fallback: string }> = {
  AUTHENTICATION_SUCCEEDED: { cssVar: '--succeeded', fallback: '#2e7d32' },
  NO_AUTHENTICATION_INFO: { cssVar: '--no-info', fallback: '#6b7785' },
  AUTHENTICATION_FAILED: { cssVar: '--failed', fallback: '#c62828' },
  CLIENT_AGENTS_MUST_UPGRADE: { cssVar: '--upgrade', fallback: '#b26a00' },
};

/** ChartItem is one chart item as the API sends it. */
export interface ChartItem {
  status: AuthenticationStatus;
  label: string;
  count: number;
}

const share = (count: number, total: number) => (total > 0 ? count / total : 0);

/**
 * StatusChart is the Security settings chart: a Chart.js doughnut of the four states and, because a
 * canvas says nothing to a screen reader or a keyboard, the same items as a listbox (label, count,
 * share). Double-clicking an item, on the canvas or in the list, or pressing Enter on the selected one,
 * calls onDrill. The chart is made once and updated in place as counts change, so a live push
 * animates the segments instead of redrawing the chart from nothing.
 */
export function StatusChart({
  items,
  total,
  onDrill,
  busy = false,
  describedBy,
}: {
  items: readonly ChartItem[];
  total: number;
  onDrill: (status: AuthenticationStatus) => void;
  busy?: boolean;
  describedBy?: string;
}) {
  // Always the four states in the fixed order, so a segment's index and colour never change.
  const ordered = STATUS_ORDER.map((status) => items.find((i) => i.status === status) ?? { status, label: status, count: 0 });
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const chartRef = useRef<Chart<'doughnut'> | null>(null);
  const optionRefs = useRef<(HTMLLIElement | null)[]>([]);
  const [selected, setSelected] = useState<number | null>(null);
  // The canvas listeners are attached once; they read the newest items and handler through these.
  const itemsRef = useRef(ordered);
  itemsRef.current = ordered;
  const drillRef = useRef(onDrill);
  drillRef.current = onDrill;

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const style = getComputedStyle(canvas);
    const colours = STATUS_ORDER.map((s) => style.getPropertyValue(COLOUR[s].cssVar).trim() || COLOUR[s].fallback);
    const reduceMotion = window.matchMedia?.('(prefers-reduced-motion: reduce)').matches ?? false;
    const chart = new Chart(canvas, {
      type: 'doughnut',
      data: {
        labels: itemsRef.current.map((i) => i.label),
        datasets: [
          {
            data: itemsRef.current.map((i) => i.count),
            backgroundColor: colours,
            borderColor: '#ffffff',
            borderWidth: 2,
            hoverOffset: 8,
          },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: true,
        aspectRatio: 1,
        cutout: '55%',
        animation: reduceMotion ? false : { duration: 400 },
        plugins: {
          tooltip: {
            callbacks: {
              label: (ctx: TooltipItem<'doughnut'>) => {
                const sum = (ctx.dataset.data as number[]).reduce((a, b) => a + b, 0);
                return ` ${formatCount(ctx.parsed)} (${formatPercent(share(ctx.parsed, sum))})`;
              },
            },
          },
        },
      },
    });
    chartRef.current = chart;
    // A test (or a curious person) can tell the chart was updated rather than made anew.
    canvas.dataset.chartId = String(chart.id);

    const itemAt = (evt: MouseEvent): number | null => {
      const [hit] = chart.getElementsAtEventForMode(evt, 'nearest', { intersect: true }, false);
      return hit ? hit.index : null;
    };
    const onClick = (evt: MouseEvent) => {
      const index = itemAt(evt);
      if (index !== null) setSelected(index);
    };
    const onDblClick = (evt: MouseEvent) => {
      const index = itemAt(evt);
      const item = index === null ? undefined : itemsRef.current[index];
      if (item) drillRef.current(item.status);
    };
    canvas.addEventListener('click', onClick);
    canvas.addEventListener('dblclick', onDblClick);
    return () => {
      canvas.removeEventListener('click', onClick);
      canvas.removeEventListener('dblclick', onDblClick);
      chart.destroy();
      chartRef.current = null;
    };
  }, []);

  const counts = ordered.map((i) => i.count).join(',');
  const labels = ordered.map((i) => i.label).join('\n');
  useEffect(() => {
    const chart = chartRef.current;
    if (!chart) return;
    chart.data.labels = itemsRef.current.map((i) => i.label);
    chart.data.datasets[0]!.data = itemsRef.current.map((i) => i.count);
    chart.update();
  }, [counts, labels]);

  // The selected item is highlighted on the canvas too, with its tooltip, for keyboard users.
  useEffect(() => {
    const chart = chartRef.current;
    if (!chart) return;
    const active = selected === null || itemsRef.current[selected]?.count === 0 ? [] : [{ datasetIndex: 0, index: selected }];
    chart.setActiveElements(active);
    chart.tooltip?.setActiveElements(active, { x: 0, y: 0 });
    chart.update();
  }, [selected]);

  const focusItem = (index: number) => {
    setSelected(index);
    optionRefs.current[index]?.focus();
  };
  const onKeyDown = (e: KeyboardEvent<HTMLUListElement>) => {
    const current = selected ?? 0;
    const last = ordered.length - 1;
    const moves: Record<string, number> = {
      ArrowDown: Math.min(current + 1, last),
      ArrowRight: Math.min(current + 1, last),
      ArrowUp: Math.max(current - 1, 0),
      ArrowLeft: Math.max(current - 1, 0),
      Home: 0,
      End: last,
    };
    if (e.key in moves) {
      e.preventDefault();
      focusItem(moves[e.key]!);
    } else if (e.key === 'Enter' && selected !== null) {
      e.preventDefault();
      onDrill(ordered[selected]!.status);
    }
  };

  const description = ordered.map((i) => `${i.label}: ${formatCount(i.count)} (${formatPercent(share(i.count, total))})`).join('; ');
  return (
    <div className="status-chart">
      <div className="status-chart-canvas">
        <canvas ref={canvasRef} role="img" aria-label={`Doughnut chart of the devices by authentication status. ${description}`} />
      </div>
      <ul
        role="listbox"
        aria-label="Chart items"
        aria-describedby={describedBy}
        aria-busy={busy || undefined}
        className="status-chart-items"
        onKeyDown={onKeyDown}
      >
        {ordered.map((item, index) => (
          <li
            key={item.status}
            ref={(el) => {
              optionRefs.current[index] = el;
            }}
            role="option"
            aria-selected={selected === index}
            // One stop in the tab order: the selected item, or the first before any is selected.
            tabIndex={(selected ?? 0) === index ? 0 : -1}
            data-testid={`chart-item-${item.status}`}
            data-status={item.status}
            className="status-chart-item"
            onFocus={() => setSelected(index)}
            onClick={() => setSelected(index)}
            onDoubleClick={() => onDrill(item.status)}
          >
            <span className={`swatch ${item.status}`} aria-hidden="true" />
            <span className="item-label">{item.label}</span>
            <span className="item-count">
              <data value={item.count}>{formatCount(item.count)}</data>
            </span>
            <span className="item-share">
              <data value={share(item.count, total)}>{formatPercent(share(item.count, total))}</data>
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}
