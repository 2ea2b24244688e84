// Chart helpers shared by the dashboard (dashboard.js) and the offline report, which
// inlines this file: escaping, number formats, the common Plotly layout, and the
// reference-vs-current distribution of a column.
"use strict";

function esc(text) {
  return String(text).replace(/[&<>"']/g, (c) =>
    ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function fmt(value, digits = 3) {
  if (value === null || value === undefined) return "–";
  if (Math.abs(value) >= 1000 || (Math.abs(value) < 0.001 && value !== 0)) return value.toExponential(2);
  return Number(value.toPrecision(digits)).toString();
}

function pct(value) {
  return value === null || value === undefined ? "–" : (100 * value).toFixed(1) + "%";
}

function layout(title, extra) {
  return Object.assign({
    title: { text: esc(title), font: { size: 14 }, x: 0.01 },
    height: 260,
    margin: { l: 55, r: 20, t: 40, b: 40 },
    legend: { orientation: "h", y: -0.2, yanchor: "top", font: { size: 10 } },
    xaxis: { type: "date" },
    hovermode: "x unified",
    paper_bgcolor: "#fff",
    plot_bgcolor: "#fafafa",
  }, extra || {});
}

// Reference and current overlaid on the value axis: one bar per reference bin, as wide
// as the bin and as high as its share divided by its width (a density), so unequal
// quantile bins draw the true shape. A long tail would squeeze the rest into a sliver, so
// an outermost bin wider than three typical bins runs off the axis. Rows below or above
// the reference's whole range have no width to draw: their shares are a panel of their
// own on the right, where a unit change or a sign flip shows at once.
function histogram(dist) {
  const e = dist.edges, n = e.length;
  const inner = e.slice(1).map((b, i) => b - e[i]);
  const typical = [...inner].sort((a, b) => a - b)[Math.floor(inner.length / 2)] || 1;
  const bars = (name, shares, color, extra) => Object.assign({
    type: "bar", name, customdata: shares, marker: { color, line: { width: 0 } }, opacity: 0.6,
    legendgroup: name, textposition: "none",
    hovertemplate: `%{text}: %{customdata:.1%} of rows<extra>${esc(name)}</extra>`,
  }, extra);
  const sides = [["reference", dist.reference, "#6baed6"]];
  if (dist.current) sides.push([currentName(dist), dist.current, "#ff7f0e"]);
  const traces = [];
  for (const [name, shares, color] of sides) {
    const inside = shares.slice(1, -1);
    traces.push(bars(name, inside, color, { x: inner.map((w, i) => e[i] + w / 2), width: inner,
      y: inside.map((v, i) => v / inner[i]), text: dist.bins.slice(1, -1).map(esc) }));
  }
  // two short lines each: one line ("above 2.09e+5") did not fit the narrow panel
  const where = [`below<br>${fmt(e[0])}`, `above<br>${fmt(e[n - 1])}`];
  let top = 0.05;
  for (const [name, shares, color] of sides) {  // after the in-range bars: the tests read those first
    const out = [shares[0], shares[n]];
    top = Math.max(top, ...out);
    traces.push(bars(name, out, color, { x: where, y: out, text: where, xaxis: "x2", yaxis: "y2",
      showlegend: false }));
  }
  const left = inner[0] > 3 * typical ? e[1] - 3 * typical : e[0];
  const right = inner[n - 2] > 3 * typical ? e[n - 2] + 3 * typical : e[n - 1];
  const pad = 0.02 * (right - left);
  const lay = layout("Distribution: reference vs current", {
    barmode: "overlay", bargap: 0, hovermode: "closest", height: 300,
    xaxis: { type: "linear", domain: [0, 0.76], range: [left - pad, right + pad],
      title: { text: esc(dist.feature), font: { size: 11 } } },
    yaxis: { title: { text: "density", font: { size: 11 } }, rangemode: "tozero" },
    xaxis2: { type: "category", domain: [0.84, 1], anchor: "y2", tickfont: { size: 9 } },
    yaxis2: { anchor: "x2", tickformat: ".0%", range: [0, Math.min(1, top * 1.15)], side: "right" },
    annotations: [{ xref: "x2 domain", yref: "paper", x: 0.5, y: 1.02, xanchor: "center",
      yanchor: "bottom", showarrow: false, font: { size: 10, color: "#555" },
      text: "outside the reference's range" }],
    margin: { l: 55, r: 45, t: 46, b: 50 },
  });
  lay.legend.y = -0.3;
  return [traces, lay];
}

function currentName(dist) {  // the dashboard merges stored windows; the report has a file
  return dist.current_name || `current (${dist.windows} window${dist.windows === 1 ? "" : "s"})`;
}

// Reference vs current shares per category (and "other"), side by side.
function categoryBars(dist, title) {
  const x = dist.bins.map(esc);
  const traces = [{ type: "bar", name: "reference", x, y: dist.reference, customdata: dist.reference, marker: { color: "#9ecae1" } }];
  if (dist.current) traces.push({ type: "bar", name: currentName(dist), x, y: dist.current, customdata: dist.current, marker: { color: "#ff7f0e" }, opacity: 0.75 });
  return [traces, layout(title, {
    barmode: "group", xaxis: { type: "category", tickangle: -45, automargin: true, tickfont: { size: 9 } },
    yaxis: { tickformat: ".0%" }, hovermode: "closest", height: 300 })];
}

// The distribution chart of a column into `node`: a histogram for numbers, bars otherwise.
function distributionChart(node, dist, config) {
  if (dist.reference && dist.kind === "numeric" && (dist.edges || []).length > 1) {
    Plotly.react(node, ...histogram(dist), config);
  } else if (dist.reference) {
    const title = dist.kind === "numeric" ? "Share of rows per reference bin" : "Share of rows per category";
    Plotly.react(node, ...categoryBars(dist, title), config);
  } else {
    node.replaceChildren(el("p", { class: "nodata" }, "No reference distribution for this column."));
  }
}
