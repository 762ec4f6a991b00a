// Length limits: a field with data-limit shows, in its hint, how many characters it
// holds and how far over the limit it is. Nothing is cut here (no maxlength: browsers
// cut a paste at maxlength without a word); the server refuses a text that is too long
// and keeps it in the form. Without JavaScript the hint says the limit.
// The words come from the hint's data-limit-* patterns (templates/_form.html, in the
// page's language; "{count}", "{over}" and "{limit}" are filled in), the numbers are
// written as the page's language writes them; without the patterns, English.
(function () {
  "use strict";
  var fields = document.querySelectorAll("[data-limit]");
  if (!fields.length) { return; }

  var ENGLISH = {
    "data-limit-empty": "Up to {limit} characters.",
    "data-limit-count": "{count} of {limit} characters.",
    "data-limit-over":
      "{count} characters: {over} over the limit of {limit}. Shorten it before saving; nothing is cut."
  };

  var numbers;
  try {
    numbers = new Intl.NumberFormat(document.documentElement.lang || "en-GB");
  } catch (e) {
    numbers = new Intl.NumberFormat("en-GB");
  }
  function number(n) { return numbers.format(n); }

  function say(hint, name, values) {
    var pattern = hint.getAttribute(name) || ENGLISH[name];
    return pattern.replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? number(values[key]) : whole;
    });
  }

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
      hint.textContent = say(hint, "data-limit-over", { count: n, over: n - limit, limit: limit });
    } else if (n > 0) {
      hint.textContent = say(hint, "data-limit-count", { count: n, limit: limit });
    } else {
      hint.textContent = say(hint, "data-limit-empty", { limit: limit });
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
