// Autosave: while the writer types, the form is sent to the server, which
// keeps it encrypted as a draft; nothing is kept in the browser. Without
// JavaScript the form works the same, only without drafts.
// What it says comes from the status line's data-* words (templates/entries/form.html,
// in the page's language; "{time}" and "{reason}" are filled in); without them, English.
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

  var ENGLISH = {
    "data-saving": "Saving draft…",
    "data-saved": "Draft saved at {time}. Only you can see it.",
    "data-not-saved": "Draft not saved: {reason}",
    "data-try-again": "Draft not saved: please try again.",
    "data-offline": "Draft not saved: no connection. Your text is still here; keep writing."
  };

  function say(name, values) {
    var pattern = status.getAttribute(name) || ENGLISH[name];
    status.textContent = pattern.replace(/\{(\w+)\}/g, function (whole, key) {
      return values && Object.prototype.hasOwnProperty.call(values, key) ? values[key] : whole;
    });
  }

  function send() {
    timer = null;
    if (!dirty || sending || submitting) { return; }
    dirty = false;
    sending = true;
    say("data-saving");
    fetch(url, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (data) {
        if (response.ok && data.saved) {
          say("data-saved", { time: data.at });
        } else if (data.error) {
          say("data-not-saved", { reason: data.error });
        } else {
          say("data-try-again");
        }
      });
    }).catch(function () {
      dirty = true;
      say("data-offline");
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
