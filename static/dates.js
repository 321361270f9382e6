// Dates in the visitor's language and time zone, with Intl (shared by the builder and the
// widget). The language is the page's `lang=` parameter when it has one (the server puts
// it in <html data-lang>), else the browser's. Server-rendered times are UTC and say so;
// this script rewrites them in local time. Vague dates stay vague: only the month, quarter
// or year LL2 knows is written, never a day or a time it does not know.
"use strict";

(function () {
  const asked = document.documentElement.dataset.lang;
  const lang = (() => {
    for (const tag of [asked, ...(navigator.languages || []), navigator.language, "en"]) {
      try {
        if (tag && Intl.DateTimeFormat.supportedLocalesOf([tag]).length) return Intl.getCanonicalLocales(tag)[0];
      } catch (error) { /* not a language tag: try the next */ }
    }
    return "en";
  })();
  const utc = { timeZone: "UTC" };
  const format = (options) => new Intl.DateTimeFormat(lang, options);
  const instant = format({
    weekday: "short", day: "numeric", month: "short", year: "numeric",
    hour: "numeric", minute: "2-digit", timeZoneName: "short",
  });
  const day = format({ weekday: "short", day: "numeric", month: "short", year: "numeric", ...utc });
  const monthYear = format({ month: "long", year: "numeric", ...utc });
  const shortMonths = format({ month: "short", year: "numeric", ...utc });
  const yearOnly = format({ year: "numeric", ...utc });
  const days7 = format({ day: "numeric", month: "short", year: "numeric", ...utc });
  const NET = "NET";  // LL2's "no earlier than": the same letters in every language

  // The first and last month of LL2's quarter_N or half_N of the item's year.
  function period(date, name) {
    const [kind, number] = name.split("_");
    const months = kind === "quarter" ? 3 : 6;
    const first = (Number(number) - 1) * months;
    const year = date.getUTCFullYear();
    return [new Date(Date.UTC(year, first, 1)), new Date(Date.UTC(year, first + months - 1, 1))];
  }

  // How well LL2 knows an item's date, in the visitor's words (`item` is a feed JSON item).
  function when(item) {
    const start = new Date(item.start);
    const name = item.precision && item.precision.name;
    if (!item.precision || !item.precision.vague) {
      return item.all_day ? day.format(start) : instant.format(start);
    }
    if (name === "month") return `${NET} ${monthYear.format(start)}`;
    if (/^(quarter|half)_\d$/.test(name)) return `${NET} ${shortMonths.formatRange(...period(start, name))}`;
    if (name === "year") return `${NET} ${yearOnly.format(start)}`;
    if (name === "week") return `${NET} ${days7.formatRange(start, new Date(start.getTime() + 6 * 864e5))}`;
    if (name === "unknown") return `${NET} ${day.format(start)}`;
    return item.net || `${NET} ${yearOnly.format(start)}`;  // fiscal year, decade: LL2's words
  }

  // The first day of the week where the visitor lives (0 Sunday … 6 Saturday).
  function weekStart() {
    try {
      const locale = new Intl.Locale(lang);
      const info = locale.getWeekInfo ? locale.getWeekInfo() : locale.weekInfo;
      if (info && info.firstDay) return info.firstDay % 7;
    } catch (error) { /* an engine without week data */ }
    return /-(US|CA|JP|KR|TW|HK|BR|MX|IL|PH|IN|ZA|SA)\b/i.test(lang) ? 0 : 1;
  }

  // A live T-minus countdown, one at a time per element; never for a date LL2 does not know
  // to the minute. `stop` clears its timer (a re-render must not leave one running).
  const reducedMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)");
  const days = new Intl.NumberFormat(lang, { style: "unit", unit: "day", unitDisplay: "narrow" });
  const two = (n) => String(n).padStart(2, "0");
  function counts(item, now) {
    const name = item.precision && item.precision.name;
    return (name === "second" || name === "minute") && !item.all_day &&
      item.status !== "cancelled" && new Date(item.start).getTime() > now;
  }
  function countdown(element, items) {
    if (element.icalfeedStop) element.icalfeedStop();
    const next = items.find((item) => counts(item, Date.now()));
    element.hidden = !next;
    if (!next) return null;
    const target = new Date(next.start).getTime();
    const calm = Boolean(reducedMotion && reducedMotion.matches);
    const label = element.querySelector(".countdown-of");
    const clock = element.querySelector(".countdown-clock");
    label.textContent = next.display_name;
    clock.dateTime = next.start;
    let timer = 0;
    const stop = () => { clearInterval(timer); timer = 0; element.icalfeedStop = null; };
    const tick = () => {
      const left = Math.max(0, Math.floor((target - Date.now()) / 1000));
      const d = Math.floor(left / 86400);
      const hms = `${two(Math.floor(left / 3600) % 24)}:${two(Math.floor(left / 60) % 60)}` +
        (calm ? "" : `:${two(left % 60)}`);
      clock.textContent = `T−${d ? days.format(d) + " " : ""}${hms}`;
      if (left === 0) { stop(); element.dataset.done = "true"; }
    };
    delete element.dataset.done;
    tick();
    if (element.dataset.done !== "true") timer = setInterval(tick, calm ? 60000 : 1000);
    element.icalfeedStop = stop;
    return next;
  }

  window.icalfeedDates = { lang, when, weekStart, countdown, instant, format };

  // The server writes times in UTC (and says so); here they become local, and dates that
  // are not instants (all-day, vague) are phrased in the visitor's language.
  document.addEventListener("DOMContentLoaded", () => {
    for (const time of document.querySelectorAll("time[data-timed]")) {
      time.textContent = instant.format(new Date(time.dateTime));
      time.lang = lang;
    }
    for (const time of document.querySelectorAll("time[data-precision]:not([data-timed])")) {
      time.textContent = when({
        start: time.dateTime, all_day: true, net: time.textContent.trim(),
        precision: { name: time.dataset.precision, vague: time.hasAttribute("data-vague") },
      });
      time.lang = lang;
    }
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    for (const note of document.querySelectorAll("[data-local-note]")) {
      note.textContent = note.dataset.localNote.replace("{zone}", zone);
    }
  });
})();
