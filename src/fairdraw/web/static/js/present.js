// fairdraw presenter page: the live entry count and state, and, for the draw's manager,
// the start button and the reveal controls (buttons, keyboard, a presentation clicker).
//
// Configured by [data-present] (data-present-presenter, data-csrf, and reveal.js's
// data-reveal-* attributes). Every control is also a plain form that works without this
// file; here the forms are sent with fetch to the JSON API instead, and reveal.js redraws.
// Elements are looked up when needed, so a copy of the page that live.js swaps in works
// the same.
(function () {
  "use strict";

  if (!window.fetch || !document.querySelector("[data-present]")) {
    return;
  }

  function q(selector) {
    return document.querySelector("[data-present] " + selector);
  }

  function attr(name) {
    var root = document.querySelector("[data-present]");
    return root ? root.getAttribute(name) : null;
  }

  var presenter = attr("data-present-presenter") === "true";
  var api = "/api/v1/draws/" + encodeURIComponent(attr("data-reveal-draw"));
  var status = "";
  var slots = 0;
  var step = 0;
  // Reveal requests are sent one after another, so they are stored in the order given.
  var queue = Promise.resolve();
  var pending = 0;
  var starting = false;

  // Each status in words (web/script_text.py: present.draft, present.open, …).
  var STATES = {};
  ["draft", "open", "closed", "drawn", "cancelled"].forEach(function (name) {
    STATES[name] = fdMessage("present." + name);
  });

  // Start from what the page shows (on load, and after live.js swapped in a new copy).
  function readPage() {
    status = attr("data-reveal-status") || "";
    slots = Number(attr("data-reveal-slots")) || 0;
    if (pending === 0) {
      step = Number(attr("data-reveal-step")) || 0;
    }
    // reveal.js may have brought a copy fetched a moment too early up to date; "open"
    // keeps the server's words, which know whether the deadline has passed.
    var words = q("[data-present-state]");
    if (words && status !== "open" && STATES[status]) {
      words.textContent = STATES[status];
    }
    var form = q("form[data-present-start]");
    if (form && status !== "open" && status !== "closed") {
      form.hidden = true;
    }
    updateControls();
  }

  function showCount(count) {
    var number = q("[data-present-count]");
    if (typeof count !== "number" || !number) {
      return;
    }
    number.textContent = String(count);
    var word = q("[data-present-count-word]");
    if (word) {
      word.textContent = word.getAttribute(count === 1 ? "data-one" : "data-many");
    }
  }

  function showError(text) {
    var box = q("[data-present-error]");
    if (box) {
      box.textContent = text;
      box.hidden = !text;
    }
  }

  function showStatus(next) {
    if (!next) {
      return;
    }
    var words = q("[data-present-state]");
    if (words && STATES[next] && next !== status) {
      words.textContent = STATES[next];
    }
    status = next;
    var form = q("form[data-present-start]");
    if (form && !starting) {
      // Only a draw still open or closed can be started; a raffle that closes by itself
      // got no button from the server and gets none here.
      if (status !== "open" && status !== "closed") {
        form.hidden = true;
      } else if (status === "closed") {
        form.querySelector("button").textContent = fdMessage("present.draw");
      }
    }
    updateControls();
  }

  function updateControls() {
    var backForm = q("form[data-present-step='back']");
    var nextForm = q("form[data-present-step='next']");
    if (!backForm || !nextForm) {
      return;
    }
    var drawn = status === "drawn";
    // The reveal controls appear once there is something to reveal.
    ["[data-present-controls]", "[data-present-keys]"].forEach(function (selector) {
      var node = q(selector);
      if (node) {
        node.hidden = !drawn;
      }
    });
    var back = backForm.querySelector("button");
    var next = nextForm.querySelector("button");
    back.disabled = !drawn || step <= 0;
    next.disabled = !drawn || step >= slots;
    next.textContent = fdMessage(step === 0 ? "present.first" : "present.next") + " \u2192";
    backForm.querySelector("input[name='step']").value = String(Math.max(step - 1, 0));
    nextForm.querySelector("input[name='step']").value = String(Math.min(step + 1, slots));
  }

  function tell(detail) {
    document.dispatchEvent(new CustomEvent("fairdraw:reveal", { detail: detail }));
  }

  // A JSON POST on the session cookie; rejects with the problem's detail.
  function post(url, body) {
    var headers = { Accept: "application/json", "X-CSRF-Token": attr("data-csrf") || "" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
    }
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (response) {
      return response
        .json()
        .catch(function () {
          return {};
        })
        .then(function (data) {
          if (!response.ok) {
            throw new Error(data.detail || data.title || "HTTP " + response.status);
          }
          return data;
        });
    });
  }

  // After a refusal: show what is stored.
  function reload() {
    return fetch(api, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (draw) {
        if (draw) {
          step = draw.reveal_step || 0;
          tell({ draw: draw });
        }
      })
      .catch(function () {});
  }

  // Show step ``wanted`` at once and store it; on refusal, go back to what is stored.
  function go(wanted) {
    if (status !== "drawn") {
      return;
    }
    wanted = Math.max(0, Math.min(slots, wanted));
    if (wanted === step) {
      return;
    }
    step = wanted;
    pending += 1;
    showError("");
    tell({ step: wanted, hold: true });
    updateControls();
    queue = queue
      .then(function () {
        return post(api + "/reveal", { step: wanted });
      })
      .then(
        function () {},
        function (error) {
          showError(fdMessage("present.not_saved", { error: error.message }));
          return reload();
        }
      )
      .then(function () {
        pending -= 1;
        if (pending === 0) {
          tell({ release: true });
        }
      });
  }

  function start(form) {
    if (starting) {
      return;
    }
    starting = true;
    showError("");
    var button = form.querySelector("button");
    button.disabled = true;
    button.textContent = "Drawing\u2026";
    var closing = status === "open" ? post(api + "/close") : Promise.resolve(null);
    closing
      .then(function () {
        return post(api + "/draw");
      })
      .then(
        function (draw) {
          starting = false;
          step = draw.reveal_step || 0;
          showCount(draw.entry_count);
          tell({ draw: draw });
          showStatus(draw.status);
        },
        function (error) {
          starting = false;
          var current = q("form[data-present-start] button");
          if (current) {
            current.disabled = false;
            current.textContent = fdMessage(status === "closed" ? "present.draw" : "present.close_and_draw");
          }
          showError(fdMessage("present.not_drawn", { error: error.message }));
        }
      );
  }

  document.addEventListener("fairdraw:live", function (event) {
    var detail = event.detail || {};
    var data = detail.data || {};
    if (detail.type === "count") {
      showCount(data.count);
    } else if (detail.type === "status") {
      showCount(data.count);
      showStatus(data.status);
    } else if (detail.type === "snapshot" && data.draw) {
      showCount(data.draw.entry_count);
      showStatus(data.draw.status);
    }
  });

  // reveal.js says what it shows; while requests are under way this page knows better.
  document.addEventListener("fairdraw:reveal-state", function (event) {
    var detail = event.detail || {};
    slots = detail.slots || slots;
    if (pending === 0 && detail.step !== null && detail.step !== undefined) {
      step = detail.step;
    }
    showStatus(detail.status);
  });

  document.addEventListener("fairdraw:refreshed", readPage);

  var fullscreen = q("[data-present-fullscreen]");
  if (fullscreen && document.fullscreenEnabled) {
    fullscreen.hidden = false;
    document.addEventListener("click", function (event) {
      if (!event.target.closest || !event.target.closest("[data-present-fullscreen]")) {
        return;
      }
      if (document.fullscreenElement) {
        document.exitFullscreen();
      } else {
        document.documentElement.requestFullscreen();
      }
    });
    document.addEventListener("fullscreenchange", function () {
      var button = q("[data-present-fullscreen]");
      if (button) {
        button.textContent = fdMessage(document.fullscreenElement ? "present.leave_full_screen" : "present.full_screen");
      }
    });
  }

  readPage();
  if (!presenter) {
    return;
  }

  // The forms, sent here instead (delegated: they may be swapped for fresh copies).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.closest || !form.closest("[data-present]")) {
      return;
    }
    if (form.matches("form[data-present-start]")) {
      event.preventDefault();
      start(form);
    } else if (form.matches("form[data-present-step]")) {
      event.preventDefault();
      go(step + (form.getAttribute("data-present-step") === "next" ? 1 : -1));
    }
  });

  // Space, right arrow and Page Down go on (a presentation clicker sends Page Down);
  // left arrow and Page Up go back.
  var FORWARD = { " ": true, Spacebar: true, ArrowRight: true, PageDown: true };
  var BACKWARD = { ArrowLeft: true, PageUp: true };
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.defaultPrevented) {
      return;
    }
    var target = event.target;
    var tag = target && target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable)) {
      return;
    }
    var forward = FORWARD[event.key] === true;
    var backward = BACKWARD[event.key] === true;
    // Space on a focused button or link is that control's own click.
    if (event.key === " " && (tag === "BUTTON" || tag === "A")) {
      return;
    }
    if ((!forward && !backward) || status !== "drawn") {
      return;
    }
    event.preventDefault();
    go(step + (forward ? 1 : -1));
  });
})();
