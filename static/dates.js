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

  // "Apr–Jun 2026" as the language writes a range (or both ends, on an engine without it).
  function range(formatter, from, to) {
    return typeof formatter.formatRange === "function" ? formatter.formatRange(from, to)
      : `${formatter.format(from)} – ${formatter.format(to)}`;
  }

  // How well LL2 knows an item's date, in the visitor's words (`item` is a feed JSON item).
  function when(item) {
    const start = new Date(item.start);
    const name = item.precision && item.precision.name;
    if (!item.precision || !item.precision.vague) {
      return item.all_day ? day.format(start) : instant.format(start);
    }
    if (name === "month") return `${NET} ${monthYear.format(start)}`;
    if (/^(quarter|half)_\d$/.test(name)) return `${NET} ${range(shortMonths, ...period(start, name))}`;
    if (name === "year") return `${NET} ${yearOnly.format(start)}`;
    if (name === "week") return `${NET} ${range(days7, start, new Date(start.getTime() + 6 * 864e5))}`;
    if (name === "unknown") return `${NET} ${monthYear.format(start)}`;  // no day it may not know
    return item.net || `${NET} ${yearOnly.format(start)}`;  // fiscal year, decade: LL2's words
  }

  // The first day of the week where the visitor lives (0 Sunday … 6 Saturday).
  function weekStart() {
    try {
      const locale = new Intl.Locale(lang);
      const info = locale.getWeekInfo ? locale.getWeekInfo() : locale.weekInfo;
      if (info && info.firstDay) return info.firstDay % 7;
    } catch (error) { /* an engine without week data */ }
    const sunday = /-(US|CA|JP|KR|TW|HK|BR|MX|IL|PH|IN|ZA|SA)\b|^(en|ja|ko|he)$/i;
    return sunday.test(lang) ? 0 : 1;
  }

  // A live T-minus countdown, one at a time per element; never for a date LL2 does not know
  // to the minute. It counts to T-0: a launch's NET (`net_utc`), not its window's opening.
  // `stop` clears its timer (a re-render must not leave one running).
  const reducedMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)");
  const days = (() => {
    try {
      const unit = new Intl.NumberFormat(lang, { style: "unit", unit: "day", unitDisplay: "narrow" });
      return (n) => unit.format(n);
    } catch (error) {
      return (n) => `${n}d`;  // an engine without unit formatting
    }
  })();
  // The page's clock: while the packaged sample is served, the server puts the moment each
  // kind was captured in <html data-as-of-event/-launch>, and the sample is shown as of then
  // (running on from it); live data has none and runs on the browser's clock.
  const loaded = Date.now();
  const asOf = {};
  for (const kind of ["event", "launch"]) {
    const at = Date.parse(document.documentElement.getAttribute(`data-as-of-${kind}`) || "");
    if (!Number.isNaN(at)) asOf[kind] = at;
  }
  const now = (kind) => {
    const at = kind in asOf ? asOf[kind] : Math.max(-Infinity, ...Object.values(asOf));
    return Number.isFinite(at) ? at + (Date.now() - loaded) : Date.now();
  };
  const today = (kind) => new Date(now(kind)).toISOString().slice(0, 10);
  const two = (n) => String(n).padStart(2, "0");
  const zero = (item) => new Date(item.net_utc || item.start).getTime();
  // Time left to T-0 in ms, on the clock of the item's kind.
  const ahead = (item) => zero(item) - now(item.kind);
  function counts(item) {
    const name = item.precision && item.precision.name;
    return (name === "second" || name === "minute") && !item.all_day &&
      item.status !== "cancelled" && ahead(item) > 0;
  }
  function countdown(element, items) {
    if (element.icalfeedStop) element.icalfeedStop();
    const next = items.filter(counts).sort((a, b) => ahead(a) - ahead(b))[0];
    element.hidden = !next;
    if (!next) return null;
    const target = zero(next);
    const calm = Boolean(reducedMotion && reducedMotion.matches);
    const label = element.querySelector(".countdown-of");
    const clock = element.querySelector(".countdown-clock");
    label.textContent = next.display_name;
    clock.dateTime = new Date(target).toISOString().replace(".000Z", "Z");
    let timer = 0;
    const stop = () => { clearInterval(timer); timer = 0; element.icalfeedStop = null; };
    const tick = () => {
      const left = Math.max(0, Math.ceil((target - now(next.kind)) / 1000));
      // Calm (reduced motion): whole minutes, rounded up, so it never reads 00:00 early.
      const shown = calm ? Math.ceil(left / 60) * 60 : left;
      const d = Math.floor(shown / 86400);
      const hms = `${two(Math.floor(shown / 3600) % 24)}:${two(Math.floor(shown / 60) % 60)}` +
        (calm ? "" : `:${two(shown % 60)}`);
      const text = `T−${d ? days(d) + " " : ""}${hms}`;
      if (clock.textContent !== text) clock.textContent = text;  // calm: changes once a minute
      if (left === 0) { stop(); element.dataset.done = "true"; }
    };
    delete element.dataset.done;
    tick();
    if (element.dataset.done !== "true") timer = setInterval(tick, 1000);
    element.icalfeedStop = stop;
    return next;
  }

  // Hide a countdown and stop its timer (the selection behind it is gone).
  function noCountdown(element) {
    if (element.icalfeedStop) element.icalfeedStop();
    element.hidden = true;
  }

  // The path of a feed JSON item's own page, as the server writes it (meaning.page_path).
  const pagePath = (item) => `/${item.kind === "launch" ? "launches" : "events"}/${encodeURIComponent(item.id)}`;

  window.icalfeedDates = {
    lang, when, weekStart, countdown, noCountdown, instant, format, now, today, pagePath,
  };

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
