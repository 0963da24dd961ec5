// fairdraw ticket card: Print and Copy buttons. Without this file the card still shows
// the number and the code, and "Download ticket" still works (a plain link).
(function () {
  "use strict";

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });

  // Select the text of an element, so that a failed copy leaves it ready for Ctrl+C.
  function select(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function copy(element) {
    var text = element.textContent.trim();
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain http on a local network has no clipboard API; the older command still works.
    select(element);
    return document.execCommand("copy") ? Promise.resolve() : Promise.reject();
  }

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    var status = button.parentElement.querySelector("[data-copy-status]");
    if (!source) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      copy(source).then(
        function () {
          if (status) {
            status.textContent = fdMessage("ticket.copied");
          }
        },
        function () {
          select(source);
          if (status) {
            status.textContent = fdMessage("ticket.copy_yourself");
          }
        }
      );
    });
  });
})();
