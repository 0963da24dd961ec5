// Times in the reader's own time zone, and the searchable time zone picker.
//
// Every instant on a page is <time datetime="ISO-8601 UTC" data-local="minute|second">
// whose text is the instant in the zone of the draw or lottery it belongs to
// (web/pages/time_format.py). This rewrites that text into the browser's zone, in the
// page's language (<html lang>), and keeps the server's text as the element's title.
// Without this script the server's text, with its zone's full name, stands.
//
// A zone picker (partials/zone_field.html, a <select> of zones grouped by region) becomes
// a text field with a list of the same zones to search by typing; on a fresh form it
// starts at the browser's zone.
"use strict";

(function () {
  const locale = document.documentElement.lang || undefined;

  function browserZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (error) {
      return "";
    }
  }

  const formats = new Map();

  function formatter(precision) {
    if (!formats.has(precision)) {
      const options = {
        year: "numeric",
        month: "short",
        day: "numeric",
        hour: "2-digit",
        minute: "2-digit",
        hourCycle: "h23",
        timeZoneName: "long",
      };
      if (precision === "second") options.second = "2-digit";
      let format;
      try {
        format = new Intl.DateTimeFormat(locale, options);
      } catch (error) {
        // A language tag the browser does not know: its own language then.
        format = new Intl.DateTimeFormat(undefined, options);
      }
      formats.set(precision, format);
    }
    return formats.get(precision);
  }

  function localise(element) {
    if (element.dataset.localShown !== undefined) return;
    const when = new Date(element.dateTime);
    if (Number.isNaN(when.getTime())) return;
    const original = element.textContent.trim();
    element.textContent = formatter(element.dataset.local).format(when);
    if (!element.title) element.title = original;
    element.dataset.localShown = browserZone();
  }

  function localiseWithin(root) {
    if (root.matches && root.matches("time[data-local]")) localise(root);
    if (root.querySelectorAll) root.querySelectorAll("time[data-local]").forEach(localise);
  }

  function enhancePicker(select) {
    const input = document.createElement("input");
    const list = document.createElement("datalist");
    input.type = "text";
    input.className = "input" + (select.getAttribute("aria-invalid") ? " is-danger" : "");
    input.id = select.id;
    input.name = select.name;
    input.autocomplete = "off";
    input.spellcheck = false;
    input.setAttribute("autocapitalize", "none");
    input.setAttribute("list", select.id + "-zones");
    input.dataset.zonePicker = "";
    for (const name of ["aria-describedby", "aria-invalid", "required"]) {
      if (select.hasAttribute(name)) input.setAttribute(name, select.getAttribute(name));
    }
    list.id = select.id + "-zones";
    for (const option of select.querySelectorAll("option")) {
      const item = document.createElement("option");
      item.value = option.value;
      item.label = option.textContent;
      list.append(item);
    }
    const zone = browserZone();
    input.value = select.hasAttribute("data-browser-zone") && zone ? zone : select.value;
    // Choosing from the list or clearing to type anew: select the text on focus.
    input.addEventListener("focus", () => input.select());
    const wrapper = select.closest(".select") || select;
    wrapper.replaceWith(input, list);
  }

  function start() {
    localiseWithin(document);
    document.querySelectorAll("select[data-zone-picker]").forEach(enhancePicker);
    // Times that arrive later (live updates) are shown the same way.
    new MutationObserver((changes) => {
      for (const change of changes) change.addedNodes.forEach(localiseWithin);
    }).observe(document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
