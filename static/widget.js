// icalfeed widget: local times in the agenda, a month grid built from the feed's JSON
// (/events.json, /launches.json or /feed.json, by what the selection includes) and a
// countdown to the next timed item, all in the visitor's language (dates.js).
// Without JavaScript the server-rendered agenda (in UTC, and saying so) still works.
"use strict";

(function () {
  const body = document.body;
  const dates = window.icalfeedDates;
  let events = [];
  // The month of "now": the sample's capture (launches' when only launches are shown).
  const monthKind = /\/launches\.json/.test(body.dataset.jsonUrl || "") ? "launch" : "event";
  let shown = new Date(dates.now(monthKind));
  shown = new Date(shown.getFullYear(), shown.getMonth(), 1);

  // The calendar day an event belongs to, for the viewer: local for timed events, the UTC
  // date for all-day and vague ones (their date is a date, not an instant).
  function dayKey(event) {
    if (event.all_day) return event.start.slice(0, 10);
    const d = new Date(event.start);
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
  }

  function chip(event) {
    const link = document.createElement("a");
    link.className = "chip" + (event.precision?.vague ? " vague" : "") + (event.moved ? " moved" : "");
    // Its own page (dates, webcasts, status), beside the site the widget is framed in.
    link.href = dates.pagePath(event);
    link.target = "_blank";
    link.rel = "noopener";
    const when = dates.when(event);
    link.textContent = event.display_name;
    link.title = `${event.title} — ${when}` + (event.all_day ? "" : ` (${event.start.slice(11, 16)} UTC)`) +
      (event.moved ? `. ${event.moved}` : "");
    link.setAttribute("aria-label", `${event.display_name}, ${when}` + (event.moved ? `. ${event.moved}` : ""));
    return link;
  }

  function renderMonth() {
    const grid = document.getElementById("month-grid");
    const title = document.getElementById("month-title");
    title.textContent = dates.format({ month: "long", year: "numeric" }).format(shown);
    title.lang = dates.lang;
    const head = grid.tHead.rows[0];
    const firstDay = dates.weekStart();  // 0 Sunday … 6 Saturday, by the visitor's region
    if (!head.cells.length) {
      const sunday = new Date(2024, 0, 7);
      const short = dates.format({ weekday: "short" });
      const long = dates.format({ weekday: "long" });
      for (let i = 0; i < 7; i++) {
        const day = new Date(sunday.getTime() + ((firstDay + i) % 7) * 86400000);
        const th = document.createElement("th");
        th.scope = "col";
        th.lang = dates.lang;
        th.textContent = short.format(day);
        th.abbr = long.format(day);
        head.append(th);
      }
    }
    const byDay = new Map();
    // Items LL2 knows only to the week, month, quarter or year get no day cell (that would
    // be a false precise date): they are listed under the grid, in the month of their NET.
    const vague = events.filter((e) => e.precision?.vague && e.start.slice(0, 7) ===
      `${shown.getFullYear()}-${String(shown.getMonth() + 1).padStart(2, "0")}`);
    const vagueBox = document.getElementById("month-vague");
    vagueBox.hidden = !vague.length;
    vagueBox.querySelector("ul").replaceChildren(...vague.map((event) => {
      const item = document.createElement("li");
      const when = document.createElement("span");
      when.className = "tag";
      when.lang = dates.lang;
      when.textContent = dates.when(event);
      item.append(when, " ", chip(event));
      return item;
    }));
    for (const event of events) {
      if (event.precision?.vague) continue;
      const key = dayKey(event);
      if (!byDay.has(key)) byDay.set(key, []);
      byDay.get(key).push(event);
    }
    const first = new Date(shown);
    const offset = (first.getDay() - firstDay + 7) % 7;
    const cursor = new Date(first.getFullYear(), first.getMonth(), 1 - offset);
    const todayKey = dayKey({ all_day: false, start: new Date(dates.now(monthKind)).toISOString() });
    const rows = [];
    for (let week = 0; week < 6; week++) {
      const row = document.createElement("tr");
      for (let day = 0; day < 7; day++) {
        const key = `${cursor.getFullYear()}-${String(cursor.getMonth() + 1).padStart(2, "0")}-${String(cursor.getDate()).padStart(2, "0")}`;
        const cell = document.createElement("td");
        if (cursor.getMonth() !== shown.getMonth()) cell.classList.add("other");
        if (key === todayKey) cell.classList.add("today");
        const number = document.createElement("span");
        number.className = "day-number";
        number.textContent = String(cursor.getDate());
        cell.append(number);
        for (const event of byDay.get(key) || []) cell.append(chip(event));
        row.append(cell);
        cursor.setDate(cursor.getDate() + 1);
      }
      rows.push(row);
      if (cursor.getMonth() !== shown.getMonth() && week >= 3) break;
    }
    grid.tBodies[0].replaceChildren(...rows);
  }

  function setView(view) {
    body.dataset.view = view;
    document.getElementById("month").hidden = view !== "month";
    document.getElementById("agenda").hidden = view !== "agenda";
    for (const name of ["agenda", "month"]) {
      const link = document.getElementById(`view-${name}`);
      if (name === view) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    if (view === "month") renderMonth();
  }

  async function load() {
    try {
      const response = await fetch(body.dataset.jsonUrl);
      if (response.ok) {
        const data = await response.json();
        // Events and launches arrive as two lists; the grid shows them together by start.
        events = [...(data.events || []), ...(data.launches || [])]
          .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
      }
    } catch (error) {
      body.setAttribute("data-error", String(error));
    }
    const countdown = document.getElementById("countdown");
    if (countdown) dates.countdown(countdown, events);
    body.setAttribute("data-loaded", "true");
    if (body.dataset.view === "month") renderMonth();
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const view of ["agenda", "month"]) {
      document.getElementById(`view-${view}`).addEventListener("click", (event) => {
        event.preventDefault();
        setView(view);
      });
    }
    document.getElementById("prev-month").addEventListener("click", () => {
      shown = new Date(shown.getFullYear(), shown.getMonth() - 1, 1);
      renderMonth();
    });
    document.getElementById("next-month").addEventListener("click", () => {
      shown = new Date(shown.getFullYear(), shown.getMonth() + 1, 1);
      renderMonth();
    });
    setView(body.dataset.view);
    load();
  });
})();
