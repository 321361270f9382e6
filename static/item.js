// An item's page: the live countdown to its T-0 (dates.js), from what the server wrote on
// <article id="item">. The server never writes "now": the count is the browser's, on the
// sample's clock while the packaged sample is served.
"use strict";

(function () {
  document.addEventListener("DOMContentLoaded", () => {
    const facts = document.getElementById("item");
    const countdown = document.getElementById("countdown");
    if (!facts || !countdown || !window.icalfeedDates) return;
    const data = facts.dataset;
    window.icalfeedDates.countdown(countdown, [{
      kind: data.kind,
      display_name: data.name,
      start: data.start,
      net_utc: data.net,
      all_day: "allDay" in data,
      status: "cancelled" in data ? "cancelled" : "",
      precision: { name: data.precision, vague: "vague" in data },
    }]);
  });
})();
