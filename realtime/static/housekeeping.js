// Housekeeping on a phone: the rooms of a property with their state; a tap moves a room to the next state
// (PUT /housekeeping/rooms/{id}/state with the session cookie and its CSRF token).
(function () {
  "use strict";
  const { el, fillProperties, statusLine } = window.ResortLive;
  const { t, apply, lang } = window.ResortI18n;
  const query = new URLSearchParams(location.search);
  const status = statusLine(document.getElementById("status"));
  const NEXT = { dirty: ["clean", "out_of_order"], clean: ["inspected", "dirty"], inspected: ["dirty"],
                 out_of_order: ["dirty"] };

  function csrf() {
    const found = document.cookie.split("; ").find((c) => c.startsWith("resort_csrf="));
    return found ? decodeURIComponent(found.slice("resort_csrf=".length)) : "";
  }
  async function load(property) {
    const answer = await fetch("/housekeeping/" + encodeURIComponent(property) + "/rooms", { credentials: "same-origin" });
    if (!answer.ok) { status("refused"); return; }
    status("live");
    const rooms = await answer.json();
    document.getElementById("rooms").replaceChildren(...rooms.map((room) => el("li", { dataset: { room: room.id, state: room.housekeeping } },
      el("span", { class: "number" }, room.number),
      el("span", { class: "state" }, t("hk." + room.housekeeping)),
      ...NEXT[room.housekeeping].map((state) => {
        const button = el("button", { type: "button", dataset: { state } }, t("hk." + state));
        button.addEventListener("click", () => change(property, room.id, state));
        return button;
      }))));
  }
  async function change(property, room, state) {
    const answer = await fetch("/housekeeping/rooms/" + room + "/state", {
      method: "PUT", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() }, body: JSON.stringify({ state }) });
    if (!answer.ok) status("refused");
    await load(property);
  }
  async function start() {
    apply();
    const select = document.getElementById("property");
    await fillProperties(select, query.get("property"), lang);
    select.addEventListener("change", () => load(select.value));
    if (select.value) await load(select.value);
  }
  start();
})();
