/** A checked risk report: the risk, its band, the checks that passed and every term's contribution as a chart. */
import type { CheckedReport } from './session';
import { h } from './ui';

const SVG = 'http://www.w3.org/2000/svg';

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** A horizontal bar per term: its contribution (coefficient × value) to the linear predictor, left of zero lowers the risk. */
export function contributionChart(terms: CheckedReport['terms']): SVGSVGElement {
  const row = 22;
  const label = 200;
  const width = 640;
  const plot = width - label - 80;
  const max = Math.max(...terms.map((t) => Math.abs(t.contribution)), 1e-9);
  const zero = label + plot / 2;
  const chart = svg('svg', { width, height: terms.length * row + 30, role: 'img', 'aria-label': 'each term\'s contribution to the risk', 'data-testid': 'contribution-chart' });
  chart.append(svg('line', { x1: zero, x2: zero, y1: 0, y2: terms.length * row + 4, stroke: '#888' }));
  terms.forEach((t, i) => {
    const y = i * row + 4;
    const length = (Math.abs(t.contribution) / max) * (plot / 2);
    const x = t.contribution >= 0 ? zero : zero - length;
    chart.append(svg('text', { x: label - 6, y: y + 14, 'text-anchor': 'end', 'font-size': 12 }, t.term));
    const bar = svg('rect', { x, y, width: Math.max(length, 1), height: row - 6, fill: t.contribution >= 0 ? '#c0392b' : '#2e86c1', 'data-testid': 'bar' });
    bar.append(svg('title', {}, `${t.term}: ${t.coefficient} × ${t.value.toFixed(4)} = ${t.contribution.toFixed(4)}`));
    chart.append(bar);
    chart.append(svg('text', { x: label + plot + 8, y: y + 14, 'font-size': 11, fill: t.contribution >= 0 ? '#c0392b' : '#2e86c1' }, `${t.contribution >= 0 ? '+' : ''}${t.contribution.toFixed(3)}`));
  });
  chart.append(svg('text', { x: zero, y: terms.length * row + 24, 'text-anchor': 'middle', 'font-size': 11, fill: '#555' }, '← lowers risk · raises risk →'));
  return chart;
}

/** The report's view. */
export function reportView(report: CheckedReport): HTMLElement {
  return h('div', { 'data-testid': 'report' },
    h('p', { class: 'risk' }, h('strong', { 'data-testid': 'report-risk' }, `${(report.riskPpm / 10_000).toFixed(1)} %`), ` 10-year risk, band `, h('strong', { 'data-testid': 'report-band' }, report.band), ` (model ${report.modelId}, computed ${new Date(report.computedAt).toISOString()})`),
    h('ul', { class: 'checks', 'data-testid': 'report-checks' }, report.checks.map((c) => h('li', {}, `✓ ${c}`))),
    h('h4', {}, 'What made the score: each term\'s contribution'),
    contributionChart(report.terms),
    h('p', { class: 'muted' }, `Inputs from: ${report.sources.join(', ')}`),
  );
}
