// Comment on a passage: select words in the entry, then press the button that
// appears; the selection is copied into the form's "Passage" field. Without
// JavaScript the field is filled by hand, so this only saves typing. The button's
// words come from the entry's data-passage-button, in the page's language.
(function () {
  "use strict";
  var text = document.getElementById("entry-text");
  var quote = document.getElementById("quote");
  var body = document.getElementById("body");
  if (!text || !quote || !body) { return; }

  var button = document.createElement("button");
  button.type = "button";
  button.className = "button secondary passage-button";
  button.textContent = text.getAttribute("data-passage-button") || "Comment on the selected passage";
  button.hidden = true;
  text.insertAdjacentElement("afterend", button);

  function selectedPassage() {
    var sel = window.getSelection();
    if (!sel || sel.isCollapsed || sel.rangeCount === 0) { return ""; }
    var range = sel.getRangeAt(0);
    if (!text.contains(range.commonAncestorContainer)) { return ""; }
    return sel.toString().replace(/\s+/g, " ").trim();
  }

  var last = "";
  document.addEventListener("selectionchange", function () {
    var passage = selectedPassage();
    if (passage) { last = passage; }
    button.hidden = passage === "" && document.activeElement !== button;
  });
  // Keep the selection when the button is pressed with a mouse or finger.
  button.addEventListener("mousedown", function (event) { event.preventDefault(); });

  button.addEventListener("click", function () {
    var passage = selectedPassage() || last;
    if (!passage) { return; }
    quote.value = passage.slice(0, 1000);
    button.hidden = true;
    body.focus();
  });
})();
