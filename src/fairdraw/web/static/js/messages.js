// The words of the page scripts in the page's language: base.html renders them into the
// JSON data block <script type="application/json" id="fd-messages"> (read, never run),
// keyed as in fairdraw/web/script_text.py. fdMessage("reveal.prize", { number: 2 })
// gives "Prize 2" / "Preis 2"; a message with plural forms ({one, other}) takes the
// form of values.count in the page's language. A key the page lacks gives the key
// itself, so a missing word shows up instead of failing.
(function () {
  "use strict";

  var messages = null;

  function load() {
    if (messages === null) {
      messages = {};
      var block = document.getElementById("fd-messages");
      if (block) {
        try {
          messages = JSON.parse(block.textContent) || {};
        } catch (error) {
          messages = {};
        }
      }
    }
    return messages;
  }

  window.fdMessage = function (key, values) {
    var text = Object.prototype.hasOwnProperty.call(load(), key) ? messages[key] : key;
    if (typeof text === "object" && text !== null) {
      var count = values ? Number(values.count) : NaN;
      var category = "other";
      if (window.Intl && Intl.PluralRules && !isNaN(count)) {
        category = new Intl.PluralRules(document.documentElement.lang || "en").select(count);
      }
      text = text[category] || text.other || key;
    }
    return text.replace(/%\((\w+)\)s/g, function (whole, name) {
      return values && Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  };
})();
