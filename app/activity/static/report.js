// The revenue team's report page: reads the JSON reports (same admin session) and draws them with Chart.js.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const charts = {};
  const status = (state, text) => { $("status").dataset.state = state; $("status").textContent = text || ""; };

  function defaults() {
    const params = new URLSearchParams(location.search);
    const today = new Date();
    const iso = (d) => d.toISOString().slice(0, 10);
    $("property").value = params.get("property") || "";
    $("start").value = params.get("start") || iso(new Date(today.getTime() - 29 * 86400000));
    $("end").value = params.get("end") || iso(new Date(today.getTime() + 60 * 86400000));
  }

  async function getJSON(path, params) {
    const response = await fetch(path + "?" + new URLSearchParams(params), { credentials: "same-origin" });
    if (!response.ok) {
      const problem = await response.json().catch(() => ({}));
      throw new Error(problem.code || String(response.status));
    }
    return response.json();
  }

  function draw(id, config) {
    if (charts[id]) charts[id].destroy();
    charts[id] = new Chart($(id), config);
    $(id).dataset.points = String(config.data.datasets.reduce((n, d) => n + d.data.filter((v) => v > 0).length, 0));
  }

  function drawFunnel(report) {
    const t = report.totals;
    draw("funnel-chart", { type: "bar", options: { animation: false, indexAxis: "y" },
      data: { labels: ["Searches", "Views", "Holds", "Bookings"],
              datasets: [{ label: "events", data: [t.search, t.view, t.hold, t.booking], backgroundColor: "#3b6fd8" }] } });
    const pct = (v) => (v === null ? "–" : (100 * v).toFixed(1) + " %");
    $("funnel-rates").textContent = `view/search ${pct(t.view_per_search)} · hold/view ${pct(t.hold_per_view)}` +
      ` · booking/hold ${pct(t.booking_per_hold)} · zero-result searches ${t.zero_result}`;
  }

  function drawDemand(report) {
    const n = report.nights;
    draw("demand-chart", { type: "line", options: { animation: false },
      data: { labels: n.map((r) => r.night),
              datasets: [{ label: "interest", data: n.map((r) => r.interest), borderColor: "#9aa5b8" },
                         { label: "holds", data: n.map((r) => r.holds), borderColor: "#e0a100" },
                         { label: "bookings", data: n.map((r) => r.bookings), borderColor: "#2c8a4b" }] } });
  }

  function drawZero(report) {
    draw("zero-chart", { type: "bar", options: { animation: false, indexAxis: "y" },
      data: { labels: report.items.map((r) => r.query),
              datasets: [{ label: "searches with no result", data: report.items.map((r) => r.zero), backgroundColor: "#b3261e" }] } });
  }

  function fillPairs(report) {
    const body = $("pairs").querySelector("tbody");
    body.replaceChildren(...report.items.map((p) => {
      const row = document.createElement("tr");
      for (const text of [p.a_name || p.a, p.b_name || p.b, String(p.count)]) {
        const cell = document.createElement("td");
        cell.textContent = text;
        row.append(cell);
      }
      return row;
    }));
  }

  function csvLinks(params) {
    for (const link of document.querySelectorAll("a.csv")) {
      const q = new URLSearchParams({ ...params, ...(link.dataset.zero ? { zero: "true" } : {}) });
      link.href = "/admin/analytics/export/" + link.dataset.report + "?" + q;
    }
  }

  async function load() {
    const params = { property: $("property").value, start: $("start").value, end: $("end").value };
    csvLinks(params);
    if (!params.property) { status("idle", "Enter a resort id"); return; }
    status("loading", "Loading…");
    try {
      const [funnel, demand, zero, pairs] = await Promise.all([
        getJSON("/admin/analytics/funnel", params), getJSON("/admin/analytics/demand", params),
        getJSON("/admin/analytics/searches", { zero: "true", limit: "15" }), getJSON("/admin/analytics/pairs", { property: params.property, limit: "10" })]);
      drawFunnel(funnel); drawDemand(demand); drawZero(zero); fillPairs(pairs);
      status("ready", "");
    } catch (error) {
      status("error", "Could not load the reports: " + error.message);
    }
  }

  $("filters").addEventListener("submit", (event) => { event.preventDefault(); load(); });
  defaults();
  load();
})();
