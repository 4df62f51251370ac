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
  // The desk's lists: every stay of today in exactly one, by the rule of app/frontdesk/domain.py desk_list.
  const LISTS = { arrivals: "arrivals", in_house: "in-house", departures: "departures", departed: "departed",
                  no_shows: "no-shows", cancelled: "cancelled" };
  function listOf(s, day) {
    if (s.status === "checked_in") return day < s.check_in ? null : day >= s.check_out ? "departures" : "in_house";
    if (s.status === "checked_out") return day === (s.left_on || s.check_out) ? "departed" : null;
    if (!(s.check_in <= day && day < s.check_out)) return null;
    return { confirmed: "arrivals", no_show: "no_shows", cancelling: "cancelled", cancelled: "cancelled" }[s.status] || null;
  }
  function label(s) {
    const rooms = (s.rooms || []).map((r) => r.number).join(", ");
    return (s.guest_name ? s.guest_name + " · " : "") + (rooms ? rooms + " · " : "") + s.check_in + " → " + s.check_out;
  }
  function stays() {
    Object.entries(LISTS).forEach(([name, id]) => {
      const rows = [...state.stays.values()].filter((s) => listOf(s, state.today) === name);
      document.getElementById(id).replaceChildren(...(rows.length
        ? rows.map((s) => el("li", { dataset: { booking: s.booking_id, status: s.status } }, label(s)))
        : [el("li", { class: "empty" }, t("desk.empty"))]));
    });
  }
  function booking(data) {
    if (!data.booking_id || !data.check_in) return;
    const known = state.stays.get(data.booking_id) || {};
    const left = data.status === "checked_out" && known.status !== "checked_out" ? state.today : known.left_on;
    state.stays.set(data.booking_id, Object.assign({}, known, {
      booking_id: data.booking_id, status: data.status, check_in: data.check_in, check_out: data.check_out,
      confirmation_code: data.confirmation_code, left_on: left }));
    stays();
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
    if (d.kind === "housekeeping") return d.number + " · " + t("hk." + d.housekeeping);
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
    state = { products: data.products, rows: data.occupancy, today: data.today, stays: new Map() };
    Object.keys(LISTS).forEach((name) => (data[name] || []).forEach((s) => state.stays.set(s.booking_id, s)));
    stays();
    occupancy();
    document.getElementById("feed").replaceChildren();
    data.feed.forEach((f) => feed(f.data, f.seq, f.t));
  }
  function onUpdate(data, frame) {
    if (data.kind === "inventory") inventory(data);
    if (data.kind === "booking") booking(data);
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
