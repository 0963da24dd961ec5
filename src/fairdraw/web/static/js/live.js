// fairdraw live pages: follows the feed named by <main data-live-feed="…">, resumes
// after a dropped connection from the last event seen, and keeps the page current:
// counts change in place; when the draw changes state (closed, sealed, drawn, cancelled)
// the page's content is fetched again and swapped in, without a reload. Every other
// script hears each message as a "fairdraw:live" event on document.
// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  var main = document.getElementById("main");
  if (!main || !main.hasAttribute("data-live-feed") || !window.EventSource) {
    return;
  }
  var TYPES = ["snapshot", "count", "entry", "status", "sealed", "reveal", "forfeit"];
  var MAX_DELAY = 30000;
  var url = main.getAttribute("data-live-feed");
  var last = main.getAttribute("data-live-last") || "";
  var delay = 1000;
  var source = null;
  var timer = null;
  var refreshing = null;
  var announcer = document.createElement("p");
  announcer.className = "is-sr-only";
  announcer.setAttribute("role", "status");
  announcer.setAttribute("aria-live", "polite");
  document.body.appendChild(announcer);

  function shownStatus() {
    return main.getAttribute("data-live-status") || "";
  }

  // Counts are grouped as the page's language writes them (1,234 / 1.234), as the server did.
  function grouped(number) {
    return number.toLocaleString(document.documentElement.lang || undefined);
  }

  function setCount(count) {
    if (typeof count !== "number") {
      return;
    }
    main.querySelectorAll("[data-live-count]").forEach(function (node) {
      node.textContent = grouped(count);
    });
    main.querySelectorAll("[data-live-left]").forEach(function (node) {
      var total = parseInt(node.getAttribute("data-live-total"), 10);
      if (!isNaN(total)) {
        node.textContent = grouped(Math.max(0, total - count));
      }
    });
  }

  // Fetch this page again and swap its content in: the server renders every state.
  // A change that arrives while a copy is on its way may be newer than that copy: fetch
  // once more when it lands, so the page always ends on the latest state.
  var again = null;

  function refresh(why) {
    if (refreshing) {
      again = why || again || "";
      return refreshing;
    }
    refreshing = fetch(window.location.href, { credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (!html) {
          return;
        }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("main");
        if (!fresh) {
          return;
        }
        main.innerHTML = fresh.innerHTML;
        ["data-live-status", "data-live-feed"].forEach(function (name) {
          var value = fresh.getAttribute(name);
          if (value !== null) {
            main.setAttribute(name, value);
          }
        });
        if (why) {
          announcer.textContent = why;
        }
        document.dispatchEvent(new CustomEvent("fairdraw:refreshed"));
        var feed = main.getAttribute("data-live-feed");
        if (feed && feed !== url) {
          url = feed; // e.g. a lottery's next day: follow its round from the start
          last = "";
          reconnect(0);
        }
      })
      .catch(function () {})
      .then(function () {
        refreshing = null;
        if (again !== null) {
          var next = again;
          again = null;
          refresh(next);
        }
      });
    return refreshing;
  }

  // A status in words (web/script_text.py: live.open, live.closed, …).
  function statusWords(status) {
    return ["open", "closed", "drawn", "cancelled"].indexOf(status) < 0 ? "" : fdMessage("live." + status);
  }

  function apply(type, data) {
    if (type === "snapshot") {
      var draw = data.draw;
      if (draw) {
        setCount(draw.entry_count);
        if (draw.status !== shownStatus()) {
          refresh(statusWords(draw.status));
        }
      }
    } else if (type === "count" || type === "entry") {
      setCount(data.count);
    } else if (type === "status") {
      if (typeof data.count === "number") {
        setCount(data.count);
      }
      if (data.status !== shownStatus()) {
        refresh(statusWords(data.status));
      }
    } else if (type === "sealed") {
      refresh(fdMessage("live.sealed"));
    } else if (type === "forfeit") {
      refresh(fdMessage("live.forfeit"));
    }
  }

  function connect() {
    var target = url;
    if (last) {
      target += (url.indexOf("?") < 0 ? "?" : "&") + "last_event_id=" + encodeURIComponent(last);
    }
    source = new EventSource(target, { withCredentials: true });
    main.setAttribute("data-live-state", "connecting");
    source.onopen = function () {
      main.setAttribute("data-live-state", "live");
    };
    TYPES.forEach(function (type) {
      source.addEventListener(type, function (message) {
        if (message.lastEventId) {
          last = message.lastEventId;
        }
        delay = 1000;
        var data;
        try {
          data = JSON.parse(message.data);
        } catch (error) {
          return;
        }
        apply(type, data);
        document.dispatchEvent(
          new CustomEvent("fairdraw:live", { detail: { type: type, data: data, id: last } })
        );
      });
    });
    // Our own reconnects, not EventSource's: they back off (with jitter, so a restarted
    // server is not met by every page at once) and say where to resume.
    source.onerror = function () {
      main.setAttribute("data-live-state", "reconnecting");
      reconnect(delay * (0.5 + Math.random()));
      delay = Math.min(delay * 2, MAX_DELAY);
    };
  }

  function reconnect(wait) {
    if (source) {
      source.close();
      source = null;
    }
    clearTimeout(timer);
    timer = setTimeout(connect, wait);
  }

  connect();
})();
