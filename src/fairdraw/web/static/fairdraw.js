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

// An avatar that does not load (its host unreachable, or not allowed by the page's
// Content-Security-Policy) gives way to the initials the server put beside it.
(function () {
  "use strict";

  function fallBack(img) {
    var letters = img.getAttribute("data-initials");
    if (!letters || !img.parentNode) {
      return;
    }
    var span = document.createElement("span");
    span.className = img.className + " fd-avatar-initials";
    span.setAttribute("aria-hidden", "true");
    span.textContent = letters;
    img.parentNode.replaceChild(span, img);
  }

  document.addEventListener("error", function (event) {
    var target = event.target;
    if (target instanceof HTMLImageElement && target.hasAttribute("data-initials")) {
      fallBack(target);
    }
  }, true);
  document.querySelectorAll("img[data-initials]").forEach(function (img) {
    if (img.complete && img.naturalWidth === 0) {
      fallBack(img);
    }
  });
})();
