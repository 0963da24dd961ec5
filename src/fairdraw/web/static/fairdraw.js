// fairdraw: progressive enhancement only; every page works without this file.
(function () {
  "use strict";

  // On small screens the navbar menu is open by default (see fairdraw.css); once the
  // burger works, collapse the menu behind it.
  document.querySelectorAll(".navbar-burger[data-target]").forEach(function (burger) {
    var menu = document.getElementById(burger.getAttribute("data-target"));
    var navbar = burger.closest(".navbar");
    if (!menu || !navbar) {
      return;
    }
    navbar.classList.add("fd-has-burger");
    burger.hidden = false;
    burger.addEventListener("click", function () {
      var open = !burger.classList.contains("is-active");
      burger.classList.toggle("is-active", open);
      menu.classList.toggle("is-active", open);
      burger.setAttribute("aria-expanded", open ? "true" : "false");
    });
  });
})();
