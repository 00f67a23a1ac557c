/*
 * Puente Laboral: shows an office's, a network's or a region's upcoming activities on another
 * website. Paste where the list should appear:
 *
 *   <script src="https://SITIO/static/js/widget.js" data-oficina="omil-nunoa" async></script>
 *
 * (or data-red="red-oriente", or data-region="13"; optional data-limite="1".."20",
 * data-alto="420" in pixels, data-titulo for the frame's accessible name).
 * The script inserts an <iframe> with the list right after itself; the list works on its own
 * (no script inside), so the same iframe can be pasted directly where scripts are not allowed.
 * No dependencies, no cookies, nothing else is read from or written to the page.
 */
(function () {
  "use strict";

  var KINDS = [["oficina", "oficina"], ["red", "red"], ["region", "region"]];
  var REF = /^[A-Za-z0-9-]{1,180}$/;
  var SUFFIX = /\/static\/js\/widget\.js(?:[?#].*)?$/;

  function base(script) {
    return script.src.replace(SUFFIX, "");
  }

  function embed(script) {
    if (script.getAttribute("data-puente-listo")) {
      return;
    }
    var kind = null;
    var ref = null;
    for (var i = 0; i < KINDS.length; i += 1) {
      var value = script.getAttribute("data-" + KINDS[i][0]);
      if (value) {
        kind = KINDS[i][1];
        ref = value.trim();
        break;
      }
    }
    if (!kind || !REF.test(ref) || !SUFFIX.test(script.src)) {
      return;
    }
    script.setAttribute("data-puente-listo", "1");
    var url = base(script) + "/widget/" + kind + "/" + encodeURIComponent(ref);
    var limit = script.getAttribute("data-limite");
    if (limit && /^[0-9]{1,2}$/.test(limit)) {
      url += "?limite=" + limit;
    }
    var height = script.getAttribute("data-alto");
    var frame = document.createElement("iframe");
    frame.src = url;
    frame.title = script.getAttribute("data-titulo") || "Próximos talleres y ferias laborales (Puente Laboral)";
    frame.loading = "lazy";
    frame.width = "100%";
    frame.height = height && /^[0-9]{2,4}$/.test(height) ? height : "420";
    frame.style.border = "0";
    frame.style.maxWidth = "100%";
    script.parentNode.insertBefore(frame, script.nextSibling);
  }

  function run() {
    var scripts = document.querySelectorAll("script[data-oficina], script[data-red], script[data-region]");
    for (var i = 0; i < scripts.length; i += 1) {
      embed(scripts[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", run);
  } else {
    run();
  }
}());
