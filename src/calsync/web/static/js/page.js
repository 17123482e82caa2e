// Every page: after a refused save, move focus to the list of problems so it is read out first
// (unless the page already focuses the field in error itself).
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary && !document.querySelector("[autofocus]")) {
    summary.focus();
  }
})();
