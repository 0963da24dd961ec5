// fairdraw pages: progressive enhancement only; every form works without this file.
(function () {
  "use strict";

  // "Add another prize": copy the last prize row with its number moved on by one.
  document.querySelectorAll("[data-prize-rows]").forEach(function (rows) {
    var button = rows.parentElement.querySelector("[data-add-prize]");
    if (!button) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      var all = rows.querySelectorAll("[data-prize-row]");
      var last = all[all.length - 1];
      var next = all.length;
      var copy = last.cloneNode(true);
      var pattern = /prizes\.\d+\./g;
      copy.querySelectorAll("[id], [for], [name], [aria-describedby]").forEach(function (el) {
        ["id", "for", "name", "aria-describedby"].forEach(function (attr) {
          var value = el.getAttribute(attr);
          if (value) {
            el.setAttribute(attr, value.replace(pattern, "prizes." + next + "."));
          }
        });
      });
      copy.querySelectorAll(".is-danger").forEach(function (el) {
        if (el.classList.contains("help")) {
          el.remove();
        } else {
          el.classList.remove("is-danger");
        }
      });
      copy.querySelectorAll("input").forEach(function (input) {
        input.value = "";
        input.removeAttribute("aria-invalid");
        input.removeAttribute("aria-describedby");
      });
      copy.querySelectorAll("label").forEach(function (label) {
        if (/^Prize \d+$/.test(label.textContent.trim())) {
          label.textContent = fdMessage("pages.prize", { number: next + 1 });
        }
      });
      rows.appendChild(copy);
      copy.querySelector("input").focus();
    });
  });

  // Forms that undo something ask first (e.g. cancelling a draw).
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });
})();
