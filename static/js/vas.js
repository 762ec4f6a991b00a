// Visual-analogue items: a slider beside each 0-100 number field. The number field is
// the answer sent (and all there is without JavaScript); the slider writes into it
// and follows it. The slider is left out of the tab order and hidden from screen
// readers, which use the number field, so nothing is announced twice. An item not yet
// answered keeps an empty field: touching the slider is what gives it a value.
(function () {
  "use strict";
  var boxes = document.querySelectorAll("[data-vas]");
  Array.prototype.forEach.call(boxes, function (box) {
    var field = box.querySelector("input[type=number]");
    if (!field) { return; }
    var slider = document.createElement("input");
    slider.type = "range";
    slider.min = field.min;
    slider.max = field.max;
    slider.step = "1";
    slider.className = "vas-slider";
    slider.tabIndex = -1;
    slider.setAttribute("aria-hidden", "true");
    slider.value = field.value === "" ? "50" : field.value;
    if (field.value === "") { slider.classList.add("vas-untouched"); }
    slider.addEventListener("input", function () {
      field.value = slider.value;
      slider.classList.remove("vas-untouched");
    });
    field.addEventListener("input", function () {
      var n = parseInt(field.value, 10);
      if (!isNaN(n)) { slider.value = String(n); slider.classList.remove("vas-untouched"); }
    });
    field.parentNode.insertBefore(slider, field);
  });
})();
