// The Content-Security-Policy blocks inline event handlers (onchange="..."); this binds the ones that
// django-import-export's export page declares inline, so "Select all" keeps working.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input.select-toggle").forEach(function (toggle) {
    toggle.addEventListener("change", function (event) {
      if (typeof window.onSelectToggleChange === "function") {
        window.onSelectToggleChange(event);
      }
    });
  });
});
