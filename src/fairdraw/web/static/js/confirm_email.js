// The confirmation link carries its code after "#", which the browser never sends to the
// server; put it into the form, and drop it from the address bar and history.
(function () {
  "use strict";
  var code = window.location.hash.replace(/^#/, "");
  var field = document.getElementById("token");
  if (!field || !/^[A-Za-z0-9_-]{43}$/.test(code)) return;
  field.value = code;
  window.history.replaceState(null, "", window.location.pathname);
  var button = document.getElementById("confirm-button");
  if (button) button.focus();
})();
