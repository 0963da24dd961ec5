// The share box's "Copy link" button (partials/share_box.html). Without this script the
// address stays in a read-only field to select and copy by hand.
"use strict";

(function () {
  function say(button, text) {
    const status = button.closest(".fd-share").querySelector(".fd-copy-status");
    if (status) status.textContent = text;
  }

  async function copy(button) {
    const field = document.getElementById(button.dataset.copy);
    if (!field) return;
    try {
      await navigator.clipboard.writeText(field.value);
      say(button, fdMessage("share.copied"));
    } catch (error) {
      // No clipboard access (an insecure page, a refused permission): select the text.
      field.focus();
      field.select();
      say(button, fdMessage("share.copy_yourself"));
    }
  }

  function start() {
    for (const button of document.querySelectorAll(".fd-copy-link")) {
      button.hidden = false;
      button.addEventListener("click", () => copy(button));
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
