// Shows server-rendered UTC times (<time data-timed>) in the viewer's own time zone; the
// UTC text stays in the title for hover. Shared by the builder and the widget.
"use strict";

window.icalfeedLocalTime = function (start) {
  return new Date(start).toLocaleString(undefined, {
    weekday: "short", day: "numeric", month: "short", year: "numeric",
    hour: "2-digit", minute: "2-digit", timeZoneName: "short",
  });
};

document.addEventListener("DOMContentLoaded", () => {
  for (const time of document.querySelectorAll("time[data-timed]")) {
    time.textContent = window.icalfeedLocalTime(time.dateTime);
  }
});
