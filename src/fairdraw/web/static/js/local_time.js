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
//
// Scripts that add times to a page themselves (dashboard.js) format them here too, through
// window.fairdrawTime: format(date, precision) and element(date, precision, fallback).
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
      if (precision === "clock") {
        // A chart's tick: the time of day alone.
        delete options.year;
        delete options.month;
        delete options.day;
        delete options.timeZoneName;
      } else if (precision === "day") {
        // A chart's tick once ticks are a day or more apart: the day alone.
        delete options.year;
        delete options.hour;
        delete options.minute;
        delete options.hourCycle;
        delete options.timeZoneName;
      }
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

  // Text of ``when`` (a Date) in the reader's zone: "minute" and "second" as every <time>
  // on a page, "clock" (time of day) and "day" for a chart's ticks.
  function format(when, precision) {
    return formatter(precision || "minute").format(when);
  }

  // A <time> element of ``when`` for a script that adds times to a page (dashboard.js),
  // already in the reader's zone; an unreadable instant is ``fallback`` as text.
  function timeElement(when, precision, fallback) {
    const element = document.createElement("time");
    if (Number.isNaN(when.getTime())) {
      element.textContent = fallback || "";
      return element;
    }
    element.dateTime = when.toISOString();
    element.dataset.local = precision || "minute";
    element.textContent = format(when, element.dataset.local);
    element.dataset.localShown = browserZone();
    return element;
  }

  window.fairdrawTime = Object.freeze({ zone: browserZone, format, element: timeElement });

  function localiseWithin(root) {
    if (root.matches && root.matches("time[data-local]")) localise(root);
    if (root.querySelectorAll) root.querySelectorAll("time[data-local]").forEach(localise);
  }

  // "YYYY-MM-DD" of today in ``zone``; "" for a zone the browser does not know.
  function todayIn(zone) {
    try {
      const parts = new Intl.DateTimeFormat("en-CA", {
        timeZone: zone,
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
      }).formatToParts(new Date());
      const part = (type) => parts.find((p) => p.type === type).value;
      return part("year") + "-" + part("month") + "-" + part("day");
    } catch (error) {
      return "";
    }
  }

  // A date field that starts at today in a picker's zone (data-today-in="picker id", a
  // fresh lottery form): today in the zone the picker now holds, for as long as nobody
  // has changed the date.
  function followToday(picker) {
    const form = picker.form;
    const field = form && form.querySelector('input[data-today-in="' + picker.id + '"]');
    if (!field) return;
    let shown = field.value;
    const follow = () => {
      const today = todayIn(picker.value.trim());
      if (!today || field.value !== shown) return;
      field.value = today;
      shown = today;
    };
    follow();
    picker.addEventListener("change", follow);
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
    followToday(input);
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
