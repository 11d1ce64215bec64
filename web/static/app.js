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
})();
