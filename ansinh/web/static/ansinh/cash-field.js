/* Field recording of cash payments (issue 12): the day's list kept in IndexedDB, receipts queued
   in an IndexedDB outbox with an idempotency key each and sent by the page when online (on load,
   on the "online" event, and by the "send now" button). What a phone keeps: name, amount,
   village, payee, the listed representatives' names and the last four digits of the CCCDs. A
   person's record leaves the device once the server answered it; the day's list is cleared at
   the end of the day. Plain JS, no framework. */
(function () {
  "use strict";
  const root = document.getElementById("cash-field");
  if (!root) return;
  const T = JSON.parse(document.getElementById("cash-field-texts").textContent);
  const LIST_ID = Number(root.dataset.list);
  const DATA_URL = root.dataset.dataUrl;
  const POST_URL = root.dataset.postUrl; // ends with /0/receipt: the entry id replaces the 0
  const SW_URL = root.dataset.swUrl;
  const SW_SCOPE = root.dataset.swScope;
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const money = (n) => new Intl.NumberFormat("vi-VN").format(n) + " đ";
  const today = () => {
    const d = new Date();
    return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
  };
  const shown = new Map(); // entry id → {status, message}: what the staff member sees this session

  // --- IndexedDB -------------------------------------------------------------------------------
  let dbp = null;
  function db() {
    if (!dbp) {
      dbp = new Promise((resolve, reject) => {
        const open = indexedDB.open("ansinh-cash-field", 1);
        open.onupgradeneeded = () => {
          const d = open.result;
          d.createObjectStore("entries", { keyPath: "id" });
          d.createObjectStore("outbox", { keyPath: "key" });
          d.createObjectStore("meta", { keyPath: "k" });
        };
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
    }
    return dbp;
  }
  function tx(store, mode, fn) {
    return db().then(
      (d) =>
        new Promise((resolve, reject) => {
          const t = d.transaction(store, mode);
          const result = fn(t.objectStore(store));
          t.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
          t.onerror = () => reject(t.error);
        })
    );
  }
  const all = (store) => tx(store, "readonly", (s) => s.getAll());
  const get = (store, key) => tx(store, "readonly", (s) => s.get(key));
  const put = (store, value) => tx(store, "readwrite", (s) => s.put(value));
  const del = (store, key) => tx(store, "readwrite", (s) => s.delete(key));
  const clear = (store) => tx(store, "readwrite", (s) => s.clear());

  // --- the day's list ----------------------------------------------------------------------------
  async function endOfDay() {
    const meta = await get("meta", "list");
    if (meta && (meta.day !== today() || meta.list_id !== LIST_ID)) {
      await clear("entries"); // another day or another list: the stored list goes
      for (const item of await all("outbox")) if (item.status !== "queued") await del("outbox", item.key);
      await del("meta", "list");
    }
  }

  async function load() {
    await endOfDay();
    let fresh = null;
    try {
      const r = await fetch(DATA_URL, { credentials: "same-origin", cache: "no-store" });
      const type = r.headers.get("content-type") || "";
      if (r.ok && !r.redirected && type.includes("json")) fresh = await r.json();
    } catch (e) {
      fresh = null;
    }
    if (fresh) {
      await clear("entries");
      for (const e of fresh.entries) await put("entries", Object.assign({ list_id: LIST_ID }, e));
      await put("meta", { k: "list", list_id: LIST_ID, day: today(), name: fresh.name, month: fresh.month });
      setNet(T.online);
    } else {
      setNet(T.offline_list);
    }
  }

  // --- what the page shows ---------------------------------------------------------------------
  const net = document.getElementById("cash-field-net");
  function setNet(text) {
    if (net) net.textContent = text;
  }
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else node.setAttribute(k, v);
    });
    children.forEach((c) => c && node.appendChild(c));
    return node;
  }
  const BADGES = { queued: "text-bg-warning", sent: "text-bg-success", conflict: "text-bg-danger", refused: "text-bg-danger" };

  async function render() {
    const entries = (await all("entries")).filter((e) => e.list_id === LIST_ID).sort((a, b) => a.position - b.position);
    const outbox = await all("outbox");
    for (const item of outbox) shown.set(item.entry_id, { status: item.status, message: item.message || "", name: item.name });
    const box = document.getElementById("cash-field-entries");
    box.replaceChildren();
    const seen = new Set();
    for (const e of entries) {
      seen.add(e.id);
      box.appendChild(card(e));
    }
    for (const [id, s] of shown) if (!seen.has(id)) box.appendChild(card({ id: id, name: s.name, done: true }));
    const queued = outbox.filter((i) => i.status === "queued").length;
    document.getElementById("cash-field-queued").textContent = String(queued);
    if (!entries.length && !shown.size) box.appendChild(el("p", { class: "text-secondary", text: T.empty }));
  }

  function card(e) {
    const s = shown.get(e.id);
    const c = el("div", { class: "card mb-2 cash-entry", "data-entry": String(e.id) });
    const body = el("div", { class: "card-body p-2" });
    c.appendChild(body);
    const head = el("div", { class: "d-flex justify-content-between align-items-start gap-2" });
    head.appendChild(el("div", {}, el("strong", { text: e.name }), e.village ? el("div", { class: "small text-secondary", text: e.village }) : null));
    if (e.amount) head.appendChild(el("div", { class: "fs-5 fw-bold text-nowrap", text: money(e.amount) }));
    body.appendChild(head);
    if (e.payee && e.payee !== e.name) body.appendChild(el("div", { class: "small", text: T.payee + ": " + e.payee }));
    if (s) {
      body.appendChild(el("span", { class: "badge entry-status " + (BADGES[s.status] || "text-bg-secondary"), "data-status": s.status, text: T.status[s.status] || s.status }));
      if (s.message) body.appendChild(el("div", { class: "small mt-1 entry-message", text: s.message }));
    }
    if (!e.done && (!s || s.status === "refused")) body.appendChild(actions(e));
    return c;
  }

  function actions(e) {
    const wrap = el("div", { class: "mt-2" });
    const paid = el("button", { type: "button", class: "btn btn-success btn-sm me-2 js-paid", text: T.paid });
    const notPaid = el("button", { type: "button", class: "btn btn-outline-secondary btn-sm js-not-paid", text: T.not_paid });
    wrap.append(paid, notPaid);
    paid.addEventListener("click", () => wrap.replaceChildren(paidForm(e)));
    notPaid.addEventListener("click", () => wrap.replaceChildren(notPaidForm(e)));
    return wrap;
  }

  function paidForm(e) {
    const f = el("form", { class: "vstack gap-2 js-paid-form" });
    const who = el("select", { class: "form-select", name: "receiver", "aria-label": T.receiver });
    who.appendChild(el("option", { value: "beneficiary", text: e.name + " (" + T.beneficiary + ")" }));
    (e.representatives || []).forEach((r) => who.appendChild(el("option", { value: "rep:" + r.id, text: r.name + " (" + T.representative + ")" })));
    const cccd = el("input", { class: "form-control", name: "cccd", inputmode: "numeric", autocomplete: "off", maxlength: "12", placeholder: T.cccd_hint, "aria-label": T.cccd });
    const note = el("input", { class: "form-control", name: "note", maxlength: "255", placeholder: T.note, "aria-label": T.note });
    const err = el("div", { class: "text-danger small", role: "alert" });
    f.append(el("label", { class: "form-label mb-0 small", text: T.receiver }), who, el("label", { class: "form-label mb-0 small", text: T.cccd }), cccd, note, err, el("button", { type: "submit", class: "btn btn-primary", text: T.record }));
    f.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const rep = who.value.startsWith("rep:") ? (e.representatives || []).find((r) => "rep:" + r.id === who.value) : null;
      const onRecord = rep ? rep.cccd : e.cccd;
      const digits = cccd.value.replace(/\D/g, "");
      if (onRecord) {
        if (digits.length !== 4 && digits.length !== 12) return (err.textContent = T.cccd_length);
        if (digits.slice(-4) !== onRecord.slice(-4)) return (err.textContent = T.cccd_mismatch);
      } else if (!note.value.trim()) {
        return (err.textContent = T.no_cccd_note);
      }
      queue(e, {
        outcome: "paid",
        receiver_kind: rep ? "representative" : "beneficiary",
        representation_id: rep ? rep.id : null,
        receiver_cccd: digits.slice(-4), // the phone keeps no full CCCD: the last 4 digits are checked
        note: note.value.trim(),
      });
    });
    return f;
  }

  function notPaidForm(e) {
    const f = el("form", { class: "vstack gap-2 js-not-paid-form" });
    const reason = el("select", { class: "form-select", name: "reason", "aria-label": T.reason });
    Object.entries(T.reasons).forEach(([v, label]) => reason.appendChild(el("option", { value: v, text: label })));
    const note = el("input", { class: "form-control", name: "note", maxlength: "255", placeholder: T.note, "aria-label": T.note });
    f.append(reason, note, el("button", { type: "submit", class: "btn btn-secondary", text: T.record }));
    f.addEventListener("submit", (ev) => {
      ev.preventDefault();
      queue(e, { outcome: "not_paid", reason: reason.value, note: note.value.trim() });
    });
    return f;
  }

  // --- the outbox ----------------------------------------------------------------------------------
  async function queue(e, payload) {
    payload.occurred_at = new Date().toISOString();
    payload.device = (navigator.userAgent || "").slice(0, 64);
    const item = { key: crypto.randomUUID(), entry_id: e.id, name: e.name, payload: payload, status: "queued", message: "" };
    for (const old of await all("outbox")) if (old.entry_id === e.id && old.status === "refused") await del("outbox", old.key);
    await put("outbox", item);
    shown.set(e.id, { status: "queued", message: "", name: e.name });
    await render();
    send();
  }

  let sending = false;
  async function send() {
    if (sending) return;
    sending = true;
    try {
      const items = (await all("outbox")).filter((i) => i.status === "queued");
      for (const item of items) {
        let r;
        try {
          r = await fetch(POST_URL.replace(/\/0\/receipt$/, "/" + item.entry_id + "/receipt"), {
            method: "POST",
            credentials: "same-origin",
            headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), "Idempotency-Key": item.key },
            body: JSON.stringify(Object.assign({ idempotency_key: item.key }, item.payload)),
          });
        } catch (e) {
          setNet(T.offline_queued);
          break; // no connection: everything stays queued
        }
        const type = r.headers.get("content-type") || "";
        if (r.redirected || !type.includes("json")) {
          setNet(T.signed_out);
          break;
        }
        const body = await r.json().catch(() => ({}));
        if (r.status === 201) item.status = "sent";
        else if (r.status === 409) item.status = "conflict";
        else if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429) item.status = "refused";
        else break; // the server is unwell: try again later
        item.message = body.message || (body.errors || []).join(" ");
        item.answer = body;
        await put("outbox", item);
        shown.set(item.entry_id, { status: item.status, message: item.message, name: item.name });
        if (item.status !== "refused") await del("entries", item.entry_id); // done: it leaves the device
        setNet(T.online);
      }
      // everything answered: the answered records leave the device (they stay on the screen)
      const left = await all("outbox");
      if (!left.some((i) => i.status === "queued")) {
        for (const i of left) if (i.status !== "refused") await del("outbox", i.key);
      }
    } finally {
      sending = false;
      await render();
    }
  }

  // --- start ---------------------------------------------------------------------------------------
  if ("serviceWorker" in navigator && SW_URL) {
    navigator.serviceWorker
      .register(SW_URL, { scope: SW_SCOPE })
      .then(() => navigator.serviceWorker.ready)
      .then((reg) => {
        const urls = [location.href].concat(
          Array.from(document.querySelectorAll('link[rel="stylesheet"], script[src], link[rel="icon"]')).map((n) => n.href || n.src)
        );
        if (reg.active) reg.active.postMessage({ type: "cache", urls: urls });
      })
      .catch(() => null);
  }
  window.addEventListener("online", () => send());
  document.getElementById("cash-field-send").addEventListener("click", () => send());
  load()
    .then(render)
    .then(send)
    .then(() => root.setAttribute("data-ready", "1"));
})();
