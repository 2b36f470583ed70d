/* SLA countdown. Elements with data-sla-left-seconds count down once a second, but only
 * while the clock runs (data-running="1") inside working hours (data-working="1"); the
 * server decides both. The count is measured against the wall clock from when the element
 * was first seen, so throttled background tabs do not drift; the HTMX refresh of the card
 * every 60 s replaces the elements with fresh server values. Formatting mirrors
 * desk/templatetags/sla_ui.py human_duration/left_text. */
(function () {
  "use strict";

  var seen = new WeakMap();

  function human(seconds) {
    var s = Math.abs(seconds);
    var days = Math.floor(s / 86400);
    var hours = Math.floor((s % 86400) / 3600);
    var minutes = Math.floor((s % 3600) / 60);
    var secs = s % 60;
    if (days) return hours ? days + " d " + hours + " h" : days + " d";
    if (hours) return minutes ? hours + " h " + minutes + " min" : hours + " h";
    if (minutes) return secs ? minutes + " min " + secs + " s" : minutes + " min";
    return secs + " s";
  }

  function leftText(seconds) {
    return seconds < 0 ? "overdue by " + human(seconds) : human(seconds);
  }

  function tick() {
    var now = Date.now();
    var nodes = document.querySelectorAll("[data-sla-left-seconds]");
    for (var i = 0; i < nodes.length; i++) {
      var el = nodes[i];
      if (el.dataset.running !== "1" || el.dataset.working !== "1") continue;
      var start = seen.get(el);
      if (!start) {
        start = { at: now, left: parseInt(el.dataset.slaLeftSeconds, 10) };
        if (isNaN(start.left)) continue;
        seen.set(el, start);
      }
      var left = start.left - Math.floor((now - start.at) / 1000);
      el.textContent = leftText(left);
      if (left < 0) el.style.color = "#9b1c1c";
    }
  }

  window.setInterval(tick, 1000);
})();
