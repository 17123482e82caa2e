// Event form: choosing a person in "Add a person" adds them to the attendee list at once, so
// several can be added before saving. Without JavaScript the choice is added on save instead.
(function () {
  "use strict";

  var picker = document.querySelector("[data-attendee-picker]");
  var list = document.getElementById("attendee-list");
  if (!picker || !list) {
    return;
  }
  var counter = list.children.length;

  picker.addEventListener("change", function () {
    var option = picker.options[picker.selectedIndex];
    if (!option || !option.value) {
      return;
    }
    var already = list.querySelector('input[value="' + CSS.escape(option.value) + '"]');
    if (already) {
      already.checked = true;
    } else {
      counter += 1;
      var item = document.createElement("li");
      var box = document.createElement("input");
      box.type = "checkbox";
      box.name = "attendee";
      box.value = option.value;
      box.id = "attendee-new-" + counter;
      box.checked = true;
      var label = document.createElement("label");
      label.htmlFor = box.id;
      label.textContent = option.textContent;
      item.appendChild(box);
      item.appendChild(label);
      list.appendChild(item);
    }
    picker.selectedIndex = 0;
    picker.focus();
  });
})();
