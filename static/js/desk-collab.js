/* Desk collision detection (A1): presence and stale saves on the desk ticket pages.
 *
 * The presence slot (templates/desk/_presence.html) polls with HTMX on its own; this file
 *  - reports "typing" while the agent types in the panel's editors (throttled),
 *  - tells the server when the page is closed, so the agent disappears at once,
 *  - leaves the aria-live region alone when nothing changed (no repeated announcements),
 *  - adds `seen` (the newest journal entry on the page) to every POST from the ticket panel,
 *    so a stale save can list exactly what changed since, and
 *  - moves focus to the stale notice when one appears.
 */
(function () {
  "use strict";

  var TYPING_FOR_MS = 8000; // typed within this long: still "typing"
  var TYPING_EVERY_MS = 4000; // report typing at most this often
  var lastTyped = 0;
  var lastReported = 0;

  function slot() {
    return document.querySelector("[data-collab-panel]");
  }

  function panelOf(el) {
    var s = slot();
    if (!s || !el || !el.closest) return null;
    var panel = document.getElementById(s.dataset.collabPanel);
    return panel && panel.contains(el) ? panel : null;
  }

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  // Typing in any editor of the panel (reply, note, notes of a transition).
  document.addEventListener("input", function (event) {
    var el = event.target;
    if (!el || el.tagName !== "TEXTAREA" || !panelOf(el)) return;
    lastTyped = Date.now();
    if (lastTyped - lastReported >= TYPING_EVERY_MS && window.htmx && slot()) {
      lastReported = lastTyped;
      window.htmx.trigger(slot(), "desk:typing");
    }
  });

  document.addEventListener("htmx:configRequest", function (event) {
    var s = slot();
    if (!s) return;
    var elt = event.detail.elt;
    if (elt === s) {
      event.detail.parameters.state =
        Date.now() - lastTyped < TYPING_FOR_MS ? "typing" : "viewing";
      return;
    }
    if (event.detail.verb === "post" && panelOf(elt) && !("seen" in event.detail.parameters)) {
      event.detail.parameters.seen = s.dataset.collabSeen;
    }
  });

  // Plain (non-HTMX) form posts from the panel carry `seen` too.
  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      var s = slot();
      if (!s || !form || (form.method || "").toLowerCase() !== "post" || !panelOf(form)) return;
      if (form.querySelector("input[name=seen]")) return;
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "seen";
      input.value = s.dataset.collabSeen;
      form.appendChild(input);
    },
    true
  );

  // Identical presence answer: keep the live region as it is (screen readers stay quiet).
  document.addEventListener("htmx:beforeSwap", function (event) {
    var s = slot();
    if (s && event.detail.target === s && event.detail.xhr.status === 200) {
      if (event.detail.serverResponse.trim() === s.innerHTML.trim()) {
        event.detail.shouldSwap = false;
      }
    }
  });

  function focusStaleNotice() {
    var notice = document.getElementById("stale");
    if (notice && !notice.dataset.focused) {
      notice.dataset.focused = "1";
      notice.focus();
      notice.scrollIntoView({ block: "center" });
    }
  }
  document.addEventListener("htmx:afterSettle", focusStaleNotice);
  document.addEventListener("DOMContentLoaded", focusStaleNotice);

  window.addEventListener("pagehide", function () {
    var s = slot();
    if (!s || !window.fetch) return;
    try {
      fetch(s.dataset.collabUrl, {
        method: "POST",
        keepalive: true,
        credentials: "same-origin",
        headers: {
          "X-CSRFToken": csrfToken(),
          "Content-Type": "application/x-www-form-urlencoded",
        },
        body: "state=left",
      });
    } catch (e) {
      /* presence expires on its own */
    }
  });
})();
