// RCBU Console: small progressive enhancements. Every page works without this
// file; it only saves clicks. No inline scripts: the CSP forbids them.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Selects marked data-autosubmit (the account switcher) submit their form
  // on change, so the "Switch" button is only needed without JavaScript.
  document.addEventListener("change", function (ev) {
    var el = ev.target;
    if (el instanceof HTMLSelectElement && el.hasAttribute("data-autosubmit") && el.form) {
      el.form.requestSubmit();
    }
  });

  // Forms marked data-confirm ask before a dangerous submit (a server-side
  // confirmation page exists too, for when this script does not run).
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      ev.preventDefault();
    }
  });

  // Move focus to an error summary when a page shows one, so keyboard and
  // screen-reader users land on the list of problems.
  function focusSummary(root) {
    var s = (root || document).querySelector("[data-testid=error-summary]");
    if (s) { s.focus(); }
  }
  document.addEventListener("DOMContentLoaded", function () { focusSummary(document); });
  document.addEventListener("htmx:afterSwap", function (ev) { focusSummary(ev.target); });

  // Folded filter forms (FilterFold) and sections (FoldNarrow): from 640 px
  // they always show. CSS does that where ::details-content is supported;
  // elsewhere open them here. As fields change, the summary keeps counting the filters set.
  var wide = window.matchMedia("(min-width: 640px)");
  function unfoldFilters() {
    var css = window.CSS && CSS.supports && CSS.supports("selector(::details-content)");
    if (!css && wide.matches) {
      document.querySelectorAll("details.filter-fold, details.fold-narrow").forEach(function (d) { d.open = true; });
    }
  }
  document.addEventListener("DOMContentLoaded", unfoldFilters);
  function countFilters(ev) {
    var fold = ev.target instanceof Element ? ev.target.closest("details.filter-fold") : null;
    var label = fold && fold.querySelector("[data-filter-count]");
    if (!label) { return; }
    var n = 0;
    fold.querySelectorAll("input[name], select[name]").forEach(function (el) {
      if (el.type !== "hidden" && el.value !== "") { n++; }
    });
    fold.dataset.active = String(n);
    label.textContent = n === 0 ? "Filters" : "Filters (" + n + " active)";
  }
  document.addEventListener("change", countFilters);
  document.addEventListener("input", countFilters);

  // Close an open dropdown (<details>) when clicking elsewhere or on Escape.
  function closeMenus(except) {
    document.querySelectorAll("details.dropdown-menu[open]").forEach(function (d) {
      if (d !== except) { d.removeAttribute("open"); }
    });
  }
  document.addEventListener("click", function (ev) {
    closeMenus(ev.target instanceof Element ? ev.target.closest("details.dropdown-menu") : null);
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") { closeMenus(null); }
  });

  // Live status. A polled fragment (a job panel, the running jobs) says its
  // state in data-announce ("Backup 42: Completed"); one polite status
  // region per page reads that sentence when it changes, and stays quiet on
  // a poll that brings the same state. (A swapped aria-live region would
  // read the whole panel again on every poll: its elapsed time always moves.)
  var said = {};
  if (window.htmx) htmx.onLoad(function (root) {
    var region = document.getElementById("announcer");
    var first = root === document.body;
    var els = root.matches("[data-announce]") ? [root] : [];
    els.push.apply(els, root.querySelectorAll("[data-announce]"));
    els.forEach(function (el) {
      var key = el.id || el.getAttribute("data-testid") || "";
      var text = el.getAttribute("data-announce");
      if (said[key] === text) { return; }
      said[key] = text;
      if (!first && region) { region.textContent = text; }
    });
  });
})();
