// Autosave: while the writer types, the form is sent to the server, which
// keeps it encrypted as a draft; nothing is kept in the browser. Without
// JavaScript the form works the same, only without drafts.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave]");
  var status = document.getElementById("autosave-status");
  if (!form || !status || !window.fetch || !window.FormData) { return; }

  var url = form.getAttribute("data-autosave");
  var timer = null;
  var dirty = false;
  var sending = false;
  var submitting = false;
  var WAIT_MS = 2000;

  function say(text) { status.textContent = text; }

  function send() {
    timer = null;
    if (!dirty || sending || submitting) { return; }
    dirty = false;
    sending = true;
    say("Saving draft…");
    fetch(url, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (data) {
        if (response.ok && data.saved) {
          say("Draft saved at " + data.at + ". Only you can see it.");
        } else {
          say("Draft not saved: " + (data.error || "please try again."));
        }
      });
    }).catch(function () {
      dirty = true;
      say("Draft not saved: no connection. Your text is still here; keep writing.");
    }).then(function () {
      sending = false;
      if (dirty && !timer) { timer = window.setTimeout(send, WAIT_MS); }
    });
  }

  form.addEventListener("input", function () {
    dirty = true;
    if (timer) { window.clearTimeout(timer); }
    timer = window.setTimeout(send, WAIT_MS);
  });
  form.addEventListener("submit", function () {
    submitting = true;
    if (timer) { window.clearTimeout(timer); }
  });
})();
