// icalfeed widget: local times in the agenda, and a month grid built from the feed's JSON
// (/events.json, /launches.json or /feed.json, by what the selection includes).
// Without JavaScript the server-rendered agenda (in UTC) still works.
"use strict";

(function () {
  const body = document.body;
  let events = [];
  let shown = new Date();
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
    link.className = "chip" + (event.precision.vague ? " vague" : "") + (event.moved ? " moved" : "");
    link.href = event.webcast && /^https?:\/\//.test(event.webcast) ? event.webcast : `#${event.uid.split("@")[0]}`;
    if (event.webcast) { link.target = "_blank"; link.rel = "noopener"; }
    const when = event.all_day ? (event.net || "all day")
      : new Date(event.start).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
    link.textContent = event.display_name;
    link.title = `${event.title} — ${when}` + (event.all_day ? "" : ` (${event.start.slice(11, 16)} UTC)`) +
      (event.moved ? `. ${event.moved}` : "");
    return link;
  }

  function renderMonth() {
    const grid = document.getElementById("month-grid");
    const title = document.getElementById("month-title");
    title.textContent = shown.toLocaleDateString(undefined, { month: "long", year: "numeric" });
    const head = grid.tHead.rows[0];
    if (!head.cells.length) {
      const monday = new Date(2024, 0, 1);
      for (let i = 0; i < 7; i++) {
        const th = document.createElement("th");
        th.scope = "col";
        th.textContent = new Date(monday.getTime() + i * 86400000).toLocaleDateString(undefined, { weekday: "short" });
        head.append(th);
      }
    }
    const byDay = new Map();
    for (const event of events) {
      const key = dayKey(event);
      if (!byDay.has(key)) byDay.set(key, []);
      byDay.get(key).push(event);
    }
    const first = new Date(shown);
    const offset = (first.getDay() + 6) % 7;
    const cursor = new Date(first.getFullYear(), first.getMonth(), 1 - offset);
    const todayKey = dayKey({ all_day: false, start: new Date().toISOString() });
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
    document.getElementById("view-month").setAttribute("aria-pressed", String(view === "month"));
    document.getElementById("view-agenda").setAttribute("aria-pressed", String(view === "agenda"));
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
