/* CVD pages: sortable and filterable tables, charts, maps, live KPI figures and export controls.
   Everything reads data-* attributes and <script type="application/json"> blocks (no inline script). */
(function () {
  "use strict";

  function readJson(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  var config = readJson("cvd-format") || { symbol: "", symbol_after: false, time_zone: "UTC" };

  // --- figures, formatted as the server formats them (analytics/pages/presentation.py) ---------------
  function grouped(number, decimals) {
    return number.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
  }
  function format(value, kind) {
    if (value === null || value === undefined || value === "") { return "–"; }
    var number = Number(value);
    switch (kind) {
      case "money":
        if (isNaN(number)) { return "–"; }
        var text = grouped(Math.abs(number), 2);
        var sign = number < 0 ? "-" : "";
        return config.symbol_after ? sign + text + " " + config.symbol : sign + config.symbol + text;
      case "integer": return isNaN(number) ? String(value) : grouped(Math.trunc(number), 0);
      case "number": return grouped(number, 2);
      case "rate": return grouped(number * 100, 1) + " %";
      case "percent": return grouped(number, 1);
      case "change": return (number > 0 ? "+" : "") + grouped(number, 1) + " %";
      default: return String(value);
    }
  }
  function clock(date) {
    return new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: config.time_zone }).format(date);
  }

  // --- tables: sort by a column (numbers by value), filter rows by text -----------------------------------
  function sortTable(table, index, th) {
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th[aria-sort]").forEach(function (other) { other.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var numeric = th.classList.contains("num");
    rows.sort(function (a, b) {
      var x = a.cells[index].getAttribute("data-value"), y = b.cells[index].getAttribute("data-value");
      if (x === "" && y === "") { return 0; }
      if (x === "") { return 1; }
      if (y === "") { return -1; }
      var order = numeric ? Number(x) - Number(y) : x.localeCompare(y, undefined, { numeric: true });
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  document.querySelectorAll("table th button[data-sort]").forEach(function (button) {
    button.addEventListener("click", function () {
      var th = button.closest("th");
      sortTable(th.closest("table"), Array.prototype.indexOf.call(th.parentNode.children, th), th);
    });
  });
  document.querySelectorAll("input[data-table-filter]").forEach(function (input) {
    var table = input.closest("section").querySelector("table");
    input.addEventListener("input", function () {
      var needle = input.value.trim().toLowerCase();
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        row.hidden = needle !== "" && row.textContent.toLowerCase().indexOf(needle) === -1;
      });
    });
  });

  // --- the filter bar: no empty parameters in the address -------------------------------------------------
  document.querySelectorAll("form[data-filter-form]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("input, select").forEach(function (field) { if (!field.value) { field.disabled = true; } });
    });
  });

  // --- charts ---------------------------------------------------------------------------------------------
  var palette = ["#1f4e79", "#e07b39", "#7a9cc6", "#7a9cc6", "#1a7f37", "#c62828"];
  function drawCharts() {
    if (!window.Chart) { return; }
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var spec = readJson(canvas.getAttribute("data-chart-source"));
      if (!spec) { return; }
      var datasets = spec.datasets.map(function (set, i) {
        var band = set.label === "Lower" || set.label === "Upper";
        return {
          label: set.label, data: set.data, borderColor: palette[i % palette.length],
          backgroundColor: spec.type === "bar" ? palette[i % palette.length] : "transparent",
          borderDash: band ? [4, 4] : [], pointRadius: spec.labels.length > 60 ? 0 : 2, borderWidth: 2, spanGaps: false,
        };
      });
      new window.Chart(canvas, {
        type: spec.type, data: { labels: spec.labels, datasets: datasets },
        options: {
          responsive: true, maintainAspectRatio: false, animation: false,
          plugins: {
            legend: { display: datasets.length > 1 },
            tooltip: { callbacks: { label: function (item) { return item.dataset.label + ": " + format(item.raw, spec.value_kind); } } },
          },
          scales: { y: { beginAtZero: true, ticks: { callback: function (v) { return format(v, spec.value_kind === "money" ? "integer" : spec.value_kind); } } } },
        },
      });
      canvas.setAttribute("data-rendered", "true");
    });
  }

  // --- maps: shipped country and state outlines (or a configured tile server), markers by performance -------
  function colour(score) { return score >= 67 ? "#1a7f37" : score >= 34 ? "#b7791f" : "#c62828"; }
  function popup(point) {
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.href = point.href || "#";
    link.className = "popup-link";
    link.textContent = point.label;
    var detail = document.createElement("div");
    detail.textContent = point.detail || "";
    box.appendChild(link);
    box.appendChild(detail);
    return box;
  }
  function drawMaps() {
    if (!window.L) { return; }
    document.querySelectorAll("[data-map]").forEach(function (node) {
      var spec = readJson(node.getAttribute("data-map-source"));
      if (!spec) { return; }
      var map = window.L.map(node, { scrollWheelZoom: false, worldCopyJump: true });
      var pending = [];
      if (spec.tile_url) {
        window.L.tileLayer(spec.tile_url, { maxZoom: 19 }).addTo(map);
      } else if (window.topojson) {
        (spec.outline_urls || []).forEach(function (url) {
          pending.push(fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (topo) {
            var name = Object.keys(topo.objects)[0];
            window.L.geoJSON(window.topojson.feature(topo, topo.objects[name]), {
              interactive: false, style: { color: "#8aa1b4", weight: 1, fillColor: "#f4f1ea", fillOpacity: 1 },
            }).addTo(map).bringToBack();
          }));
        });
      }
      var markers = spec.points.map(function (point) {
        var c = colour(point.score);
        return window.L.circleMarker([point.lat, point.lon], { radius: 8, color: "#fff", weight: 1.5, fillColor: c, fillOpacity: 0.9 })
          .bindPopup(popup(point)).addTo(map);
      });
      if (markers.length) {
        map.fitBounds(window.L.featureGroup(markers).getBounds().pad(0.3), { maxZoom: 13 });
      } else {
        map.setView([20, 0], 1);
      }
      Promise.all(pending).then(function () { node.setAttribute("data-rendered", "true"); },
        function () { node.setAttribute("data-rendered", "outline-failed"); });
    });
  }

  // --- live figures: while the range includes today, refresh the KPI cards every minute --------------------
  function dig(object, path) {
    return path.split(".").reduce(function (value, key) { return value == null ? undefined : value[key]; }, object);
  }
  function refresh(live) {
    var stamp = document.querySelector("[data-updated]");
    return fetch(live.getAttribute("data-live-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (answer) {
        var values = dig(answer, live.getAttribute("data-live-key")) || {};
        var changes = live.getAttribute("data-live-change") ? answer[live.getAttribute("data-live-change")] || {} : null;
        document.querySelectorAll("[data-live-kpis] [data-kpi]").forEach(function (node) {
          var field = node.getAttribute("data-kpi");
          if (!(field in values)) { return; }
          var value = values[field];
          node.setAttribute("data-value", value === null ? "" : String(value));
          node.textContent = format(value, node.getAttribute("data-kind"));
          var change = node.parentNode.querySelector("[data-change]");
          if (change && changes && field in changes) {
            var pct = changes[field];
            change.setAttribute("data-value", pct === null ? "" : String(pct));
            change.classList.remove("up", "down", "flat");
            if (pct !== null) { change.classList.add(pct > 0 ? "up" : pct < 0 ? "down" : "flat"); }
            change.querySelector(".change-text").textContent = pct === null ? "n/a" : format(pct, "change");
          }
        });
        if (stamp) { stamp.textContent = "updated " + clock(new Date()); }
        live.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function () { if (stamp) { stamp.textContent = "update failed at " + clock(new Date()); } });
  }
  var live = document.querySelector("[data-live-url]");
  if (live) { window.setInterval(function () { refresh(live); }, 60000); }

  // --- export controls: POST {report, format, ...the page's parameters} to the export API with CSRF ---------
  document.querySelectorAll("form[data-export-form]").forEach(function (form) {
    var status = form.querySelector(".export-status");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var format = event.submitter ? event.submitter.value : "csv";
      var body = Object.assign({}, readJson("export-params") || {}, { report: form.getAttribute("data-report"), format: format });
      status.textContent = "preparing " + format.toUpperCase() + "…";
      fetch(form.action, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": form.querySelector("[name=csrfmiddlewaretoken]").value },
        body: JSON.stringify(body),
      }).then(function (response) {
        if (response.status === 202) {
          return response.json().then(function () { status.textContent = "queued: you will get an e-mail when it is ready"; });
        }
        if (!response.ok) { status.textContent = "export failed (" + response.status + ")"; return null; }
        var disposition = response.headers.get("Content-Disposition") || "";
        var match = /filename="?([^";]+)"?/.exec(disposition);
        return response.blob().then(function (blob) {
          var link = document.createElement("a");
          link.href = URL.createObjectURL(blob);
          link.download = match ? match[1] : "export." + format;
          document.body.appendChild(link);
          link.click();
          link.remove();
          status.textContent = "downloaded";
        });
      }).catch(function () { status.textContent = "export failed"; });
    });
  });

  function start() { drawCharts(); drawMaps(); document.documentElement.setAttribute("data-ready", "true"); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
