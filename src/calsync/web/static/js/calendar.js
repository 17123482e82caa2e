// My calendar: FullCalendar over the page's JSON feed. Every change is sent to the server, which
// saves it through the CRM's services; a refused change is put back and the reason is shown.
//
// Times travel as wall-clock times in the signed-in user's time zone ("2027-03-15T10:00:00"): the
// server converts them, and the calendar runs in FullCalendar's UTC mode so the browser's own time
// zone and its daylight-saving rules never shift anything.
(function () {
  "use strict";

  var element = document.getElementById("calendar");
  if (!element || !window.FullCalendar) {
    return;
  }
  var message = document.getElementById("calendar-message");
  var csrfToken = document.querySelector('meta[name="csrf-token"]').getAttribute("content");

  function say(text, isError) {
    message.textContent = text;
    message.className = isError ? "error-summary" : "notice";
  }

  function wallClock(date, allDay) {
    // "2027-03-15" or "2027-03-15T10:30:00": the calendar's UTC mode holds wall-clock times.
    var pad = function (n) { return String(n).padStart(2, "0"); };
    var day = date.getUTCFullYear() + "-" + pad(date.getUTCMonth() + 1) + "-" + pad(date.getUTCDate());
    if (allDay) {
      return day;
    }
    return day + "T" + pad(date.getUTCHours()) + ":" + pad(date.getUTCMinutes()) + ":00";
  }

  function nowInUserZone() {
    // Today's "now" as a wall-clock time in the user's zone, for the now indicator and Today button.
    var parts = new Intl.DateTimeFormat("en-CA", {
      timeZone: element.dataset.timeZone, hourCycle: "h23",
      year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit"
    }).formatToParts(new Date());
    var get = function (type) { return parts.find(function (p) { return p.type === type; }).value; };
    return get("year") + "-" + get("month") + "-" + get("day") + "T" +
      get("hour") + ":" + get("minute") + ":" + get("second") + "Z";
  }

  function saveTimes(info) {
    var event = info.event;
    // FullCalendar leaves `end` empty when an event is dropped into the other row (all-day and
    // timed): that means its default length, one day or one hour.
    var end = event.end || new Date(event.start.getTime() + (event.allDay ? 86400000 : 3600000));
    var body = {
      start: wallClock(event.start, event.allDay),
      end: wallClock(end, event.allDay),
      all_day: event.allDay,
      version: event.extendedProps.version
    };
    fetch(element.dataset.moveUrlTemplate.replace("{id}", event.id), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    }).then(function (result) {
      if (!result.ok) {
        info.revert();
        say(result.data.error ? result.data.error.message : "The change was not saved.", true);
        if (result.status === 409) {
          calendar.refetchEvents();  // someone else saved it: show their version, ready to retry
        }
        return;
      }
      event.setExtendedProp("version", result.data.version);
      say("Saved: " + event.title + " now " + result.data.when + ".", false);
    }).catch(function () {
      info.revert();
      say("The change could not be sent. Check your connection and try again.", true);
    });
  }

  var calendar = new FullCalendar.Calendar(element, {
    timeZone: "UTC",
    now: nowInUserZone,
    initialView: element.dataset.initialView ||
      (window.matchMedia("(max-width: 40rem)").matches ? "timeGridDay" : "timeGridWeek"),
    initialDate: element.dataset.initialDate || undefined,
    headerToolbar: {
      left: "prev,next today",
      center: "title",
      right: "timeGridDay,timeGridWeek,dayGridMonth"
    },
    buttonText: { today: "Today", day: "Day", week: "Week", month: "Month" },
    firstDay: 1,
    dayHeaderFormat: { weekday: "short", day: "numeric", month: "short" },
    slotLabelFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
    eventTimeFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
    nowIndicator: true,
    navLinks: true,
    editable: true,
    selectable: true,
    selectMirror: true,
    eventStartEditable: true,
    eventDurationEditable: true,
    slotMinTime: "06:00:00",
    slotMaxTime: "22:00:00",
    scrollTime: "08:00:00",
    height: "auto",
    events: {
      url: element.dataset.feedUrl,
      failure: function () { say("Your events could not be loaded. Reload the page to try again.", true); }
    },
    eventDidMount: function (info) {
      var props = info.event.extendedProps;
      var label = info.event.title + (props.read_only_reason ? " (" + props.read_only_reason + ")" : "");
      info.el.setAttribute("aria-label", label);
      if (props.read_only_reason) { info.el.title = props.read_only_reason; }
    },
    select: function (selection) {
      var params = new URLSearchParams({
        start: wallClock(selection.start, selection.allDay),
        end: wallClock(selection.end, selection.allDay),
        all_day: selection.allDay ? "1" : "0"
      });
      window.location.href = element.dataset.newEventUrl + "?" + params.toString();
    },
    eventDrop: saveTimes,
    eventResize: saveTimes
  });
  calendar.render();
})();
