// Joins the session's Zoom meeting inside the page with Zoom's Meeting SDK (component view).
// The signature is asked from the server just before joining (short-lived, this meeting
// only); no secret is in this page. If anything fails, the page says so and the link to open
// the meeting in Zoom stays there.
(function () {
  "use strict";
  var root = document.getElementById("zoom-root");
  var status = document.getElementById("zoom-status");
  if (!root) { return; }
  function say(text) { if (status) { status.textContent = text; } }
  function fail(err) {
    say(root.dataset.failed);
    if (window.console && err) { window.console.warn("zoom embed:", err); }
  }
  if (!window.ZoomMtgEmbedded) { fail("sdk not loaded"); return; }
  var client = window.ZoomMtgEmbedded.createClient();
  fetch(root.dataset.signatureUrl, {
    method: "POST", credentials: "same-origin",
    headers: {"X-CSRFToken": root.dataset.csrf, "Accept": "application/json"}
  }).then(function (resp) {
    if (!resp.ok) { throw new Error("signature " + resp.status); }
    return resp.json();
  }).then(function (data) {
    return Promise.resolve(client.init({zoomAppRoot: root, language: root.dataset.lang, patchJsMedia: true}))
      .then(function () {
        return client.join({
          signature: data.signature, sdkKey: data.sdkKey, meetingNumber: data.meetingNumber,
          password: data.password, userName: data.userName, userEmail: data.userEmail
        });
      });
  }).then(function () { say(root.dataset.joined); }, fail);
})();
