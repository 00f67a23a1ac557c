// Keeps the join page's countdown ticking. The server already wrote the text; without
// JavaScript the page works the same (reloading updates it).
(function () {
  "use strict";
  var el = document.getElementById("join-countdown");
  if (!el || el.dataset.startsIn === undefined) { return; }
  // The server says how many seconds remain; counting from page load keeps a wrong phone
  // clock out of it (it would otherwise reload in a loop or count to the wrong time).
  var loaded = Date.now();
  var starts = loaded + parseInt(el.dataset.startsIn, 10) * 1000;
  var opens = el.dataset.opensIn !== undefined ? loaded + (parseInt(el.dataset.opensIn, 10) + 2) * 1000 : NaN;
  if (isNaN(starts)) { return; }
  var es = (document.documentElement.lang || "es").indexOf("en") !== 0;
  function unit(n, one, many) { return n + " " + (n === 1 ? one : many); }
  function render() {
    // The join window opened while the page was open: reload so the server shows the button.
    if (!isNaN(opens) && Date.now() >= opens) { location.reload(); return; }
    var mins = Math.ceil((starts - Date.now()) / 60000);
    if (mins <= 0) { el.textContent = es ? "La sesión ya comenzó." : "The session has started."; return; }
    var d = Math.floor(mins / 1440), h = Math.floor((mins % 1440) / 60), m = mins % 60;
    var parts = [];
    if (d) { parts.push(es ? unit(d, "día", "días") : unit(d, "day", "days")); }
    if (h) { parts.push(es ? unit(h, "hora", "horas") : unit(h, "hour", "hours")); }
    if (m && !d) { parts.push(es ? unit(m, "minuto", "minutos") : unit(m, "minute", "minutes")); }
    el.textContent = (es ? "Comienza en " : "Starts in ") + parts.join(es ? " y " : " and ");
  }
  render();
  setInterval(render, 30000);
})();
