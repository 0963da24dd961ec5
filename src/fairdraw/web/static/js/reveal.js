// fairdraw live reveal: shows the winners as the presenter reveals them, on the public draw
// pages ("Live reveal" panel) and on the presenter page (spotlight, list, summary).
//
// Configured by the [data-reveal] element (data-reveal-draw, -kind, -status, -step,
// -slots; data-reveal-stage on the presenter page). It follows the "fairdraw:live" events
// that live.js dispatches (snapshot, status, reveal) and the page's own "fairdraw:reveal"
// events (present.js: detail {step}, {draw}, {hold}, {release}). After each change it
// dispatches "fairdraw:reveal-state" {status, step, slots, stage}. When live.js swaps in
// a fresh copy of the page ("fairdraw:refreshed") it starts again from that copy.
// Without this file the server-rendered state stays as it is: nothing is lost.
(function () {
  "use strict";

  if (!window.fetch) {
    return;
  }

  var root = null;
  var parts = {};
  var staged = false;
  var source = "";
  var state = { status: "", kind: "", step: null, slots: 0, draw: null };
  // What the page shows now (the server rendered it): only a change is animated.
  var shown = 0;
  // The newest state the feed told of, so a copy of the page fetched a moment too early
  // (live.js refreshes) is brought up to date at once.
  var latest = { status: null, step: undefined };
  // Live step changes counted, so that a slower fetch does not undo a newer step.
  var changes = 0;
  var loading = null;
  // While the presenter's own requests are under way, the feed's echoes of them are held
  // back (they would briefly show an older step); the latest one is applied afterwards.
  var holding = false;
  var held = null;
  var releaseTimer = null;

  function bind() {
    var previous = state;
    root = document.querySelector("[data-reveal]");
    if (!root) {
      return false;
    }
    var el = function (name) {
      return root.querySelector("[data-reveal-" + name + "]");
    };
    parts = {
      box: el("box"),
      intro: el("intro"),
      spotlight: el("spotlight"),
      winners: el("winners"),
      winnersHeading: el("winners-heading"),
      list: el("list"),
      qr: el("qr"),
      progress: el("progress"),
      announce: el("announce"),
    };
    staged = root.hasAttribute("data-reveal-stage");
    var drawId = root.getAttribute("data-reveal-draw");
    var stepAttr = root.getAttribute("data-reveal-step");
    state = {
      status: root.getAttribute("data-reveal-status") || "",
      kind: root.getAttribute("data-reveal-kind") || "",
      step: stepAttr === "" || stepAttr === null ? null : Number(stepAttr),
      slots: Number(root.getAttribute("data-reveal-slots")) || 0,
      // The result never changes once drawn: keep what was fetched for this draw.
      draw: previous.draw && previous.draw.id === drawId ? previous.draw : null,
    };
    source = "/api/v1/draws/" + encodeURIComponent(drawId);
    shown = state.status === "drawn" && state.step !== null ? state.step : 0;
    return true;
  }

  function slotsOf(draw) {
    var total = 0;
    (draw.prizes || []).forEach(function (p) {
      total += p.quantity;
    });
    return total;
  }

  function adopt(draw, keepStep) {
    state.draw = draw;
    state.status = draw.status;
    state.kind = draw.kind;
    state.slots = slotsOf(draw);
    if (!keepStep) {
      state.step = draw.reveal_step === undefined ? null : draw.reveal_step;
    }
  }

  function load() {
    if (!loading) {
      var seen = changes;
      loading = fetch(source, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("HTTP " + response.status);
          }
          return response.json();
        })
        .then(
          function (draw) {
            loading = null;
            adopt(draw, changes !== seen);
            return draw;
          },
          function (error) {
            loading = null;
            throw error;
          }
        );
    }
    return loading;
  }

  // The first ``upto`` prize slots of the result, in order: {number, prize, winner}.
  function slotList(draw, upto) {
    var result = draw && draw.result;
    if (!result) {
      return [];
    }
    var bySlot = {};
    result.winners.forEach(function (w) {
      bySlot[w.slot] = w;
    });
    var list = [];
    for (var p = 0; p < draw.prizes.length && list.length < upto; p += 1) {
      for (var q = 0; q < draw.prizes[p].quantity && list.length < upto; q += 1) {
        var slot = list.length;
        list.push({ number: slot + 1, prize: draw.prizes[p].name, winner: bySlot[slot] || null });
      }
    }
    return list;
  }

  function span(cls, text) {
    var s = document.createElement("span");
    s.className = cls;
    s.textContent = text;
    return s;
  }

  // {name, detail} in words, as partials/reveal_panel.html says them.
  function described(slot) {
    var w = slot.winner;
    if (!w) {
      return { name: fdMessage("reveal.no_winner"), detail: fdMessage("reveal.not_enough"), none: true };
    }
    if (state.kind === "raffle") {
      return {
        name: fdMessage("reveal.ticket", { number: String(w.ref).split(":")[0] }),
        detail: w.login ? fdMessage("reveal.held_by", { login: w.login }) : "",
      };
    }
    var label = w.name || w.login;
    var detail = w.login && w.login !== label ? (w.html_url ? "@" : "") + w.login : "";
    return { name: label, detail: detail };
  }

  function who(slot, cls) {
    var d = described(slot);
    var nodes = [span(cls + "-name" + (d.none ? " " + cls + "-none" : ""), d.name)];
    if (d.detail) {
      nodes.push(document.createTextNode(" "));
      nodes.push(span(cls + "-detail", d.detail));
    }
    return nodes;
  }

  function item(slot) {
    var li = document.createElement("li");
    li.className = "fd-reveal-item";
    li.setAttribute("data-slot", String(slot.number));
    li.appendChild(span("fd-reveal-prize", slot.prize));
    li.appendChild(document.createTextNode(" "));
    var whoSpan = span("fd-reveal-who", "");
    who(slot, "fd-reveal").forEach(function (node) {
      whoSpan.appendChild(node);
    });
    li.appendChild(whoSpan);
    return li;
  }

  function spotlight(slot) {
    var box = document.createElement("div");
    box.className = "fd-spotlight fd-reveal-new";
    box.setAttribute("data-slot", String(slot.number));
    var prize = document.createElement("p");
    prize.className = "fd-spotlight-prize";
    prize.appendChild(span("fd-spotlight-number", fdMessage("reveal.prize", { number: slot.number })));
    prize.appendChild(document.createTextNode(" " + slot.prize));
    box.appendChild(prize);
    var w = slot.winner;
    if (w && state.kind !== "raffle" && w.avatar_url) {
      var img = document.createElement("img");
      img.className = "fd-spotlight-avatar";
      img.src = w.avatar_url;
      img.alt = "";
      img.width = 160;
      img.height = 160;
      box.appendChild(img);
    }
    var line = document.createElement("p");
    line.className = "fd-spotlight-who";
    who(slot, "fd-spotlight").forEach(function (node) {
      line.appendChild(node);
    });
    box.appendChild(line);
    return box;
  }

  function progressText(step, slots) {
    if (step === null) {
      return "";
    }
    if (step <= 0) {
      return fdMessage("reveal.about_to");
    }
    if (step >= slots) {
      return fdMessage(slots > 1 ? "reveal.all_prizes" : "reveal.the_prize");
    }
    return fdMessage("reveal.progress", { step: step, num: slots, count: slots });
  }

  function setHidden(node, hidden) {
    if (node) {
      node.hidden = hidden;
    }
  }

  function render() {
    if (!root) {
      return;
    }
    var drawn = state.status === "drawn";
    if (drawn && state.step !== null && state.step > 0 && !(state.draw && state.draw.result)) {
      // The winners are needed to show them: fetch them once, then show them.
      load().then(
        function () {
          if (state.draw && state.draw.result) {
            render();
          }
        },
        function () {}
      );
      return;
    }
    var step = drawn && state.step !== null ? Math.max(0, Math.min(state.step, state.slots)) : 0;
    var started = drawn && state.step !== null;
    var stage = !drawn || step === 0 ? "intro" : step < state.slots ? "winner" : "summary";
    var wanted = slotList(state.draw, step);

    if (parts.list) {
      var items = parts.list.querySelectorAll("li");
      // Items already shown stay; only the difference moves.
      for (var i = items.length - 1; i >= step; i -= 1) {
        items[i].remove();
      }
      items = parts.list.querySelectorAll("li");
      if (step !== shown) {
        items.forEach(function (li) {
          li.classList.remove("fd-reveal-new");
        });
      }
      for (var k = items.length; k < wanted.length; k += 1) {
        parts.list.appendChild(item(wanted[k]));
      }
      if (step === shown + 1 && (stage === "summary" || !staged) && parts.list.lastElementChild) {
        parts.list.lastElementChild.classList.add("fd-reveal-new");
      }
    }
    if (parts.spotlight) {
      var current = parts.spotlight.firstElementChild;
      if (stage === "winner") {
        var slot = wanted[step - 1];
        if (!current || current.getAttribute("data-slot") !== String(slot.number)) {
          // A new node, so that its CSS animation plays from the start.
          parts.spotlight.textContent = "";
          parts.spotlight.appendChild(spotlight(slot));
        }
      } else {
        parts.spotlight.textContent = "";
      }
      setHidden(parts.spotlight, stage !== "winner");
    }
    setHidden(parts.intro, stage !== "intro");
    setHidden(parts.winners, stage === "intro");
    setHidden(parts.qr, stage !== "summary");
    setHidden(parts.box, !started);
    if (parts.winnersHeading) {
      parts.winnersHeading.textContent = fdMessage(stage === "summary" ? "reveal.all_winners" : "reveal.so_far");
    }
    if (parts.progress) {
      parts.progress.textContent = progressText(started ? step : null, state.slots);
    }

    if (started && step > shown && parts.announce) {
      var news = wanted.slice(shown, step).map(function (s) {
        var d = described(s);
        var values = { number: s.number, prize: s.prize, name: d.name, detail: d.detail };
        return fdMessage(d.detail ? "reveal.announce_detail" : "reveal.announce", values);
      });
      // A jump over many slots announces where it landed, not every slot on the way.
      if (news.length > 3) {
        news = news.slice(-1);
      }
      if (step === state.slots && state.slots > 1) {
        news.push(fdMessage("reveal.all_revealed"));
      }
      parts.announce.textContent = news.join(" ");
    }
    shown = step;

    root.setAttribute("data-reveal-status", state.status);
    root.setAttribute("data-reveal-step", state.step === null ? "" : String(state.step));
    root.setAttribute("data-reveal-slots", String(state.slots));
    if (staged) {
      root.setAttribute("data-reveal-stage", stage);
      // The presenter page draws every state itself: tell live.js that it shows this one,
      // so that it does not swap the page (and the presenter's controls) underneath.
      var main = document.getElementById("main");
      if (main && main.hasAttribute("data-live-status") && state.status) {
        main.setAttribute("data-live-status", state.status);
      }
    }
    document.dispatchEvent(
      new CustomEvent("fairdraw:reveal-state", {
        detail: { status: state.status, step: state.step, slots: state.slots, stage: stage },
      })
    );
  }

  function stepTo(step) {
    state.status = "drawn";
    state.step = step;
    changes += 1;
    render();
  }

  function release() {
    holding = false;
    if (held !== null) {
      var step = held;
      held = null;
      if (step !== state.step) {
        stepTo(step);
      }
    }
  }

  document.addEventListener("fairdraw:live", function (event) {
    var detail = event.detail || {};
    var data = detail.data || {};
    if (detail.type === "snapshot" && data.draw) {
      latest = { status: data.draw.status, step: data.draw.reveal_step };
      if (!root) {
        return;
      }
      if (holding) {
        held = data.draw.reveal_step;
      }
      adopt(data.draw, holding);
      render();
    } else if (detail.type === "status" && data.status) {
      latest.status = data.status;
      if (!root) {
        return;
      }
      state.status = data.status;
      if (data.status === "drawn" && !(state.draw && state.draw.result)) {
        load().then(render, function () {});
      } else {
        render();
      }
    } else if (detail.type === "reveal" && typeof data.step === "number") {
      latest = { status: "drawn", step: data.step };
      if (!root) {
        return;
      }
      if (holding) {
        held = data.step;
        return;
      }
      stepTo(data.step);
    }
  });

  // The presenter page's own moves (present.js).
  document.addEventListener("fairdraw:reveal", function (event) {
    var detail = event.detail || {};
    if (!root) {
      return;
    }
    if (detail.hold) {
      holding = true;
      window.clearTimeout(releaseTimer);
    }
    if (detail.draw) {
      adopt(detail.draw, false);
      changes += 1;
      render();
    } else if (typeof detail.step === "number") {
      stepTo(detail.step);
    }
    if (detail.release) {
      window.clearTimeout(releaseTimer);
      // Long enough for the feed to bring the echoes of the requests just answered.
      releaseTimer = window.setTimeout(release, 1500);
    }
  });

  // live.js swapped in a fresh copy of the page: start again from it, brought up to what
  // the feed has said since.
  document.addEventListener("fairdraw:refreshed", function () {
    if (!bind()) {
      return;
    }
    var stale =
      (latest.status && latest.status !== state.status) ||
      (latest.step !== undefined && latest.step !== state.step && !holding);
    if (stale) {
      state.status = latest.status || state.status;
      if (latest.step !== undefined && !holding) {
        state.step = latest.step;
      }
      if (state.status === "drawn" && !(state.draw && state.draw.result)) {
        load().then(
          function () {
            state.status = latest.status || state.status;
            render();
          },
          function () {}
        );
        return;
      }
    }
    render();
  });

  if (bind()) {
    render();
  }
})();
