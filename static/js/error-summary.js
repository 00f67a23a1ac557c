// Move focus to the error summary at the top of a form that came back with problems, for
// browsers that ignore `autofocus` on a non-form element. The page works without this file.
(function () {
  var summary = document.querySelector("[data-error-summary]");
  if (summary && document.activeElement !== summary) {
    summary.focus();
  }
})();
