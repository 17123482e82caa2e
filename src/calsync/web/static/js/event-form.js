// Event form: the Add button puts the person chosen in "Add a person" on the attendee list at
// once, so several can be added before saving. Choosing alone adds nothing (arrow keys change a
// select's value as they move), and without JavaScript the choice is added when the form is saved.
(function () {
  "use strict";

  var picker = document.querySelector("[data-attendee-picker]");
  var button = document.querySelector("[data-add-attendee]");
  var list = document.getElementById("attendee-list");
  if (!picker || !button || !list) {
    return;
  }
  button.hidden = false;
  var counter = list.children.length;

  button.addEventListener("click", function () {
    var option = picker.options[picker.selectedIndex];
    if (!option || !option.value) {
      picker.focus();
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
