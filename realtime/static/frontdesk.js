// The front-desk dashboard: today's arrivals, departures and in-house guests, occupancy of the next
// 14 nights (kept per room type and night by version) and a live feed of holds, bookings, changes.
(function () {
  "use strict";
  const { LiveClient, el, fillProperties, statusLine } = window.ResortLive;
  const { t, apply, lang } = window.ResortI18n;
  const query = new URLSearchParams(location.search);
  const status = statusLine(document.getElementById("status"));
  const live = new LiveClient(status);
  let state = null;

  function name(id) {
    const p = state && state.products.find((x) => x.product_id === id);
    return p ? (lang === "ko" && p.name_ko) || p.name : id.slice(0, 8);
  }
  function stays(id, rows) {
    const list = document.getElementById(id);
    list.replaceChildren(...(rows.length ? rows.map((b) => el("li", {}, b.booking_id + " · " + b.check_in + " → " + b.check_out))
                                         : [el("li", { class: "empty" }, t("desk.empty"))]));
  }
  function occupancy() {
    const nights = new Map();
    state.rows.forEach((r) => {
      const n = nights.get(r.night) || { used: 0, capacity: 0 };
      n.used += r.held + r.sold; n.capacity += r.capacity; nights.set(r.night, n);
    });
    const body = document.querySelector("#occupancy tbody");
    body.replaceChildren(...[...nights.keys()].sort().map((night) => {
      const n = nights.get(night);
      const pct = n.capacity ? Math.round((100 * n.used) / n.capacity) : 0;
      const bar = el("div", { class: "bar" }); bar.style.width = pct + "%";
      return el("tr", { dataset: { night } }, el("th", {}, night.slice(5)),
                el("td", { class: "meter" }, bar), el("td", { class: "pct" }, pct + "% (" + n.used + "/" + n.capacity + ")"));
    }));
  }
  function describe(d) {
    if (d.kind === "hold") return d.event_type + " · " + name(d.product_id) + " × " + d.quantity + " · " + d.check_in + " → " + d.check_out;
    if (d.kind === "booking") return d.event_type + " · " + d.booking_id + (d.reason ? " · " + d.reason : "");
    return (d.cause || "inventory") + " · " + name(d.product_id) + " · " + d.nights.map((n) => n.night.slice(5) + " " + (n.capacity - n.held - n.sold)).join(", ");
  }
  function feed(data, seq, at) {
    const item = el("li", { class: "feed-" + data.kind, dataset: { kind: data.kind, seq: String(seq), hold: data.hold_id || "" } },
                    el("time", {}, new Date(at || Date.now()).toLocaleTimeString(lang)), " ",
                    el("strong", {}, t("kind." + data.kind)), " ", describe(data));
    const list = document.getElementById("feed");
    list.prepend(item);
    while (list.children.length > 50) list.lastChild.remove();
  }
  function inventory(data) {
    data.nights.forEach((n) => {
      const row = state.rows.find((r) => r.product_id === data.product_id && r.night === n.night);
      if (row && n.version > row.version) Object.assign(row, n);
    });
    occupancy();
  }
  function onSnapshot(data) {
    state = { products: data.products, rows: data.occupancy };
    stays("arrivals", data.arrivals); stays("departures", data.departures); stays("in-house", data.in_house);
    occupancy();
    document.getElementById("feed").replaceChildren();
    data.feed.forEach((f) => feed(f.data, f.seq, f.t));
  }
  function onUpdate(data, frame) {
    if (data.kind === "inventory") inventory(data);
    feed(data, frame.seq);
  }
  async function start() {
    apply();
    const select = document.getElementById("property");
    await fillProperties(select, query.get("property"), lang);
    let channel = null;
    const watch = () => {
      if (channel) live.unsubscribe(channel);
      channel = "frontdesk:" + select.value;
      live.subscribe(channel, {}, {
        onSnapshot, onUpdate, onError: (frame) => { status("refused"); document.getElementById("status").title = frame.detail; },
      });
    };
    select.addEventListener("change", watch);
    if (select.value) watch();
  }
  start();
})();
