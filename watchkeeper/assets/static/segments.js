// watchkeeper dashboard, model page: the segments view (MonitorConfig.segments). The weakest
// segments of the latest window with labels, ranked by the lower bound of how much worse each
// performs than the rest of the traffic, with its counts and 95% interval; drift per segment;
// the confusion matrix of the selected segment. Loaded after dashboard.js (its helpers).
"use strict";

const SEGMENT_NAMES = ["segment_rows", "segment_drifted", "segment_drift_share",
  "segment_labelled_rows", "segment_accuracy", "segment_mae", "segment_performance_drop",
  "segment_performance_drop_low", "segment_performance_drop_high", "segment_flagged",
  "segment_rank"];

// points of every closed window (labels or not), read at the latest window with rows
const BY_WINDOW = new Set(["segment_rows", "segment_drifted", "segment_drift_share"]);

function latestAt(series, name) {  // the newest window start holding a point of `name`
  let at = null;
  for (const x of series) {
    if (x.name !== name) continue;
    x.t.forEach((t, i) => { if (x.v[i] !== null && (at === null || t > at)) at = t; });
  }
  return at;
}

function segmentTable(series) {  // {"column\u0000segment": {name: value}} at each name's latest window
  const labelled = latestAt(series, "segment_rank");
  const counted = latestAt(series, "segment_rows");
  const rows = {};
  for (const x of series) {
    const at = BY_WINDOW.has(x.name) ? counted : labelled;
    const i = x.t.indexOf(at);
    if (i < 0 || !x.labels.segment_column) continue;
    const key = x.labels.segment_column + "\u0000" + x.labels.segment;
    const row = (rows[key] ||= { column: x.labels.segment_column, segment: x.labels.segment });
    row[x.name] = x.v[i];
  }
  return { rows: Object.values(rows), labelled, counted };
}

async function segmentsView(model) {
  const base = "/v1/models/" + encodeURIComponent(model);
  const data = await api(base + "/series", { name: SEGMENT_NAMES });
  const { rows, labelled, counted } = segmentTable(data.series);
  const body = document.querySelector("#segments-table tbody");
  body.replaceChildren();
  const note = document.getElementById("segments-note");
  if (!rows.length) {
    note.textContent = "No segment data in this range (set segments: [column, …] on the model).";
    return;
  }
  const metric = rows.some((r) => r.segment_mae !== undefined) ? "segment_mae" : "segment_accuracy";
  document.getElementById("segments-metric").textContent = metric === "segment_mae" ? "MAE" : "accuracy";
  note.textContent = (labelled === null ? "No labelled window yet: rows and drift of the window of " + when(counted) :
    "Performance of the window of " + when(labelled) + " (the latest with labels); rows and drift of " +
    when(counted)) + ". Each segment is compared with the same segment of the reference when the " +
    "reference has labels, else with the rest of the traffic of its column.";
  // weakest first across segment columns: by the lower bound of the drop (what each column's
  // segment_rank sorts on), segments without labels last
  const low = (r) => r.segment_performance_drop_low ?? -Infinity;
  rows.sort((a, b) => low(b) - low(a) || (a.column + "=" + a.segment < b.column + "=" + b.segment ? -1 : 1));
  rows.forEach((r, i) => { r.position = i + 1; });
  for (const r of rows) {
    const flagged = r.segment_flagged === 1;
    const interval = r.segment_performance_drop_low === undefined ? "–" :
      fmt(r.segment_performance_drop_low) + " to " + fmt(r.segment_performance_drop_high);
    const tr = el("tr", { "data-segment": r.column + "=" + r.segment, class: flagged ? "weak" : "" },
      el("td", {}, r.segment_rank === undefined ? "–" : String(r.position)),
      el("td", {}, r.column + " = " + r.segment),
      el("td", { class: "num" }, r.segment_rows === undefined ? "–" : fmt(r.segment_rows, 6)),
      el("td", { class: "num" }, r.segment_labelled_rows === undefined ? "–" : fmt(r.segment_labelled_rows, 6)),
      el("td", { class: "num" }, metric === "segment_mae" ? fmt(r.segment_mae) : pct(r.segment_accuracy)),
      el("td", { class: "num " + (flagged ? "bad" : "") }, fmt(r.segment_performance_drop)),
      el("td", { class: "num" }, interval),
      el("td", { class: flagged ? "bad" : "" }, r.segment_flagged === undefined ? "–" : flagged ? "weak" : "ok"),
      el("td", { class: r.segment_drifted ? "bad" : "" }, r.segment_drifted === undefined ? "–" :
        r.segment_drifted ? "drifted (" + pct(r.segment_drift_share) + " of features)" : "ok"));
    tr.addEventListener("click", () => segmentConfusion(base, r, labelled));
    body.append(tr);
  }
  const first = rows.find((r) => r.segment_rank !== undefined);
  if (first && metric === "segment_accuracy") await segmentConfusion(base, first, labelled);
}

async function segmentConfusion(base, row, at) {
  const box = document.getElementById("segment-confusion");
  if (at === null) return;
  const data = await api(base + "/series", { name: ["segment_confusion"],
    label: ["segment_column:" + row.column, "segment:" + row.segment] });
  const cells = {};
  const classes = new Set();
  for (const x of data.series) {
    const i = x.t.indexOf(at);
    if (i < 0) continue;
    cells[x.labels.actual + "\u0000" + x.labels.predicted] = x.v[i];
    classes.add(x.labels.actual);
    classes.add(x.labels.predicted);
  }
  const names = [...classes].sort();
  const head = el("tr", {}, el("th", {}, "actual \\ predicted"), ...names.map((c) => el("th", {}, c)));
  const table = el("table", { class: "table confusion", id: "segment-confusion-table" }, el("thead", {}, head),
    el("tbody", {}, ...names.map((a) => el("tr", {}, el("th", {}, a),
      ...names.map((p) => el("td", { class: "num" + (a === p ? " diag" : "") },
        fmt(cells[a + "\u0000" + p] ?? 0, 6)))))));
  box.replaceChildren(el("h3", {}, "Confusion in " + row.column + " = " + row.segment), table);
}

if (PAGE.kind === "model" && document.getElementById("segments-table")) {
  segmentsView(PAGE.model).catch(fail);
}
