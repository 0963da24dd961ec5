// fairdraw dashboard: draws the per-minute chart (uPlot), adds each new entry of the
// private live feed to the chart and to the latest entries, and searches without leaving
// the page. live.js (from base.html) follows the feed, dispatches every message as a
// "fairdraw:live" event and, when the status changes, swaps in a fresh copy of the page
// ("fairdraw:refreshed"), after which everything here starts again on the new content.
// Progressive enhancement only: without it the chart is a table, the lists are as the
// server rendered them and search is a GET form.
(function () {
  "use strict";

  var HOUR_POINTS = 60;
  var CHART_HEIGHT = 240;
  var TICK_SECONDS = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
    172800, 604800, 1209600, 2592000, 7776000, 31536000];

  // Times in the reader's zone, formatted as every other time on the page: local_time.js
  // (loaded before this by base.html) owns the format.
  function minuteText(minute) {
    return window.fairdrawTime.format(new Date(minute * 60000), "minute");
  }

  // One entry as a table row: number, who, when (as the server renders them).
  function entryRow(entry) {
    var tr = document.createElement("tr");
    tr.dataset.index = String(entry.index);
    var number = document.createElement("td");
    number.className = "fd-dash-number";
    number.textContent = String(entry.number);
    var who = document.createElement("td");
    who.className = "fd-dash-who";
    who.textContent = entry.who || "anonymous";
    var when = document.createElement("td");
    var date = new Date(entry.at);
    when.appendChild(window.fairdrawTime.element(date, "second", String(entry.at)));
    tr.appendChild(number);
    tr.appendChild(who);
    tr.appendChild(when);
    return tr;
  }

  // -- the chart: the table's numbers drawn with uPlot, kept in step with the table ---------
  function Chart(root) {
    this.rows = document.getElementById("chart-rows");
    this.box = document.getElementById("dashboard-chart");
    this.summary = document.getElementById("chart-summary");
    this.hourly = (root.dataset.window || "hour") === "hour";
    this.bucket = parseInt(root.dataset.bucketMinutes, 10) || 1;
    this.items = root.dataset.items || "entries";
    this.period = (this.summary && this.summary.dataset.period) || "in the last hour";
    this.which = (this.summary && this.summary.dataset.which) || "minute";
    this.minutes = [];
    this.counts = [];
    this.plot = null;
    this.observer = null;
    var self = this;
    if (this.rows) {
      Array.prototype.forEach.call(this.rows.querySelectorAll("tr[data-minute]"), function (tr) {
        self.minutes.push(parseInt(tr.dataset.minute, 10));
        self.counts.push(parseInt(tr.cells[1].textContent, 10) || 0);
      });
    }
  }

  Chart.prototype.row = function (minute, count) {
    var tr = document.createElement("tr");
    tr.dataset.minute = String(minute);
    var when = document.createElement("td");
    when.appendChild(window.fairdrawTime.element(new Date(minute * 60000), "minute"));
    var number = document.createElement("td");
    number.className = "has-text-right";
    number.textContent = String(count);
    tr.appendChild(when);
    tr.appendChild(number);
    return tr;
  };

  Chart.prototype.say = function () {
    if (!this.summary) {
      return;
    }
    var total = 0;
    var top = 0;
    var topAt = -1;
    for (var i = 0; i < this.counts.length; i++) {
      total += this.counts[i];
      if (this.counts[i] > top) {
        top = this.counts[i];
        topAt = i;
      }
    }
    var lang = document.documentElement.lang || undefined;
    this.summary.textContent = topAt < 0 ?
      fdMessage("dashboard.none", { items: this.items, period: this.period }) :
      fdMessage("dashboard.summary", {
        total: total.toLocaleString(lang),
        items: this.items,
        period: this.period,
        which: this.which,
        when: minuteText(this.minutes[topAt]),
        count: top.toLocaleString(lang),
      });
  };

  // Empty buckets up to the one starting at minute ``upTo``; the last hour keeps 60.
  Chart.prototype.extendTo = function (upTo) {
    if (!this.minutes.length) {
      return;
    }
    var last = this.minutes[this.minutes.length - 1];
    while (last < upTo) {
      last += this.bucket;
      this.minutes.push(last);
      this.counts.push(0);
      if (this.rows) {
        this.rows.appendChild(this.row(last, 0));
      }
    }
    while (this.hourly && this.minutes.length > HOUR_POINTS) {
      this.minutes.shift();
      this.counts.shift();
      if (this.rows && this.rows.firstElementChild) {
        this.rows.removeChild(this.rows.firstElementChild);
      }
    }
  };

  Chart.prototype.data = function () {
    return [this.minutes.map(function (m) { return m * 60; }), this.counts.slice()];
  };

  Chart.prototype.update = function () {
    if (this.plot) {
      this.plot.setData(this.data());
    }
    this.say();
  };

  Chart.prototype.count = function (atMs) {
    var start = Math.floor(Math.floor(atMs / 60000) / this.bucket) * this.bucket;
    this.extendTo(start);
    for (var i = this.minutes.length - 1; i >= 0 && this.minutes[i] >= start; i--) {
      if (this.minutes[i] === start) {
        this.counts[i] += 1;
        var row = this.rows && this.rows.querySelector('tr[data-minute="' + start + '"]');
        if (row) {
          row.cells[1].textContent = String(this.counts[i]);
        }
        break;
      }
    }
    this.update();
  };

  Chart.prototype.draw = function () {
    var box = this.box;
    var uPlot = window.uPlot;
    if (!box || typeof uPlot !== "function" || !this.minutes.length) {
      return;
    }
    box.hidden = false;
    var style = getComputedStyle(box);
    var axis = {
      stroke: getComputedStyle(document.body).color,
      grid: { stroke: style.borderTopColor, width: 1 },
      ticks: { stroke: style.borderTopColor, width: 1 },
    };
    var self = this;
    var width = function () {
      return Math.max(box.clientWidth, 280);
    };
    this.plot = new uPlot({
      width: width(),
      height: CHART_HEIGHT,
      // No tzDate: ticks fall on the reader's own hours and days, as the page's times.
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        // Half a bucket either side, so the first and last bars show whole, and a draw
        // of one bucket is not stretched over years.
        x: {
          time: true,
          range: function () {
            var first = self.minutes[0] * 60;
            var last = self.minutes[self.minutes.length - 1] * 60;
            return [first - self.bucket * 30, last + self.bucket * 30];
          },
        },
        y: { range: function (u, min, max) { return [0, Math.max(1, Math.ceil(max * 1.1))]; } },
      },
      axes: [
        Object.assign({}, axis, {
          // Ticks a whole number of buckets apart: never seconds.
          incrs: TICK_SECONDS.filter(function (s) { return s >= self.bucket * 60; }),
          // Times of day in the reader's zone, as the table; days once ticks are a day or
          // more apart.
          values: function (u, ticks, space, increment) {
            return ticks.map(function (t) {
              return window.fairdrawTime.format(new Date(t * 1000), increment >= 86400 ? "day" : "clock");
            });
          },
        }),
        Object.assign({}, axis, {
          // Whole entries only: no "0.5" on the axis.
          values: function (u, ticks) {
            return ticks.map(function (v) { return Number.isInteger(v) ? String(v) : ""; });
          },
          // Wide enough for the longest label, e.g. "100000".
          size: function (u, values) {
            var longest = (values || []).reduce(function (n, v) {
              return Math.max(n, String(v).length);
            }, 1);
            return 24 + longest * 8;
          },
        }),
      ],
      series: [
        {},
        {
          label: this.items,
          stroke: style.color,
          fill: style.color,
          width: 0,
          points: { show: false },
          paths: uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.8, 48] }) : undefined,
        },
      ],
    }, this.data(), box);
    // The chart stands in for the table, which stays one click away.
    var details = document.getElementById("chart-details");
    if (details) {
      details.open = false;
    }
    var plot = this.plot;
    if (typeof ResizeObserver === "function") {
      this.observer = new ResizeObserver(function () {
        plot.setSize({ width: width(), height: CHART_HEIGHT });
      });
      this.observer.observe(box);
    }
  };

  Chart.prototype.destroy = function () {
    if (this.observer) {
      this.observer.disconnect();
    }
    if (this.plot) {
      this.plot.destroy();
    }
  };

  // -- search --------------------------------------------------------------------------------
  function Search(root) {
    this.url = root.dataset.searchUrl || "";
    this.tickets = root.dataset.items === "claims";
    this.form = document.getElementById("dashboard-search");
    this.input = document.getElementById("q");
    this.results = document.getElementById("search-results");
    this.error = document.getElementById("q-error");
    this.asked = 0;
    this.typing = null;
    if (!this.form || !this.input || !this.results || !this.url || !window.fetch) {
      return;
    }
    var self = this;
    this.form.addEventListener("submit", function (event) {
      event.preventDefault();
      window.clearTimeout(self.typing);
      self.run(self.input.value.trim()).catch(function () {
        // Anything unexpected: the server answers the form, as without this script.
        HTMLFormElement.prototype.submit.call(self.form);
      });
    });
    this.input.addEventListener("input", function () {
      window.clearTimeout(self.typing);
      var query = self.input.value.trim();
      if (query.length < 2 && !(self.tickets && /^[0-9]+$/.test(query))) {
        return;
      }
      self.typing = window.setTimeout(function () {
        self.run(query).catch(function () {});
      }, 300);
    });
  }

  Search.prototype.showError = function (message) {
    this.error.textContent = message;
    this.error.hidden = false;
    this.input.classList.add("is-danger");
    this.input.setAttribute("aria-invalid", "true");
    this.input.setAttribute("aria-describedby", "q-help q-error");
  };

  Search.prototype.clearError = function () {
    this.error.hidden = true;
    this.error.textContent = "";
    this.input.classList.remove("is-danger");
    this.input.removeAttribute("aria-invalid");
    this.input.setAttribute("aria-describedby", "q-help");
  };

  Search.prototype.show = function (query, found, limit) {
    var said = document.createElement("p");
    said.className = "fd-search-count";
    said.id = "search-count";
    if (found.length) {
      said.textContent = found.length + " found for \u201c" + query + "\u201d" +
        (found.length >= limit ? ", the newest " + limit : "") + ", newest first.";
    } else {
      said.textContent = "Nobody found for \u201c" + query + "\u201d.";
    }
    var parts = [said];
    var model = document.getElementById("recent-entries");
    if (found.length && model) {
      // The latest entries' table, with these rows.
      var table = model.closest("table").cloneNode(false);
      var caption = document.createElement("caption");
      caption.className = "is-sr-only";
      caption.textContent = "Search results, newest first";
      table.appendChild(caption);
      table.appendChild(model.closest("table").querySelector("thead").cloneNode(true));
      var body = document.createElement("tbody");
      body.id = "search-rows";
      found.forEach(function (entry) {
        body.appendChild(entryRow(entry));
      });
      table.appendChild(body);
      var wrap = document.createElement("div");
      wrap.className = "table-container";
      wrap.appendChild(table);
      parts.push(wrap);
    }
    this.results.replaceChildren.apply(this.results, parts);
  };

  Search.prototype.run = function (query) {
    var self = this;
    var mine = ++this.asked;
    var url = this.url + "?q=" + encodeURIComponent(query);
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.json().then(function (body) {
          return { ok: response.ok, body: body };
        });
      })
      .then(function (answer) {
        if (mine !== self.asked) {
          return; // a newer search is on its way
        }
        if (!answer.ok) {
          var errors = answer.body && answer.body.errors;
          self.showError((errors && errors.q) || (answer.body && answer.body.detail) || "The search failed.");
          return;
        }
        self.clearError();
        self.show(answer.body.query, answer.body.results, answer.body.limit);
        // The address says what is shown: a reload (or live.js's refresh) keeps it.
        var address = new URL(window.location.href);
        address.searchParams.set("q", query);
        window.history.replaceState(null, "", address.toString());
      });
  };

  // -- the page --------------------------------------------------------------------------------
  function Dashboard(root) {
    // Entries below this ledger index are already on the page (and in the chart).
    this.length = parseInt(root.dataset.ledgerLength, 10) || 0;
    this.recentMax = parseInt(root.dataset.recentMax, 10) || 20;
    this.chart = new Chart(root);
    this.chart.draw();
    this.search = new Search(root);
    this.timer = null;
    var chart = this.chart;
    if (root.dataset.rolling === "true" && chart.hourly) {
      // The last hour moves on even when nobody enters.
      this.timer = window.setInterval(function () {
        chart.extendTo(Math.floor(Date.now() / 60000));
        chart.update();
      }, 15000);
    }
  }

  Dashboard.prototype.add = function (entry) {
    if (typeof entry.index === "number") {
      if (entry.index < this.length) {
        return; // already counted when the page was read
      }
      this.length = entry.index + 1;
    }
    var at = Date.parse(entry.at);
    if (!isNaN(at)) {
      this.chart.count(at);
    }
    var recent = document.getElementById("recent-entries");
    if (recent) {
      var row = entryRow(entry);
      row.className = "fd-dash-new";
      recent.insertBefore(row, recent.firstElementChild);
      while (recent.children.length > this.recentMax) {
        recent.removeChild(recent.lastElementChild);
      }
      var empty = document.getElementById("recent-empty");
      if (empty) {
        empty.hidden = true;
      }
    }
  };

  Dashboard.prototype.destroy = function () {
    window.clearInterval(this.timer);
    this.chart.destroy();
  };

  var current = null;

  function start() {
    if (current) {
      current.destroy();
      current = null;
    }
    var root = document.getElementById("dashboard");
    if (root) {
      current = new Dashboard(root);
    }
  }

  document.addEventListener("fairdraw:live", function (event) {
    var detail = event.detail || {};
    if (!current) {
      return;
    }
    if (detail.type === "entry" && detail.data) {
      current.add(detail.data);
    } else if (detail.type === "snapshot" && detail.data && detail.data.resumed) {
      // Events were trimmed while the feed was away: the numbers here may be short.
      var notice = document.getElementById("dashboard-changed");
      var reload = document.getElementById("dashboard-reload");
      if (notice && reload) {
        reload.href = window.location.href;
        notice.hidden = false;
      }
    }
  });
  document.addEventListener("fairdraw:refreshed", start);
  start();
})();
