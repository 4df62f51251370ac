// One /live socket: subscriptions survive reconnects (resumed with `since`), `reauth` refreshes the
// session cookie and reconnects, updates are handed to each subscription's callbacks.
(function () {
  "use strict";
  function csrf() {
    const hit = document.cookie.split("; ").find((c) => c.startsWith("resort_csrf="));
    return hit ? decodeURIComponent(hit.slice("resort_csrf=".length)) : "";
  }
  class LiveClient {
    constructor(onStatus) {
      this.subs = new Map();
      this.onStatus = onStatus || function () {};
      this.delay = 500;
      this.connect();
    }
    connect() {
      const scheme = location.protocol === "https:" ? "wss://" : "ws://";
      this.ws = new WebSocket(scheme + location.host + "/live");
      this.onStatus("connecting");
      this.ws.onopen = () => {
        this.delay = 500;
        this.onStatus("live");
        this.subs.forEach((sub, channel) => this.sendSubscribe(channel, sub));
      };
      this.ws.onmessage = (event) => this.dispatch(JSON.parse(event.data));
      this.ws.onclose = (event) => {
        this.onStatus(event.code === 4403 || event.code === 4003 ? "refused" : "offline");
        if (event.code !== 4003) {
          setTimeout(() => this.connect(), this.delay);
          this.delay = Math.min(this.delay * 2, 10000);
        }
      };
    }
    dispatch(frame) {
      if (frame.type === "reauth") { this.renew(); return; }
      const sub = this.subs.get(frame.channel);
      if (frame.type === "error") { if (sub && sub.onError) sub.onError(frame); return; }
      if (!sub || (frame.type !== "snapshot" && frame.type !== "update")) return;
      if (frame.type === "update" && sub.epoch === frame.epoch && frame.seq <= sub.seq) return;
      sub.epoch = frame.epoch;
      sub.seq = frame.seq;
      (frame.type === "snapshot" ? sub.onSnapshot : sub.onUpdate)(frame.data, frame);
    }
    async renew() {
      // The access cookie is HttpOnly: refresh it, then reconnect; subscriptions resume where they were.
      try {
        await fetch("/auth/token/refresh", { method: "POST", credentials: "same-origin",
                                              headers: { "X-CSRF-Token": csrf() } });
      } finally { this.ws.close(); }
    }
    subscribe(channel, params, callbacks) {
      const sub = Object.assign({ params: params || {}, epoch: null, seq: null }, callbacks);
      const old = this.subs.get(channel);
      if (old) this.unsubscribe(channel);
      this.subs.set(channel, sub);
      if (this.ws.readyState === WebSocket.OPEN) this.sendSubscribe(channel, sub);
    }
    unsubscribe(channel) {
      this.subs.delete(channel);
      if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ op: "unsubscribe", channel }));
    }
    sendSubscribe(channel, sub) {
      const op = Object.assign({ op: "subscribe", channel }, sub.params);
      if (sub.epoch !== null) op.since = { epoch: sub.epoch, seq: sub.seq };
      this.ws.send(JSON.stringify(op));
    }
  }
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k === "dataset") Object.assign(node.dataset, v); else node.setAttribute(k, v);
    });
    children.forEach((c) => node.append(c));
    return node;
  }
  async function properties() {
    const response = await fetch("/properties?per_page=100");
    return response.ok ? (await response.json()).items : [];
  }
  async function fillProperties(select, wanted, lang) {
    // The first page of resorts, and the one asked for by ?property= even when it is not among them.
    (await properties()).forEach((p) => select.append(el("option", { value: p.id }, (lang === "ko" && p.name_ko) || p.name)));
    if (wanted && ![...select.options].some((o) => o.value === wanted)) select.append(el("option", { value: wanted }, wanted));
    if (wanted) select.value = wanted;
  }
  function statusLine(node) {
    return (state) => { node.dataset.state = state; node.textContent = window.ResortI18n.t("status." + state); };
  }
  window.ResortLive = { LiveClient, el, fillProperties, statusLine };
})();
