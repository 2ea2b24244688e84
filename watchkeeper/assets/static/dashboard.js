// watchkeeper dashboard: fetch the JSON API, draw Plotly charts, fill tables (helpers in
// charts.js). Text goes into the page through textContent, and into Plotly escaped (Plotly
// reads a few HTML tags in labels), so a feature named <script>…</script> shows as text.
"use strict";

const PAGE = JSON.parse(document.getElementById("page-data").textContent);
const PARAMS = new URLSearchParams(location.search);
const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];
const CONFIG = { displaylogo: false, responsive: true };

// -- small helpers ---------------------------------------------------------------------

function when(epoch) {  // event time as Plotly and people read it: UTC, no zone suffix
  return new Date(epoch * 1000).toISOString().replace("T", " ").slice(0, 19);
}

function rangeQuery(extra) {  // the page's range and version, passed on to the API and links
  const q = new URLSearchParams();
  for (const key of ["range", "since", "until", "version"]) {
    if (PARAMS.get(key)) q.set(key, PARAMS.get(key));
  }
  for (const [k, v] of Object.entries(extra || {})) {
    if (Array.isArray(v)) v.forEach((item) => q.append(k, item));
    else q.set(k, v);
  }
  return q.toString();
}

async function api(path, extra) {
  const response = await fetch(path + "?" + rangeQuery(extra));
  const body = await response.json();
  if (!response.ok) throw new Error((body.error && body.error.message) || response.statusText);
  return body;
}

function modelUrl(model) {
  return "/models/" + encodeURIComponent(model) + "?" + rangeQuery();
}

function featureUrl(model, feature, windowStart) {
  // windowStart (from an alert): the page shows that window, the one that alerted
  const extra = windowStart === undefined || windowStart === null ? {} : { window: String(windowStart) };
  return "/models/" + encodeURIComponent(model) + "/features/" + encodeURIComponent(feature) +
    "?" + rangeQuery(extra);
}

function draw(id, traces, title, extra) {
  const node = document.getElementById(id);
  if (!node) return;
  if (!traces.length) {
    node.replaceChildren(el("p", { class: "nodata" }, title + ": no data in this range"));
    return;
  }
  const { flags, ...rest } = extra || {};  // the alert flags' legend entries (markers())
  Plotly.react(node, traces.concat(flags || []), layout(title, rest), CONFIG);
}

function pick(series, name, labels) {
  return series.filter((s) => s.name === name &&
    Object.entries(labels || {}).every(([k, v]) => s.labels[k] === v));
}

function versions(series) {
  return new Set(series.map((s) => s.version));
}

function line(s, name, extra) {
  return Object.assign({
    x: s.t.map(when), y: s.v, name: esc(name), type: "scatter", mode: "lines",
    connectgaps: false,
  }, extra || {});
}

function label(s, base, many) {
  return many ? `${base} (v${s.version})` : base;
}

function setUpdated() {
  const node = document.getElementById("updated");
  if (node) node.textContent = "updated " + new Date().toISOString().slice(11, 19) + " UTC";
}

// -- alert markers on time charts ------------------------------------------------------

function alertTime(alert) {
  const windows = (alert.evidence && alert.evidence.windows) || [];
  return windows.length ? windows[windows.length - 1][0] : alert.started_at;
}

function markers(alerts) {
  // one flag per window: its alerts listed on hover (several rules often fire together)
  const byTime = new Map();
  for (const a of alerts) {
    const t = when(alertTime(a));
    const entry = byTime.get(t) || { rules: [], retrain: false };
    entry.rules.push(a.rule + (Object.keys(a.labels || {}).length
      ? " (" + Object.values(a.labels).join(", ") + ")" : ""));
    entry.retrain = entry.retrain || Boolean(a.evidence && a.evidence.action);
    byTime.set(t, entry);
  }
  const shapes = [], annotations = [];
  let alerted = false, retrained = false;
  for (const [t, entry] of byTime) {
    alerted = alerted || !entry.retrain;
    retrained = retrained || entry.retrain;
    const color = entry.retrain ? "#9467bd" : "#d62728";
    shapes.push({ type: "line", xref: "x", yref: "paper", x0: t, x1: t, y0: 0, y1: 1,
      line: { color, width: 1, dash: "dot" } });
    // a flag per window; the rules (and a retraining) on hover, the full list on /alerts
    const rules = entry.rules.map(esc).join("<br>") + (entry.retrain ? "<br>→ retraining" : "");
    annotations.push({ x: t, y: 1, xref: "x", yref: "paper", yanchor: "bottom", showarrow: false,
      text: entry.retrain ? "⚑↻" : "⚑", font: { size: 12, color }, hovertext: rules });
  }
  // legend entries saying what the flags are (no data of their own)
  const flag = (name, color) => ({ x: [null], y: [null], type: "scatter", mode: "lines", name,
    line: { color, width: 1, dash: "dot" }, hoverinfo: "skip" });
  const flags = [];
  if (alerted) flags.push(flag("⚑ alert fired (hover the flag)", "#d62728"));
  if (retrained) flags.push(flag("⚑↻ alert + retraining", "#9467bd"));
  return { shapes, annotations, flags };
}

function ratioAxis(traces, extra) {
  // 0 at the bottom, and a visible scale even when every value is 0
  const top = Math.max(0.05, ...traces.flatMap((t) => t.y.filter((v) => v !== null)));
  return Object.assign({ tickformat: ".1%", range: [0, Math.min(1, top * 1.1)] }, extra || {});
}

// -- overview --------------------------------------------------------------------------

async function overview() {
  const data = await api("/v1/overview");
  const root = document.getElementById("models");
  root.replaceChildren();
  if (!data.models.length) root.append(el("p", { class: "empty" }, "No model is configured."));
  for (const m of data.models) {
    const card = el("div", { class: "card", "data-model": m.model });
    card.append(el("h2", {}, el("a", { href: modelUrl(m.model), class: "model-link" }, m.model),
      el("span", { class: "sub" }, " version " + m.version)));
    const badges = el("div", { class: "badges" });
    for (const [family, state] of Object.entries(m.families)) {
      badges.append(el("span", { class: "badge " + state, "data-family": family, title: state },
        family + ": " + { ok: "ok", warn: "pending", alert: "ALERT", none: "no data" }[state]));
    }
    card.append(badges);
    if (m.firing.length) {
      const list = el("ul", { class: "firing" });
      for (const f of m.firing) {
        const labels = Object.entries(f.labels).map(([k, v]) => `${k}=${v}`).join(", ");
        list.append(el("li", {}, f.rule + (labels ? ` (${labels})` : "")));
      }
      card.append(list);
    }
    if (m.last_window_end === null) {
      card.append(el("p", { class: "empty" }, "No data yet: no window has closed."));
    }
    const sparks = el("div", { class: "sparks" });
    const spec = [
      ["throughput_per_second", {}, "traffic (req/s)"],
      ["latency_seconds", { quantile: "0.99" }, "p99 latency (s)"],
      ["error_rate", {}, "error rate"],
      ["dataset_drift_share", {}, "drift share"],
    ];
    card.append(sparks);
    root.append(card);
    for (const [name, labels, title] of spec) {
      const box = el("div", { class: "spark", "data-metric": name });
      sparks.append(box);
      const s = pick(m.sparklines, name, labels)[0];
      if (!s) { box.append(el("p", { class: "nodata" }, title + ": –")); continue; }
      Plotly.newPlot(box, [line(s, title, { line: { width: 1.5 }, fill: "tozeroy" })], {
        title: { text: esc(title), font: { size: 11 }, x: 0.02 }, height: 90,
        margin: { l: 30, r: 5, t: 22, b: 18 }, showlegend: false,
        xaxis: { type: "date", showticklabels: false }, yaxis: { nticks: 3 },
      }, { staticPlot: true });
    }
  }
}

// -- model page ------------------------------------------------------------------------

// What GET /v1/models says beyond the model's description: counts of rows the collector
// did not take in (rejected, too late, labels for unknown ids), whatever their names, so
// the page shows them as soon as a collector reports them.
const MODEL_FIELDS = new Set(["model", "version", "window_seconds", "schema", "last_closed_window"]);

async function ingestCounts(model) {
  const node = document.getElementById("ingest-counts");
  if (!node) return;
  let entry;
  try {
    const body = await (await fetch("/v1/models")).json();
    entry = (body.models || []).find((m) => m.model === model);
  } catch (error) {
    return;
  }
  const parts = [];
  const add = (key, value) => {
    if (typeof value === "number") parts.push(`${key.replaceAll("_", " ")}: ${value.toLocaleString("en")}`);
  };
  for (const [key, value] of Object.entries(entry || {})) {
    if (MODEL_FIELDS.has(key)) continue;
    if (value && typeof value === "object" && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) add(`${key} ${k}`, v);
    } else add(key, value);
  }
  node.textContent = parts.length ? "Ingestion: " + parts.join(" · ") : "";
  node.hidden = !parts.length;
}

const PERFORMANCE = ["accuracy", "f1", "roc_auc", "mae", "rmse", "r2"];
const ESTIMATED = ["estimated_accuracy", "estimated_f1", "estimated_roc_auc", "estimated_mae",
  "estimated_rmse", "estimated_bound"];
const ESTIMATE_OF = { accuracy: "estimated_accuracy", f1: "estimated_f1", roc_auc: "estimated_roc_auc",
  mae: "estimated_mae", rmse: "estimated_rmse" };
const QUALITY_WINDOWS = 6;  // the data-quality table: each feature's latest of these windows

async function modelPage() {
  const model = PAGE.model;
  const base = "/v1/models/" + encodeURIComponent(model);
  const [main, heat, latest, alerts] = await Promise.all([
    api(base + "/series", { name: ["latency_seconds", "throughput_per_second", "error_rate",
      "custom_metric", "output_quantile", "empty_output_ratio", "dataset_drift_share",
      "label_coverage", ...PERFORMANCE, ...ESTIMATED] }),
    api(base + "/series", { name: ["feature_drifted", "feature_drift"] }),
    api(base + "/series", { name: ["missing_ratio", "type_errors", "out_of_range_share",
      "new_category_share", "feature_drifted"], latest: String(QUALITY_WINDOWS) }),
    fetch("/v1/alerts?model=" + encodeURIComponent(model)).then((r) => r.json()),
  ]);
  const s = main.series;
  document.getElementById("empty-note").hidden = s.length > 0;
  ingestCounts(model);  // not awaited: the charts do not wait for it
  rootCauses(model).catch(fail);  // nor for the root causes
  misclassified(model).catch(fail);  // nor for the error analysis
  const mark = markers(alerts.alerts || []);
  const many = versions(s).size > 1;

  const latency = pick(s, "latency_seconds").map((x, i) =>
    line(x, label(x, "p" + Math.round(100 * Number(x.labels.quantile)), many),
      { line: { color: COLORS[i % COLORS.length] } }));
  draw("chart-latency", latency, "Latency (seconds)", mark);
  draw("chart-throughput", pick(s, "throughput_per_second").map((x) =>
    line(x, label(x, "requests/s", many), { fill: "tozeroy" })), "Traffic (requests per second)", mark);
  const errors = pick(s, "error_rate").map((x) => line(x, label(x, "error rate", many)));
  draw("chart-errors", errors, "Error rate", Object.assign({ yaxis: ratioAxis(errors) }, mark));
  const custom = pick(s, "custom_metric").filter((x) => x.labels.stat === "max");
  draw("chart-saturation", custom.map((x) => line(x, label(x, x.labels.metric + " (max)", many))),
    "Custom metrics (max per window)", mark);
  saturation(base, mark).catch(fail);  // not awaited: its own request, its own section

  const outputs = {};
  for (const x of pick(s, "output_quantile")) {
    (outputs[x.labels.output + "|" + x.version] ||= {})[x.labels.quantile] = x;
  }
  const bands = [];
  Object.entries(outputs).forEach(([key, qs], i) => {
    const [output, version] = key.split("|");
    const name = many ? `${output} (v${version})` : output;
    const color = COLORS[i % COLORS.length];
    const band = (lo, hi, opacity, text) => {
      if (!qs[lo] || !qs[hi]) return;
      bands.push(line(qs[lo], name + " " + text, { line: { width: 0 }, showlegend: false, hoverinfo: "skip" }));
      bands.push(line(qs[hi], name + " " + text, { line: { width: 0 }, fill: "tonexty", fillcolor: hexA(color, opacity) }));
    };
    band("0.05", "0.95", 0.15, "5–95%");
    band("0.25", "0.75", 0.35, "25–75%");
    if (qs["0.5"]) bands.push(line(qs["0.5"], name + " median", { line: { color, width: 2 } }));
  });
  draw("chart-outputs", bands, "Output distribution (quantile bands)", mark);
  const empty = pick(s, "empty_output_ratio").map((x) =>
    line(x, label(x, x.labels.output || "output", many)));
  draw("chart-empty", empty, "Empty-output ratio", Object.assign({ yaxis: ratioAxis(empty) }, mark));
  draw("chart-drift-share", pick(s, "dataset_drift_share").map((x) =>
    line(x, label(x, "share of features drifted", many), { fill: "tozeroy" })), "Dataset drift share",
  Object.assign({ yaxis: { tickformat: ".0%", range: [0, 1] } }, mark));

  heatmap(model, heat.series);
  qualityTable(model, latest.series);

  // per metric, one colour: the estimate's 95% interval as a band, the estimate dashed,
  // the realised value (from labels) solid; where the solid line leaves the band, the
  // estimate's assumption (P(y|x) unchanged) no longer holds
  const perf = [];
  PERFORMANCE.forEach((name, i) => {
    const color = COLORS[i % COLORS.length];
    for (const lo of pick(s, "estimated_bound", { metric: name, bound: "lower" })) {
      const hi = pick(s, "estimated_bound", { metric: name, bound: "upper" })
        .find((x) => x.version === lo.version);
      if (!hi) continue;
      const band = label(lo, name + " estimate 95% interval", many);
      perf.push(line(lo, band, { line: { width: 0, color }, showlegend: false, hoverinfo: "skip",
        legendgroup: band }));
      perf.push(line(hi, band, { line: { width: 0, color }, fill: "tonexty",
        fillcolor: hexA(color, 0.18), legendgroup: band }));
    }
    pick(s, ESTIMATE_OF[name] || "").forEach((x) => perf.push(line(x,
      label(x, "estimated " + name.replace("_", " "), many),
      { mode: "lines+markers", marker: { size: 4 }, line: { color, dash: "dash" } })));
    pick(s, name).filter((x) => !x.labels.class).forEach((x) => perf.push(line(x,
      label(x, name, many),
      { mode: "lines+markers", marker: { size: 5 }, line: { color, width: 2 } })));
  });
  pick(s, "label_coverage").forEach((x) => perf.push(line(x, label(x, "label coverage", many),
    { yaxis: "y2", line: { color: "#bbb" }, fill: "tozeroy", fillcolor: "rgba(180,180,180,0.15)" })));
  draw("chart-performance", perf, "Performance", Object.assign({
    height: 320, margin: { l: 55, r: 70, t: 36, b: 36 },
    yaxis2: { overlaying: "y", side: "right", range: [0, 1], tickformat: ".0%",
      title: { text: "label coverage" } } }, mark));
  setUpdated();
}

// -- the model page's saturation section -------------------------------------------------
// Points per instance (labels instance_id and stat: the window's mean or max of samples).
// Across replicas: what they hold together is summed (memory, files, threads, requests in
// flight); every column also shows the busiest sample of any replica.

const SATURATION = ["process_cpu_utilisation", "process_memory_rss_bytes", "process_open_fds",
  "process_threads", "process_gc_pause_ratio", "process_gc_pause_seconds",
  "event_loop_lag_seconds", "in_flight_requests", "request_queue_seconds"];
const SUMMED = new Set(SATURATION.slice(1, 4).concat(SATURATION.slice(7, 8)));

function bytes(value) {
  if (value === null || value === undefined) return "–";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (Math.abs(value) >= 1000 && i < units.length - 1) { value /= 1000; i += 1; }
  return Number(value.toPrecision(3)) + " " + units[i];
}

function seconds(value) {
  if (value === null || value === undefined) return "–";
  return value < 1 ? Number((value * 1000).toPrecision(3)) + " ms" : fmt(value) + " s";
}

const SATURATION_FORMAT = [pct, bytes, fmt, fmt, pct, seconds, seconds, fmt, seconds];

function across(series, how) {  // one series: the sum or max over instances at each window
  const at = new Map();
  for (const x of series) {
    x.t.forEach((t, i) => {
      if (x.v[i] === null) return;
      at.set(t, at.has(t) ? (how === "sum" ? at.get(t) + x.v[i] : Math.max(at.get(t), x.v[i])) : x.v[i]);
    });
  }
  const t = [...at.keys()].sort((a, b) => a - b);
  return { t, v: t.map((k) => at.get(k)) };
}

async function saturation(base, mark) {
  const body = document.querySelector("#saturation tbody");
  if (!body) return;
  const s = (await api(base + "/series", { name: [...SATURATION] })).series;
  const latest = Math.max(-Infinity, ...s.flatMap((x) => x.t));
  const rows = new Map();  // instance -> column -> the latest window's mean
  const peak = SATURATION.map(() => null), total = SATURATION.map(() => null);
  SATURATION.forEach((name, col) => {
    for (const x of pick(s, name)) {
      const i = x.t.indexOf(latest);
      if (i < 0 || x.v[i] === null) continue;
      if (x.labels.stat === "max") peak[col] = Math.max(peak[col] ?? -Infinity, x.v[i]);
      if (x.labels.stat !== "mean") continue;
      const instance = x.labels.instance_id;
      if (!rows.has(instance)) rows.set(instance, SATURATION.map(() => null));
      rows.get(instance)[col] = x.v[i];
      if (SUMMED.has(name)) total[col] = (total[col] ?? 0) + x.v[i];
    }
  });
  body.replaceChildren();
  if (!rows.size) {
    body.append(el("tr", {}, el("td", { colspan: "10", class: "nodata" },
      "No saturation sample yet: the SDK (Client, middleware) sends them every few seconds.")));
  }
  const cells = (values) => values.map((v, col) => el("td", {}, SATURATION_FORMAT[col](v)));
  for (const instance of [...rows.keys()].sort()) {
    body.append(el("tr", { "data-instance": instance }, el("td", {}, instance), ...cells(rows.get(instance))));
  }
  if (rows.size) {
    body.append(el("tr", { "data-across": "sum", class: "across" }, el("td", {}, "all replicas: sum"),
      ...cells(total)));
    body.append(el("tr", { "data-across": "max", class: "across" }, el("td", {}, "all replicas: max"),
      ...cells(peak)));
  }
  const chart = (id, name, stat, how, title, extra) => {
    const per = pick(s, name, { stat });
    const traces = per.map((x) => line(x, x.labels.instance_id));
    if (per.length) traces.push(line(across(per, how), `${how} across replicas`, { line: { dash: "dash", color: "#444" } }));
    draw(id, traces, title, Object.assign(extra || {}, mark));
  };
  chart("chart-cpu", "process_cpu_utilisation", "mean", "max", "CPU (share of each instance's cores)",
    { yaxis: { tickformat: ".0%", rangemode: "tozero" } });
  chart("chart-memory", "process_memory_rss_bytes", "mean", "sum", "Resident memory (bytes)",
    { yaxis: { rangemode: "tozero" } });
  chart("chart-in-flight", "in_flight_requests", "mean", "sum", "Requests in flight (time average)",
    { yaxis: { rangemode: "tozero" } });
  chart("chart-lag", "event_loop_lag_seconds", "max", "max", "Event-loop lag (seconds, max per window)",
    { yaxis: { rangemode: "tozero" } });
}

function hexA(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
}

function heatmap(model, series) {
  const node = document.getElementById("chart-heatmap");
  const drifted = series.filter((x) => x.name === "feature_drifted");
  if (!drifted.length) {
    node.replaceChildren(el("p", { class: "nodata" }, "Feature drift: no data in this range"));
    return;
  }
  const stats = {};
  for (const x of series.filter((x) => x.name === "feature_drift")) {
    const m = (stats[x.labels.feature] ||= new Map());
    x.t.forEach((t, i) => m.set(t, x.v[i]));
  }
  const times = [...new Set(drifted.flatMap((x) => x.t))].sort((a, b) => a - b);
  const col = new Map(times.map((t, i) => [t, i]));
  const order = (PAGE.features || []).filter((f) => drifted.some((x) => x.labels.feature === f));
  for (const x of drifted) if (!order.includes(x.labels.feature)) order.push(x.labels.feature);
  const z = order.map(() => times.map(() => null));
  const text = order.map(() => times.map(() => ""));
  for (const x of drifted) {
    const row = order.indexOf(x.labels.feature);
    x.t.forEach((t, i) => {
      z[row][col.get(t)] = x.v[i];
      const stat = stats[x.labels.feature] && stats[x.labels.feature].get(t);
      text[row][col.get(t)] = `${esc(x.labels.method || "")} ${fmt(stat)}`;
    });
  }
  const trace = {
    type: "heatmap", x: times.map(when), y: order.map(esc), z, text, zmin: 0, zmax: 1,
    colorscale: [[0, "#e3efe3"], [1, "#d62728"]], showscale: false, xgap: 1, ygap: 1,
    hovertemplate: "%{y}<br>%{x}<br>drifted: %{z}<br>statistic: %{text}<extra></extra>",
  };
  Plotly.react(node, [trace], layout("Feature drift (red: drifted)", {
    height: Math.max(220, 60 + 22 * order.length), hovermode: "closest",
    yaxis: { automargin: true, autorange: "reversed" }, margin: { l: 120, r: 20, t: 36, b: 36 },
  }), CONFIG);
  node.dataset.features = JSON.stringify(order);
  node.on("plotly_click", (event) => {
    const point = event.points[0];
    const feature = order[point.pointIndex[0]];
    if (feature !== undefined) location.href = featureUrl(model, feature);
  });
}

function qualityTable(model, series) {
  const body = document.querySelector("#quality tbody");
  body.replaceChildren();
  const rows = {};
  for (const x of series) {
    if (!x.labels.feature) continue;
    const i = x.v.findLastIndex((v) => v !== null);  // the feature's latest window with data
    if (i < 0) continue;
    const row = (rows[x.labels.feature] ||= {});
    if (row[x.name] === undefined || x.t[i] >= row["@" + x.name]) {
      row[x.name] = x.v[i];
      row["@" + x.name] = x.t[i];
    }
  }
  const order = (PAGE.features || []).filter((f) => rows[f]);
  for (const f of Object.keys(rows)) if (!order.includes(f)) order.push(f);
  if (!order.length) {
    body.append(el("tr", {}, el("td", { colspan: "6", class: "nodata" }, "No closed window yet.")));
  }
  for (const f of order) {
    const r = rows[f];
    const bad = (v, limit) => (v !== undefined && v !== null && v > limit ? "bad" : "");
    body.append(el("tr", { "data-feature": f },
      el("td", {}, el("a", { href: featureUrl(model, f) }, f)),
      el("td", { class: bad(r.missing_ratio, 0.2) }, pct(r.missing_ratio)),
      el("td", { class: bad(r.type_errors, 0) }, r.type_errors === undefined ? "–" : fmt(r.type_errors)),
      el("td", { class: bad(r.out_of_range_share, 0.1) }, pct(r.out_of_range_share)),
      el("td", { class: bad(r.new_category_share, 0.05) }, pct(r.new_category_share)),
      el("td", { class: r.feature_drifted ? "bad" : "" },
        r.feature_drifted === undefined ? "–" : r.feature_drifted ? "drifted" : "ok")));
  }
}

// -- feature page ----------------------------------------------------------------------

async function featurePage() {
  const { model, feature } = PAGE;
  const base = "/v1/models/" + encodeURIComponent(model);
  const isOutput = PAGE.role === "output";
  const key = isOutput ? "output" : "feature";
  const prefix = isOutput ? "output_drift" : "feature_drift";
  const driftedName = isOutput ? "output_drifted" : "feature_drifted";
  // opened from an alert (?window=start): that window's verdict and distributions
  const at = PARAMS.get("window") !== null && PARAMS.get("window") !== "" ? Number(PARAMS.get("window")) : null;
  const one = at === null ? {} :
    { range: "custom", since: String(at), until: String(at + PAGE.window_seconds) };
  const verdictNames = [prefix, prefix + "_threshold", prefix + "_p_value", driftedName];
  const [dist, ts, alerts, atWindow] = await Promise.all([
    windowDistribution(base + "/features/" + encodeURIComponent(feature) + "/distribution", one, at),
    api(base + "/series", { name: [...verdictNames, "missing_ratio", "out_of_range_share",
      "new_category_share", "type_errors", "empty_output_ratio"], label: [key + ":" + feature] }),
    fetch("/v1/alerts?model=" + encodeURIComponent(model)).then((r) => r.json()),
    at === null ? null : api(base + "/series", Object.assign({ name: verdictNames,
      label: [key + ":" + feature] }, one)),
  ]);
  const s = ts.series;
  document.getElementById("empty-note").hidden = s.length > 0 || dist.current !== null;
  exampleRows(model, feature, at).catch(fail);  // not awaited
  const mine = (alerts.alerts || []).filter((a) => a.labels[key] === feature ||
    (a.evidence.drifted_features || []).some((d) => d.feature === feature));
  const mark = markers(mine);

  if (at !== null && dist.current) dist.current_name = `the alert's window (${when(at)})`;
  distributionChart(document.getElementById("chart-distribution"), dist, CONFIG);

  const stat = pick(s, prefix);
  const many = versions(s).size > 1;
  const statTraces = stat.map((x) => line(x, label(x, "statistic", many), { mode: "lines+markers" }));
  pick(s, prefix + "_threshold").forEach((x) => statTraces.push(line(x, label(x, "threshold", many),
    { line: { dash: "dash", color: "#d62728" } })));
  const method = stat.length ? stat[stat.length - 1].labels.method : "";
  draw("chart-statistic", statTraces, `Drift statistic over time (${method || "no method"})`, mark);
  const missing = pick(s, "missing_ratio").map((x) => line(x, label(x, "missing ratio", many),
    { fill: "tozeroy" }));
  draw("chart-missing", missing, "Missing ratio", Object.assign({ yaxis: ratioAxis(missing) }, mark));
  const quality = [];
  for (const [name, title] of [["out_of_range_share", "outside reference range"],
    ["new_category_share", "new categories"], ["empty_output_ratio", "empty outputs"]]) {
    pick(s, name).forEach((x) => quality.push(line(x, label(x, title, many))));
  }
  draw("chart-quality", quality, "Values the reference never saw",
    Object.assign({ yaxis: ratioAxis(quality) }, mark));

  verdict(atWindow ? atWindow.series : s, prefix, driftedName, dist, at);
  const list = document.getElementById("new-categories");
  list.replaceChildren();
  for (const c of dist.new_categories || []) list.append(el("li", {}, `${c.value} (${c.count} rows)`));
  if (!list.children.length) list.append(el("li", { class: "nodata" }, "none"));
  setUpdated();
}

async function windowDistribution(path, one, at) {
  // an alert's window may belong to an older version than the one now monitored (the
  // demo's drifts happen before the retrained version 2): the version holding it
  let dist = await api(path, one);
  if (at === null || dist.current || PARAMS.get("version")) return dist;
  for (const version of PAGE.versions || []) {
    const other = await api(path, Object.assign({ version }, one));
    if (other.current) return other;
  }
  return dist;
}

function last(series) {
  if (!series || !series.t.length) return null;
  return { t: series.t[series.t.length - 1], v: series.v[series.v.length - 1] };
}

function verdict(s, prefix, driftedName, dist, at) {
  const box = document.getElementById("verdict");
  box.replaceChildren();
  const stat = pick(s, prefix)[0] ? last(pick(s, prefix).slice(-1)[0]) : null;
  if (at !== null) {
    const latest = new URLSearchParams(location.search);
    latest.delete("window");
    box.append(el("p", { class: "sub", id: "verdict-window" },
      `The window that alerted, ${when(at)}. `,
      el("a", { href: location.pathname + "?" + latest.toString() }, "Show the latest window instead.")));
  }
  if (!stat) {
    box.append(el("p", { class: "nodata" }, at === null ? "No drift verdict yet in this range."
      : "No drift verdict stored for that window."));
    return;
  }
  const threshold = last(pick(s, prefix + "_threshold").slice(-1)[0]);
  const p = last(pick(s, prefix + "_p_value").slice(-1)[0]);
  const drifted = last(pick(s, driftedName).slice(-1)[0]);
  const method = pick(s, prefix).slice(-1)[0].labels.method || "";
  const state = drifted && drifted.v ? "drifted" : "no drift";
  box.append(el("p", { class: "big " + (drifted && drifted.v ? "bad" : "ok"), id: "verdict-state" },
    `${at === null ? "Latest window" : "Window of the alert"} (${when(stat.t)}): ${state}`));
  const side = threshold && stat.v !== null && threshold.v !== null && stat.v > threshold.v ? "above" : "below";
  box.append(el("p", { id: "verdict-explanation" },
    `${method} statistic ${fmt(stat.v)} is ${side} its threshold ${fmt(threshold && threshold.v)}, ` +
    "the value a window of this size exceeds by chance with the configured false-alarm rate " +
    `when nothing changed (adjusted p-value ${fmt(p && p.v)}).`));
  if (dist.current_count !== undefined) {
    box.append(el("p", { class: "sub" },
      `Current side: ${dist.current_count} values and ${dist.current_missing} missing over ${dist.windows} stored window${dist.windows === 1 ? "" : "s"}.`));
  } else if (at !== null) {
    box.append(el("p", { class: "sub" }, "That window's rows are no longer stored (window_retention): its distribution cannot be drawn."));
  }
}

// -- alerts page -----------------------------------------------------------------------

async function alertsPage() {
  const data = await (await fetch("/v1/alerts")).json();
  const root = document.getElementById("alert-tables");
  root.replaceChildren();
  const groups = [
    ["firing", "Firing", data.alerts.filter((a) => a.state === "firing" && !a.silenced)],
    ["pending", "Pending", data.pending.map((p) => Object.assign({ state: "pending", evidence: {} }, p))],
    ["resolved", "Resolved", data.alerts.filter((a) => a.state === "resolved" && !a.silenced)],
    ["silenced", "Silenced", data.alerts.filter((a) => a.silenced)],
  ];
  for (const [key, title, rows] of groups) {
    root.append(el("h2", {}, `${title} (${rows.length})`));
    const table = el("table", { class: "table alerts", id: "alerts-" + key });
    table.append(el("thead", {}, el("tr", {}, ...["rule", "model", "labels", "fired (event time)",
      "resolved", "evidence", "notified / action"].map((h) => el("th", {}, h)))));
    const body = el("tbody");
    for (const a of rows) body.append(alertRow(a));
    if (!rows.length) body.append(el("tr", {}, el("td", { colspan: "7", class: "nodata" }, "none")));
    table.append(body);
    root.append(table);
  }
  setUpdated();
}

function alertRow(a) {
  const ev = a.evidence || {};
  const labels = el("td");  // a feature or output label links to that column's page
  Object.entries(a.labels || {}).forEach(([k, v], i) => {
    if (i) labels.append(", ");
    const linked = (k === "feature" || k === "output") && a.model;
    const at = ev.windows ? alertTime(a) : undefined;
    labels.append(`${k}=`, linked ? el("a", { href: featureUrl(a.model, v, at) }, v) : v);
  });
  const evidence = el("td", { class: "evidence" });
  if (ev.metric) {
    evidence.append(el("div", {}, `${ev.metric} = ${fmt(ev.value)} ${ev.op || ""} ${fmt(ev.threshold)}`));
  }
  for (const d of ev.drifted_features || []) {
    evidence.append(el("div", {}, el("a", { href: featureUrl(a.model, d.feature, ev.windows ? alertTime(a) : undefined) }, d.feature),
      ` ${d.method || ""} ${fmt(d.statistic)} > ${fmt(d.threshold)}`));
  }
  if ((ev.root_causes || []).length) {  // the window's multivariate root causes
    evidence.append(el("div", { class: "sub" }, "why: the features behind the change"),
      causesTable(a.model, ev.root_causes, ev.windows ? alertTime(a) : undefined));
  }
  const outcome = el("td");
  for (const n of ev.notifications || []) {
    const what = [n.event, n.status || (n.ok ? "sent" : "failed")].filter(Boolean).join(" ");
    const tries = n.attempts > 1 ? ` after ${n.attempts} attempts` : "";
    outcome.append(el("div", { class: n.ok === false ? "bad" : "" },
      `${n.notifier || n.name || "notifier"}: ${what}${tries}${n.error ? " (" + n.error + ")" : ""}`));
  }
  if (ev.action) outcome.append(el("div", {}, `action ${ev.action.action}: ${ev.action.status}`));
  if (ev.silenced_by) outcome.append(el("div", {}, "silenced"));
  return el("tr", { "data-rule": a.rule },
    el("td", {}, a.rule),
    el("td", {}, el("a", { href: modelUrl(a.model) }, a.model)),
    labels,
    el("td", {}, ev.windows ? when(alertTime(a)) : a.started_at ? when(a.started_at) : "–"),
    el("td", {}, a.resolved_at ? when(a.resolved_at) : "–"),
    evidence, outcome);
}

// -- why did it change: multivariate verdicts, root causes, example rows -------------------

function causesTable(model, causes, at) {
  const table = el("table", { class: "table causes-table" });
  table.append(el("thead", {}, el("tr", {}, ...["#", "feature", "part in the drift"].map((h) => el("th", {}, h)))));
  const body = el("tbody");
  causes.forEach((c, i) => {
    const width = Math.max(0, Math.min(100, Math.round(100 * c.score)));
    body.append(el("tr", { "data-feature": c.feature },
      el("td", {}, String(i + 1)),
      el("td", {}, el("a", { href: featureUrl(model, c.feature, at) }, c.feature)),
      el("td", { class: "num" }, el("span", { class: "cause-bar", style: `width:${width}px` }), " " + pct(c.score))));
  });
  table.append(body);
  return table;
}

async function rootCauses(model) {
  const node = document.getElementById("causes");
  if (!node) return;
  const data = await api("/v1/models/" + encodeURIComponent(model) + "/causes");
  const f = data.findings;
  if (!f) {
    node.replaceChildren(el("p", { class: "nodata" }, "No multivariate verdict in this range " +
      "(multivariate drift is off for this model, or no window has a row sample yet)."));
    return;
  }
  const name = { pca: "PCA reconstruction error", domain_classifier: "Domain classifier AUC" };
  const items = f.verdicts.map((v) => el("li", { class: v.drifted ? "bad" : "ok", "data-method": v.method },
    `${name[v.method] || v.method}: ${v.drifted ? "drift" : "no drift"} (${fmt(v.statistic)} vs threshold ${fmt(v.threshold)})`));
  node.replaceChildren(el("p", { class: "sub" }, "Window starting " + when(f.window_start)),
    el("ul", { class: "plain", id: "multivariate-verdicts" }, ...items));
  if (f.root_causes.length) {
    const table = causesTable(model, f.root_causes, f.window_start);
    table.id = "root-cause-table";
    node.append(table, el("p", { class: "hint" }, "A feature's part is its share of the domain " +
      "classifier's permutation importance (times the model's importance of it, when given): " +
      "a feature can matter jointly without drifting alone."));
  }
}

async function exampleRows(model, feature, at) {
  const node = document.getElementById("example-rows");
  if (!node) return;
  const path = "/v1/models/" + encodeURIComponent(model) + "/features/" + encodeURIComponent(feature) + "/examples";
  const data = await api(path, at === null ? {} : { window: String(at) });
  if (!data.rows.length) {
    node.replaceChildren(el("p", { class: "nodata" }, data.sampled ?
      `No value outside what the reference saw among the ${data.sampled} sampled rows of the latest window.` :
      "No row sample for this model (it keeps one with multivariate drift or reservoir_size)."));
    return;
  }
  const columns = Object.keys(data.rows[0]);
  const table = el("table", { class: "table", id: "example-table" },
    el("thead", {}, el("tr", {}, ...columns.map((c) => el("th", { class: c === feature ? "bad" : "" }, c === "__id__" ? "id" : c)))),
    el("tbody", {}, ...data.rows.map((r) => el("tr", {}, ...columns.map((c) => el("td", { class: c === feature ? "bad" : "" },
      r[c] === null ? "–" : typeof r[c] === "number" ? fmt(r[c], 4) : String(r[c])))))));
  node.replaceChildren(el("p", { class: "sub" }, `${data.matching} of ${data.sampled} sampled rows of the window ` +
    `starting ${when(data.window_start)} have ${feature} ${data.reason}; the first ${data.rows.length}:`), table);
}

function rowsTable(id, rows, highlight) {
  const columns = Object.keys(rows[0]);
  const cell = (c, v) => el("td", { class: highlight.includes(c) ? "bad" : "" },
    v === null ? "–" : typeof v === "number" ? fmt(v, 4) : String(v));
  return el("table", { class: "table", id },
    el("thead", {}, el("tr", {}, ...columns.map((c) => el("th", { class: highlight.includes(c) ? "bad" : "" }, c === "__id__" ? "id" : c)))),
    el("tbody", {}, ...rows.map((r) => el("tr", {}, ...columns.map((c) => cell(c, r[c]))))));
}

async function misclassified(model) {
  const node = document.getElementById("misclassified");
  if (!node) return;
  const data = await api("/v1/models/" + encodeURIComponent(model) + "/misclassified");
  if (!data.rows.length) {
    node.replaceChildren(el("p", { class: "nodata" }, data.labelled ?
      `No mistake among the ${data.labelled} sampled rows with labels.` :
      "No sampled row with a label yet (labels arrive with log_labels; rows are sampled with multivariate drift or reservoir_size)."));
    return;
  }
  const what = data.kind === "regression" ? "furthest off" : "misclassified";
  node.replaceChildren(el("p", { class: "sub" }, `${data.matching} of ${data.labelled} sampled rows with labels ` +
    `of the window starting ${when(data.window_start)} ${data.kind === "regression" ? "(largest errors first)" : "are wrong"}; ` +
    `the first ${data.rows.length} ${what}:`), rowsTable("misclassified-table", data.rows, ["label"]));
}

// -- controls: range picker, model selector, refresh ---------------------------------------

function controls() {
  const range = document.getElementById("range-select");
  const custom = document.getElementById("custom-range");
  const toLocal = (epoch) => (epoch ? new Date(Number(epoch) * 1000).toISOString().slice(0, 16) : "");
  const sinceIn = document.getElementById("since-input");
  const untilIn = document.getElementById("until-input");
  sinceIn.value = toLocal(sinceIn.dataset.epoch);
  untilIn.value = toLocal(untilIn.dataset.epoch);
  range.addEventListener("change", () => { custom.hidden = range.value !== "custom"; });
  document.getElementById("controls").addEventListener("submit", () => {
    const epoch = (v) => (v ? String(Date.parse(v + ":00Z") / 1000) : "");
    document.getElementById("since-field").value = range.value === "custom" ? epoch(sinceIn.value) : "";
    document.getElementById("until-field").value = range.value === "custom" ? epoch(untilIn.value) : "";
    for (const input of document.querySelectorAll("#controls [name]")) {
      if (!input.value) input.disabled = true;  // keep shared URLs short
    }
  });
  const modelSelect = document.getElementById("model-select");
  if (modelSelect) {
    modelSelect.addEventListener("change", () => { location.href = modelUrl(modelSelect.value); });
  }
  const refresh = Number(PARAMS.get("refresh") || 0);
  if (refresh > 0) setTimeout(() => location.reload(), refresh * 1000);
}

function fail(error) {
  const main = document.querySelector("main");
  main.prepend(el("p", { class: "error", id: "load-error" }, "Could not load data: " + error.message));
}

controls();
const PAGES = { overview, model: modelPage, feature: featurePage, alerts: alertsPage };
PAGES[PAGE.kind]().catch(fail);
