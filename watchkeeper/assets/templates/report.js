// watchkeeper report: draw each column's reference-vs-current distribution with the
// dashboard's chart helpers (charts.js, inlined before this script).
"use strict";

(function drawReport() {
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const config = { displaylogo: false, responsive: true };
  for (const column of data.columns) {
    const node = document.getElementById("chart-" + column.index);
    if (!node) continue;
    const d = column.distribution;
    if (!d) {
      node.replaceChildren(el("p", { class: "nodata" },
        "No distribution to draw: text is compared by its lengths."));
      continue;
    }
    distributionChart(node, {
      kind: d.kind, edges: d.edges, bins: d.labels, reference: d.reference,
      current: d.current, feature: column.name, current_name: data.current_name,
    }, config);
  }
  document.body.dataset.drawn = "true";  // for tests and screenshots: every chart is drawn
})();
