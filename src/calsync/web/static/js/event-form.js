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

// All-day events have no times of day: hide the time fields while "All-day event" is ticked.
(function () {
  "use strict";

  var allDay = document.getElementById("field-all_day");
  var times = ["field-start_time", "field-end_time"].map(function (id) {
    var input = document.getElementById(id);
    return input ? input.closest(".field") : null;
  });
  if (!allDay || times.indexOf(null) !== -1) {
    return;
  }
  function update() {
    times.forEach(function (field) { field.hidden = allDay.checked; });
  }
  allDay.addEventListener("change", update);
  update();
})();
