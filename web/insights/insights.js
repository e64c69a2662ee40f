/**
 * The insights page's charts: Chart.js (pinned in web/package.json, bundled into dist/insights.js, no CDN),
 * drawn from the same tables the page shows (the JSON in #insights-data, written by addons/insights/page.py).
 * Each chart sits above its table, which stays the accessible, exportable form of the same figures.
 */
import {
  BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement,
  Tooltip,
} from "chart.js";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement,
  Legend, Tooltip);

const COLORS = ["#2f5d46", "#b5651d", "#3b6ea8", "#8c3f7a", "#6b7d2a", "#a83b3b", "#4a4a4a", "#1f8a8a"];

function column(table, name) {
  return table.columns.indexOf(name);
}

/** {x label -> {series -> value}} from rows, keeping first-seen order. */
function pivot(table, x, series, value) {
  const [xi, si, vi] = [column(table, x), series === null ? -1 : column(table, series), column(table, value)];
  const labels = [];
  const names = [];
  const values = new Map();
  for (const row of table.rows) {
    const key = String(row[xi]);
    const name = si < 0 ? value : String(row[si]);
    if (!labels.includes(key)) labels.push(key);
    if (!names.includes(name)) names.push(name);
    values.set(`${key}\u0000${name}`, (values.get(`${key}\u0000${name}`) || 0) + Number(row[vi] || 0));
  }
  const datasets = names.map((name, i) => ({
    label: name,
    data: labels.map((key) => values.get(`${key}\u0000${name}`) || 0),
    backgroundColor: COLORS[i % COLORS.length],
    borderColor: COLORS[i % COLORS.length],
  }));
  return { labels, datasets };
}

const CHARTS = {
  volume: (t) => ({ type: "bar", data: pivot(t, "day", "channel", "messages"), stacked: true }),
  topics: (t) => ({ type: "bar", data: pivot({ ...t, rows: t.rows.slice(0, 12) }, "topic", null, "questions"), horizontal: true }),
  topic_trend: (t) => ({ type: "line", data: pivot(t, "day", "topic", "questions") }),
  feedback_topic: (t) => ({
    type: "bar", stacked: true, horizontal: true,
    data: (() => {
      const up = pivot(t, "topic", null, "👍");
      const down = pivot(t, "topic", null, "👎");
      return { labels: up.labels, datasets: [{ ...up.datasets[0], label: "👍" }, { ...down.datasets[0], label: "👎", backgroundColor: COLORS[5], borderColor: COLORS[5] }] };
    })(),
  }),
  profiles: (t) => ({ type: "bar", data: pivot(t, "value", "what", "shoppers") }),
  funnel: (t) => ({ type: "bar", data: pivot({ ...t, rows: t.rows.filter((r) => String(r[0]).startsWith("step")) }, "step", null, "shoppers") }),
  service: (t) => ({ type: "line", data: { labels: t.rows.map((r) => r[0]), datasets: [
    { label: "p50 ms", data: t.rows.map((r) => r[1]), borderColor: COLORS[0], backgroundColor: COLORS[0] },
    { label: "p95 ms", data: t.rows.map((r) => r[2]), borderColor: COLORS[1], backgroundColor: COLORS[1] },
  ] } }),
};

function draw(canvas, table) {
  const spec = CHARTS[canvas.dataset.chart](table);
  const axis = spec.horizontal ? "y" : "x";
  const chart = new Chart(canvas, {
    type: spec.type,
    data: spec.data,
    options: {
      indexAxis: axis,
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: { x: { stacked: !!spec.stacked, beginAtZero: true }, y: { stacked: !!spec.stacked, beginAtZero: true } },
      plugins: { legend: { display: spec.data.datasets.length > 1 } },
    },
  });
  canvas.dataset.drawn = String(spec.data.datasets.reduce((n, d) => n + d.data.length, 0));
  return chart;
}

(function start() {
  const source = document.getElementById("insights-data");
  if (!source) return;
  const tables = JSON.parse(source.textContent);
  window.insightsCharts = {};
  document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
    const table = tables[canvas.dataset.chart];
    if (table && table.rows.length) window.insightsCharts[canvas.dataset.chart] = draw(canvas, table);
  });
})();
