// Event form, "Add a person": a search box that asks /people/search as the user types and lists
// the matching Individuals, Contacts and staff users (an ARIA 1.2 combobox with a listbox popup:
// arrow keys move through the matches, Enter picks one, Escape closes the list, then clears the
// box). A pick is put on the attendee list as a ticked "attendee" checkbox whose value is the
// person's token (individual:12, contact:3, user:7): the same field the form always sent, so
// saving the event is unchanged. The page never lists everyone, however many people the CRM holds.
// Without JavaScript the box stays hidden and "Add by email address" adds people by address.
(function () {
  "use strict";

  var picker = document.querySelector("[data-person-picker]");
  var attendees = document.getElementById("attendee-list");
  if (!picker || !attendees || !window.fetch || !window.AbortController) {
    return;
  }
  var input = picker.querySelector('[role="combobox"]');
  var listbox = picker.querySelector('[role="listbox"]');
  var status = picker.querySelector('[role="status"]');
  var searchUrl = picker.getAttribute("data-search-url");
  var DEBOUNCE_MS = 250;
  var LIMIT = 20;

  var timer = null;
  var inFlight = null;
  var matches = [];
  var active = -1;
  var added = 0;

  picker.hidden = false;

  function say(message) {
    status.textContent = message;
  }

  function options() {
    return listbox.querySelectorAll('[role="option"]');
  }

  function isOpen() {
    return !listbox.hidden;
  }

  function close() {
    listbox.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
    options().forEach(function (option) {
      option.setAttribute("aria-selected", "false");
    });
  }

  function open() {
    if (matches.length) {
      listbox.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }
  }

  function highlight(index) {
    var all = options();
    if (!all.length) {
      return;
    }
    open();
    active = (index + all.length) % all.length;
    all.forEach(function (option, position) {
      option.setAttribute("aria-selected", position === active ? "true" : "false");
    });
    input.setAttribute("aria-activedescendant", all[active].id);
    all[active].scrollIntoView({ block: "nearest" });
  }

  function badge(text) {
    var span = document.createElement("span");
    span.className = "badge badge-linked";
    span.textContent = text;
    return span;
  }

  function detail(text) {
    var span = document.createElement("span");
    span.className = "hint";
    span.textContent = text;
    return span;
  }

  function show(people, more, query) {
    matches = people;
    listbox.textContent = "";
    people.forEach(function (person, index) {
      var option = document.createElement("li");
      option.id = "person_search-option-" + index;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      var name = document.createElement("span");
      name.className = "person-name";
      name.textContent = person.name;
      option.append(name, " ", badge(person.kind_label), " ", detail(person.email || "no email"));
      // Keep the focus in the box when a match is clicked, so the list does not close first.
      option.addEventListener("mousedown", function (event) {
        event.preventDefault();
      });
      option.addEventListener("click", function () {
        choose(index);
      });
      listbox.appendChild(option);
    });
    close();
    open();
    if (!people.length) {
      say("No one in the CRM matches \u201c" + query + "\u201d. Someone new can be added by email address.");
    } else if (more) {
      say("The first " + people.length + " matches; type more to narrow them. Arrow keys to choose, Enter to add.");
    } else {
      say(people.length + (people.length === 1 ? " match" : " matches") + ". Arrow keys to choose, Enter to add.");
    }
  }

  function search() {
    var query = input.value.trim();
    if (inFlight) {
      inFlight.abort();
      inFlight = null;
    }
    if (!query) {
      matches = [];
      listbox.textContent = "";
      close();
      say("");
      return;
    }
    var request = new AbortController();
    inFlight = request;
    var url = searchUrl + "?q=" + encodeURIComponent(query) + "&limit=" + LIMIT;
    fetch(url, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      signal: request.signal,
    })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) {
            throw new Error(body.error ? body.error.message : "The search failed.");
          }
          return body;
        });
      })
      .then(function (body) {
        if (inFlight === request) {
          inFlight = null;
          show(body.people, body.more, query);
        }
      })
      .catch(function (error) {
        if (error.name !== "AbortError") {
          matches = [];
          listbox.textContent = "";
          close();
          say("The search did not work: " + error.message);
        }
      });
  }

  function choose(index) {
    var person = matches[index];
    if (!person) {
      return;
    }
    var existing = attendees.querySelector(
      'input[name="attendee"][value="' + CSS.escape(person.token) + '"]'
    );
    if (existing) {
      existing.checked = true;
      say(person.name + " is already an attendee.");
    } else {
      added += 1;
      var item = document.createElement("li");
      var box = document.createElement("input");
      box.type = "checkbox";
      box.name = "attendee";
      box.value = person.token;
      box.id = "attendee-picked-" + added;
      box.checked = true;
      var label = document.createElement("label");
      label.htmlFor = box.id;
      label.textContent = person.name;
      item.append(box, " ", label, " ", badge(person.kind_label));
      if (person.email) {
        item.append(" ", detail(person.email));
      }
      attendees.appendChild(item);
      say(person.name + " added to the attendees; saved when you save the event.");
    }
    input.value = "";
    matches = [];
    listbox.textContent = "";
    close();
    input.focus();
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(search, DEBOUNCE_MS);
  });

  input.addEventListener("keydown", function (event) {
    switch (event.key) {
      case "ArrowDown":
        event.preventDefault();
        if (!matches.length && input.value.trim()) {
          window.clearTimeout(timer);
          search();
        } else {
          highlight(isOpen() ? active + 1 : 0);
        }
        break;
      case "ArrowUp":
        event.preventDefault();
        highlight(isOpen() && active >= 0 ? active - 1 : -1);
        break;
      case "Enter":
        // Enter in the search box picks; it never submits the event half-chosen.
        if (input.value.trim()) {
          event.preventDefault();
          if (isOpen() && active >= 0) {
            choose(active);
          }
        }
        break;
      case "Escape":
        if (isOpen()) {
          event.preventDefault();
          close();
        } else if (input.value) {
          event.preventDefault();
          input.value = "";
          matches = [];
          listbox.textContent = "";
          say("");
        }
        break;
      case "Tab":
        close();
        break;
      default:
        break;
    }
  });

  input.addEventListener("blur", close);
  input.addEventListener("focus", open);
})();
