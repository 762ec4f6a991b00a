// Length limits: a field with data-limit shows, in its hint, how many characters it
// holds and how far over the limit it is. Nothing is cut here (no maxlength: browsers
// cut a paste at maxlength without a word); the server refuses a text that is too long
// and keeps it in the form. Without JavaScript the hint says the limit.
(function () {
  "use strict";
  var fields = document.querySelectorAll("[data-limit]");
  if (!fields.length) { return; }

  function number(n) { return n.toLocaleString("en-GB"); }

  // Count as the server does: a character outside the basic plane counts once.
  function length(text) {
    var pairs = text.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g);
    return text.length - (pairs ? pairs.length : 0);
  }

  function update(field, hint, limit) {
    var n = length(field.value);
    var over = n > limit;
    hint.classList.toggle("over-limit", over);
    if (over) {
      hint.textContent = number(n) + " characters: " + number(n - limit) +
        " over the limit of " + number(limit) + ". Shorten it before saving; nothing is cut.";
    } else if (n > 0) {
      hint.textContent = number(n) + " of " + number(limit) + " characters.";
    } else {
      hint.textContent = "Up to " + number(limit) + " characters.";
    }
  }

  Array.prototype.forEach.call(fields, function (field) {
    var limit = parseInt(field.getAttribute("data-limit"), 10);
    var hint = document.getElementById(field.id + "-limit");
    if (!limit || !hint) { return; }
    var refresh = function () { update(field, hint, limit); };
    field.addEventListener("input", refresh);
    refresh();
  });
})();
