/* The service worker of the field recording page (issue 12): keeps the page shell and its
   assets so that the page opens without a connection. It never sends anything: the page sends
   its outbox itself (IndexedDB), so POSTs and the day's list data are not handled here. */
"use strict";
const CACHE = "ansinh-cash-field-v1";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("ansinh-cash-field-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

// the page asks for its own URL and its assets to be kept (its first load is not controlled yet)
self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type !== "cache" || !Array.isArray(data.urls)) return;
  event.waitUntil(
    caches.open(CACHE).then((cache) =>
      Promise.all(
        data.urls
          .filter((u) => new URL(u, self.location.href).origin === self.location.origin)
          .map((u) =>
            fetch(u, { credentials: "same-origin" })
              .then((r) => (r.ok && !r.redirected ? cache.put(u, r) : null))
              .catch(() => null)
          )
      )
    )
  );
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin || url.pathname.endsWith("/data")) return;
  if (req.mode === "navigate") {
    event.respondWith(
      fetch(req)
        .then((r) => {
          if (r.ok && !r.redirected) {
            const copy = r.clone();
            caches.open(CACHE).then((c) => c.put(req, copy));
          }
          return r;
        })
        .catch(() => caches.match(req, { ignoreSearch: true }).then((hit) => hit || Response.error()))
    );
    return;
  }
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(
      caches.match(req).then(
        (hit) =>
          hit ||
          fetch(req).then((r) => {
            if (r.ok) {
              const copy = r.clone();
              caches.open(CACHE).then((c) => c.put(req, copy));
            }
            return r;
          })
      )
    );
  }
});
