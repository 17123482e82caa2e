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
