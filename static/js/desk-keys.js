/* Desk keyboard and live updates. Queues: j/k move, Enter open, x select, a assign to me.
   Ticket pages: a assign to me, r reply, n work note, e resolve, Ctrl+Enter send, q queue.
   Everywhere: / search, ? help, Esc closes. Keys never fire while typing in a field. */
(function () {
  "use strict";

  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return el.isContentEditable || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#queue tbody tr[data-href]"));
  }

  function current() {
    var focused = document.activeElement;
    return focused && focused.matches && focused.matches("#queue tbody tr") ? focused : null;
  }

  function move(step) {
    var list = rows();
    if (!list.length) return;
    var at = list.indexOf(current());
    var next = list[Math.max(0, Math.min(list.length - 1, at < 0 ? 0 : at + step))];
    list.forEach(function (r) { r.classList.remove("is-current"); r.removeAttribute("aria-selected"); });
    next.classList.add("is-current");
    next.setAttribute("aria-selected", "true");
    next.focus();
    sessionStorage.setItem("desk-row", next.dataset.pk);
  }

  function updateSelected() {
    var n = document.querySelectorAll("input[name=ticket]:checked").length;
    var out = document.getElementById("selected-count");
    if (out) out.textContent = n + " selected";
  }

  function click(selector) {
    var el = document.querySelector(selector);
    if (el) { el.click(); return true; }
    return false;
  }

  var mode = "reply";
  function editor(which) {
    var area = document.querySelector("#reply-form textarea, #task-reply-form textarea");
    if (!area) return;
    mode = which;
    area.dataset.mode = which;
    area.setAttribute("aria-label", which === "note" ? "Internal work note" : "Public reply");
    area.classList.toggle("is-note", which === "note");
    area.focus();
  }

  function send(area) {
    var form = area.form;
    if (!form) return;
    var selector = area.dataset.mode === "note"
      ? "#add-note, #task-note, button[name=public][value='']"
      : "#send-reply, button[name=public][value=on]";
    var button = form.querySelector(selector);
    // Leave the field first: htmx would otherwise put the focus back into the re-rendered
    // editor, and the next shortcut would be typed into it.
    area.blur();
    if (button) button.click(); else form.requestSubmit();
  }

  function resolve() {
    var select = document.getElementById("id_target");
    if (select && select.querySelector("option[value=resolved]")) {
      select.value = "resolved";
      select.dispatchEvent(new Event("change", { bubbles: true }));
      var code = document.getElementById("id_resolution_code");
      (code || select).focus();
      return;
    }
    var done = document.querySelector("#task-to-done button");
    if (done) { done.focus(); return; }
    announce("Nothing to resolve on this page.");
  }

  function announce(text) {
    var live = document.getElementById("desk-live");
    if (live) live.textContent = text;
  }

  function help(open) {
    var dialog = document.getElementById("keys-help");
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && target.tagName === "TEXTAREA") {
      event.preventDefault();
      send(target);
      return;
    }
    if (event.key === "Escape") {
      help(false);
      if (typing(target)) target.blur();
      return;
    }
    if (typing(target) || event.ctrlKey || event.metaKey || event.altKey) return;
    var onQueue = !!document.getElementById("queue-results");
    var row = current();
    var handled = true;
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "Enter":
        if (row) window.location.href = row.dataset.href; else handled = false;
        break;
      case "x":
        if (row) {
          var box = row.querySelector("input[name=ticket]");
          box.checked = !box.checked;
          updateSelected();
        } else handled = false;
        break;
      case "a":
        if (onQueue && row) {
          var bulk = document.getElementById("bulk-form");
          document.querySelectorAll("input[name=ticket]").forEach(function (b) { b.checked = false; });
          row.querySelector("input[name=ticket]").checked = true;
          bulk.querySelector("#bulk-action").value = "assign";
          bulk.querySelector("#bulk-me").checked = true;
          bulk.onsubmit = null;
          bulk.requestSubmit();
        } else if (!click("#assign-to-me, #take-request, #take-task")) handled = false;
        break;
      case "r": editor("reply"); break;
      case "n": editor("note"); break;
      case "e": resolve(); break;
      case "q": window.location.href = "/desk/"; break;
      case "/":
        var search = document.getElementById("q") || document.getElementById("desk-search");
        if (search) search.focus(); else handled = false;
        break;
      case "?": help(true); break;
      default: handled = false;
    }
    if (handled) event.preventDefault();
  });

  document.addEventListener("change", function (event) {
    if (event.target.matches("input[name=ticket]")) updateSelected();
    if (event.target.id === "select-all") {
      document.querySelectorAll("input[name=ticket]").forEach(function (b) { b.checked = event.target.checked; });
      updateSelected();
    }
    if (event.target.id === "bulk-action") showBulkFields();
  });

  function showBulkFields() {
    var action = document.getElementById("bulk-action");
    if (!action) return;
    document.querySelectorAll(".bulk-fields").forEach(function (span) {
      span.hidden = span.dataset.for !== action.value;
    });
  }

  /* The queue refreshes itself only while the agent is not in the middle of something. */
  window.deskQueueIdle = function () {
    return !document.querySelector("input[name=ticket]:checked") && !document.querySelector("details.dropdown[open]");
  };

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "queue-results") {
      var pk = sessionStorage.getItem("desk-row");
      var again = pk && document.querySelector("#queue tbody tr[data-pk='" + pk + "']");
      if (again && document.activeElement === document.body) { again.classList.add("is-current"); again.focus(); }
    }
  });

  /* An open ticket page asks every 15 s whether someone else changed the ticket. */
  function watchTicket() {
    var match = window.location.pathname.match(/^\/desk\/(incidents|requests|tasks|changes)\/(\d+)\/$/);
    var notice = document.getElementById("desk-live-notice");
    if (!match || !notice) return;
    setInterval(function () {
      var version = document.querySelector("main input[name=version]");
      if (!version || document.hidden) return;
      fetch("/desk/tickets/" + match[2] + "/changed/?version=" + encodeURIComponent(version.value), {
        headers: { "HX-Request": "true" }, credentials: "same-origin"
      }).then(function (response) {
        if (response.status === 200) return response.text().then(function (html) { notice.innerHTML = html; });
        if (response.status === 204) notice.innerHTML = "";
      }).catch(function () {});
    }, 15000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    showBulkFields();
    watchTicket();
    var pk = sessionStorage.getItem("desk-row");
    var row = pk && document.querySelector("#queue tbody tr[data-pk='" + pk + "']");
    if (row) { row.classList.add("is-current"); }
  });
})();
