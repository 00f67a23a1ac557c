// Keeps the host page's "who joined" list current: fetches the list alone every few seconds
// and swaps it in (the container is aria-live, so a screen reader hears new arrivals).
// Without JavaScript the page works the same; the "Recargar" link updates it.
(function () {
  "use strict";
  var box = document.getElementById("joined-list");
  if (!box || !box.dataset.src || !window.fetch) { return; }
  var every = parseInt(box.dataset.interval, 10) || 10000;
  var last = box.innerHTML;
  function refresh() {
    if (document.hidden) { return; }
    fetch(box.dataset.src, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      // A redirect means the staff session ended (the login page): keep the list as it was.
      .then(function (r) { return r.ok && !r.redirected ? r.text() : null; })
      .then(function (html) {
        if (html !== null && html.trim() !== last.trim()) { box.innerHTML = html; last = html; }
      })
      .catch(function () { /* offline for a moment: the next round tries again */ });
  }
  setInterval(refresh, every);
})();
