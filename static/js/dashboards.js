/* Dashboards: every table that has a chart gets it drawn here by the vendored Chart.js
 * (static/vendor/chart.umd.min.js, no CDN) from the JSON the server rendered next to it.
 * Bars and points link to the same desk-queue drill-down as the table cell behind them.
 * Colours are the Okabe-Ito colour-blind-safe palette, and series also differ in dash
 * pattern and point shape, so charts stay readable in black-and-white print. Each chart has
 * a Chart/Table toggle; without JavaScript (or Chart.js) the tables simply stay visible, and
 * in print both the chart and the table are shown. */
(function () {
  "use strict";

  var DASHES = [[], [6, 4], [2, 3], [10, 3, 2, 3], [1, 2]];
  var POINTS = ["circle", "rect", "triangle", "rectRot", "crossRot", "star"];

  // A dashed black line at the target value, across the value axis, labelled.
  var targetLine = {
    id: "targetLine",
    afterDatasetsDraw: function (chart, _args, options) {
      if (options.value === null || options.value === undefined) return;
      var horizontal = chart.options.indexAxis === "y";
      var scale = horizontal ? chart.scales.x : chart.scales.y;
      var at = scale.getPixelForValue(options.value);
      var area = chart.chartArea;
      var ctx = chart.ctx;
      ctx.save();
      ctx.strokeStyle = "#000";
      ctx.lineWidth = 2;
      ctx.setLineDash([6, 4]);
      ctx.beginPath();
      if (horizontal) {
        ctx.moveTo(at, area.top);
        ctx.lineTo(at, area.bottom);
      } else {
        ctx.moveTo(area.left, at);
        ctx.lineTo(area.right, at);
      }
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = "#000";
      ctx.font = "600 12px system-ui, sans-serif";
      if (horizontal) ctx.fillText(options.label || "", at + 4, area.top + 12);
      else ctx.fillText(options.label || "", area.left + 6, at - 5);
      ctx.restore();
    },
  };

  function datasetsOf(data) {
    return data.datasets.map(function (d, i) {
      return {
        label: d.label,
        data: d.data,
        urls: d.urls,
        backgroundColor: d.color,
        borderColor: data.type === "line" ? d.color : "#1f2933",
        borderWidth: data.type === "line" ? 2 : 1,
        borderDash: data.type === "line" ? DASHES[i % DASHES.length] : [],
        pointStyle: POINTS[i % POINTS.length],
        pointRadius: 4,
        pointHoverRadius: 6,
        maxBarThickness: 36,
        spanGaps: true,
      };
    });
  }

  function draw(box) {
    var script = document.getElementById(box.getAttribute("data-chart"));
    if (!script) return;
    var data = JSON.parse(script.textContent);
    var datasets = datasetsOf(data);
    var unit = data.unit || "";
    if (data.horizontal) box.style.height = Math.max(220, 30 * data.labels.length + 90) + "px";
    var valueAxis = {
      stacked: data.stacked,
      beginAtZero: data.yMin === null,
      min: data.yMin === null ? undefined : data.yMin,
      max: data.yMax === null ? undefined : data.yMax,
      title: { display: !!unit, text: unit === "h" ? "hours" : unit },
      ticks: unit ? {} : { precision: 0 },
    };
    var categoryAxis = { stacked: data.stacked };
    var chart = new window.Chart(box.querySelector("canvas"), {
      type: data.type,
      data: { labels: data.labels, datasets: datasets },
      options: {
        indexAxis: data.horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        devicePixelRatio: Math.max(window.devicePixelRatio || 1, 2),
        scales: data.horizontal
          ? { x: valueAxis, y: categoryAxis }
          : { x: categoryAxis, y: valueAxis },
        plugins: {
          legend: { position: "bottom", labels: { usePointStyle: true, color: "#1f2933" } },
          targetLine: { value: data.target, label: data.targetLabel },
          tooltip: {
            callbacks: {
              footer: function (items) {
                var item = items[0];
                return item && datasets[item.datasetIndex].urls[item.dataIndex]
                  ? "Click to see the tickets"
                  : "";
              },
            },
          },
        },
        onClick: function (_event, elements) {
          var el = elements[0];
          if (!el) return;
          var url = datasets[el.datasetIndex].urls[el.index];
          if (url) window.location.assign(url);
        },
        onHover: function (event, elements) {
          var el = elements[0];
          var link = el && datasets[el.datasetIndex].urls[el.index];
          event.native.target.style.cursor = link ? "pointer" : "default";
        },
      },
      plugins: [targetLine],
    });
    box.chart = chart;
    box.setAttribute("data-ready", "true");
  }

  function toggle(card, box) {
    var button = card.querySelector(".chart-toggle");
    var table = card.querySelector(".chart-table");
    if (!button || !table) return;
    function show(tableView) {
      table.hidden = !tableView;
      box.hidden = tableView;
      button.setAttribute("aria-pressed", tableView ? "true" : "false");
      button.textContent = tableView ? "Show chart" : "Show table";
    }
    button.hidden = false;
    show(false);
    button.addEventListener("click", function () {
      show(button.getAttribute("aria-pressed") !== "true");
    });
  }

  function init() {
    if (!window.Chart) return; // no chart library: the tables stay as they are
    document.querySelectorAll(".chart-box[data-chart]").forEach(function (box) {
      draw(box);
      toggle(box.closest(".chart-card"), box);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();

  window.addEventListener("beforeprint", function () {
    document.querySelectorAll(".chart-box[data-ready]").forEach(function (box) {
      if (box.chart) box.chart.resize();
    });
  });
})();
