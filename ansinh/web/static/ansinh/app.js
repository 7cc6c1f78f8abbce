// ansinh staff UI. Loaded as a static file: no inline scripts (CSP script-src 'self').
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) {
      return meta.content;
    }
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  // HTMX requests carry the CSRF token as a header (forms also carry it as a field).
  document.addEventListener("htmx:configRequest", function (event) {
    var token = csrfToken();
    if (token) {
      event.detail.headers["X-CSRFToken"] = token;
    }
  });

  // Close the account menu (<details>) when clicking elsewhere or pressing Escape.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.app-menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) {
        menu.removeAttribute("open");
      }
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      document.querySelectorAll("details.app-menu[open]").forEach(function (menu) {
        menu.removeAttribute("open");
        var summary = menu.querySelector("summary");
        if (summary) {
          summary.focus();
        }
      });
    }
  });

  // On a phone the main menu scrolls sideways: bring the current item into view.
  var current = document.querySelector(".app-nav .nav-link.active");
  var strip = current && current.closest(".nav");
  if (strip && strip.scrollWidth > strip.clientWidth) {
    var item = current.getBoundingClientRect();
    var box = strip.getBoundingClientRect();
    strip.scrollLeft += item.left - box.left - (box.width - item.width) / 2;
  }

  // After HTMX replaces a section, move focus to the first invalid field or to the section.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target || !target.isConnected) {
      target = document.getElementById(event.detail.target && event.detail.target.id);
    }
    if (!target) {
      return;
    }
    var invalid = target.querySelector(".is-invalid");
    if (invalid) {
      invalid.focus();
    }
  });
})();
