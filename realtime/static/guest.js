// The guest page: live availability of a resort over a date range, and a booking's progress.
(function () {
  "use strict";
  const { LiveClient, el, fillProperties, statusLine } = window.ResortLive;
  const { t, apply, lang } = window.ResortI18n;
  // The saga's progress: created (pending), rooms being secured (step convert), payment (step pay), confirmed.
  const STEPS = ["requested", "convert", "pay", "confirmed"];
  function stageOf(state) {
    if (state.status === "confirmed") return 3;
    if (state.status !== "pending") return -1;
    return { convert: 1, pay: 2 }[state.step] || 0;
  }
  const query = new URLSearchParams(location.search);
  const form = document.getElementById("query");
  const table = document.getElementById("availability");
  const live = new LiveClient(statusLine(document.getElementById("status")));
  let channel = null;

  function iso(date) { return date.toISOString().slice(0, 10); }
  function nightsOf(from, to) {
    const out = [];
    for (let d = new Date(from + "T00:00:00Z"); iso(d) < to; d.setUTCDate(d.getUTCDate() + 1)) out.push(iso(d));
    return out;
  }
  function price(value) { return value === null || value === undefined ? t("guest.none") : value.toLocaleString(lang); }
  function cellText(item) { return item.free + " " + t("guest.free") + " · " + price(item.price); }

  function render(data) {
    const nights = nightsOf(data.from, data.to);
    table.replaceChildren();
    const head = el("tr", {}, el("th", {}, t("guest.product")), ...nights.map((n) => el("th", {}, n.slice(5))));
    table.append(el("thead", {}, head));
    const body = el("tbody");
    data.products.forEach((p) => {
      const row = el("tr", { dataset: { product: p.product_id } }, el("th", {}, (lang === "ko" && p.name_ko) || p.name));
      nights.forEach((n) => row.append(el("td", { id: "cell-" + p.product_id + "-" + n, dataset: { version: "-1" } },
                                          t("guest.none"))));
      body.append(row);
    });
    table.append(body);
    data.items.forEach((item) => apply_(item, false));
  }
  function apply_(item, flash) {
    const cell = document.getElementById("cell-" + item.product_id + "-" + item.night);
    if (!cell || Number(cell.dataset.version) >= item.version) return;  // outside the range, or not newer
    cell.dataset.version = String(item.version);
    cell.dataset.free = String(item.free);
    cell.textContent = cellText(item);
    cell.classList.toggle("soldout", item.free === 0);
    if (flash) { cell.classList.remove("changed"); void cell.offsetWidth; cell.classList.add("changed"); }
  }

  function watch(property, from, to) {
    if (channel) live.unsubscribe(channel);
    channel = "availability:" + property;
    live.subscribe(channel, { from, to }, {
      onSnapshot: render,
      onUpdate: (data) => data.items.forEach((item) => apply_(item, true)),
      onError: (frame) => { table.replaceChildren(el("caption", {}, frame.detail)); },
    });
    remember({ property, from, to, lang });
  }

  function remember(values) {
    // The address keeps what is shown (a reload or a shared link shows the same), other parameters kept.
    const params = new URLSearchParams(location.search);
    Object.entries(values).forEach(([k, v]) => params.set(k, v));
    history.replaceState(null, "", "?" + params.toString());
  }

  function follow(bookingId) {
    remember({ booking: bookingId });
    const list = document.getElementById("steps");
    const note = document.getElementById("booking-note");
    list.replaceChildren(...STEPS.map((s) => el("li", { dataset: { step: s } }, t("step." + s))));
    const show = (state) => {
      if (!state || !state.status) { note.textContent = t("guest.no_booking"); return; }
      const at = stageOf(state);
      list.querySelectorAll("li").forEach((li, i) => {
        li.classList.toggle("done", at >= 0 && i <= at);
        li.classList.toggle("current", i === at);
      });
      note.textContent = t("status." + state.status) + (state.reason ? " — " + state.reason : "");
      note.dataset.status = state.status;
    };
    live.subscribe("booking:" + bookingId, {}, { onSnapshot: show, onUpdate: show,
                                                 onError: (frame) => { note.textContent = frame.detail; } });
  }

  async function start() {
    apply();
    document.getElementById("signin").href = "/auth/login?return_to=" + encodeURIComponent(location.pathname);
    const select = form.elements.property;
    await fillProperties(select, query.get("property"), lang);
    const today = new Date();
    form.elements.from.value = query.get("from") || iso(today);
    form.elements.to.value = query.get("to") || iso(new Date(today.getTime() + 7 * 86400000));
    form.addEventListener("submit", (e) => { e.preventDefault(); watch(select.value, form.elements.from.value, form.elements.to.value); });
    if (select.value) watch(select.value, form.elements.from.value, form.elements.to.value);
    const bookingForm = document.getElementById("booking-form");
    bookingForm.addEventListener("submit", (e) => { e.preventDefault(); follow(bookingForm.elements.booking.value.trim()); });
    if (query.get("booking")) { bookingForm.elements.booking.value = query.get("booking"); follow(query.get("booking")); }
  }
  start();
})();
