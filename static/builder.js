// icalfeed feed builder: keeps the feed URL, subscribe links, embed code and preview in step
// with the form. Builds the query string in the same order and form as the server
// (FeedQuery.to_params), so the URL shown here is the URL the server would show.
"use strict";

(function () {
  const GOOGLE = "https://calendar.google.com/calendar/r?cid=";
  const OUTLOOK_COM = "https://outlook.live.com/calendar/0/addfromweb";
  const OUTLOOK_365 = "https://outlook.office.com/calendar/0/addfromweb";
  const PREVIEW_SIZE = 8;

  // Same folding as the server's filters.fold: ASCII letters and digits, single spaces.
  function fold(text) {
    return text.normalize("NFKD").replace(/[^\x00-\x7f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, " ").trim();
  }

  function checked(form, name) {
    return Array.from(form.querySelectorAll(`input[name="${name}"]:checked`));
  }

  function alarms(text) {
    const minutes = (text.match(/\d+/g) || []).map(Number).filter((n) => n <= 10080);
    return Array.from(new Set(minutes)).sort((a, b) => a - b).slice(0, 3);
  }

  // What the calendar includes: ["event"], ["launch"] or both (events when nothing is ticked).
  function included(form) {
    const kinds = checked(form, "include").map((box) => (box.value === "launches" ? "launch" : "event"));
    return kinds.length ? ["event", "launch"].filter((k) => kinds.includes(k)) : ["event"];
  }

  // The feed path by what it includes (pages.feed_url_for): the path says it, not the query.
  function feedStem(kinds) {
    if (kinds.length === 2) return "/feed";
    return kinds[0] === "launch" ? "/launches" : "/events";
  }

  function noun(kinds) {
    if (kinds.length === 2) return "events and launches";
    return kinds[0] === "launch" ? "launches" : "events";
  }

  function queryString(form, withInclude) {
    const params = new URLSearchParams();
    for (const name of ["program", "agency", "type"]) {
      const slugs = checked(form, name).map((box) => box.value).sort();
      if (slugs.length) params.append(name, slugs.join(","));
    }
    const location = fold(form.elements.location.value);
    if (location) params.append("location", location);
    if (form.elements.webcast.checked) params.append("webcast", "1");
    const vague = form.querySelector('input[name="vague"]:checked');
    if (vague && vague.value === "hide") params.append("vague", "hide");
    const minutes = alarms(form.elements.alarm.value);
    if (minutes.length) params.append("alarm", minutes.join(","));
    const kinds = included(form);
    if (kinds.includes("launch")) {
      // Rockets by name; statuses in the order the page lists them (LL2's status ids).
      const rockets = checked(form, "rocket").map((box) => box.value).sort();
      if (rockets.length) params.append("rocket", rockets.join(","));
      const statuses = checked(form, "status").map((box) => box.value);
      if (statuses.length) params.append("status", statuses.join(","));
    }
    if (withInclude && !(kinds.length === 1 && kinds[0] === "event")) {
      params.append("include", kinds.map((k) => k + (k === "launch" ? "es" : "s")).join(","));
    }
    return params.toString().replace(/%2C/g, ",").replace(/%3A/g, ":");
  }

  function calendarName(form) {
    const picked = [];
    const launches = included(form).includes("launch");
    for (const name of ["program", "agency", "type", ...(launches ? ["rocket"] : [])]) {
      picked.push(...checked(form, name).map((box) => box.dataset.name).sort());
    }
    return `Spaceflight ${noun(included(form))}` + (picked.length ? " — " + picked.join(" · ") : "");
  }

  // The changes feeds' query (pages.changes_links): both kinds unless one is picked, and
  // no reminders (they belong to calendars).
  function changesQueryString(feedQuery, kinds) {
    const params = new URLSearchParams(feedQuery);
    params.delete("alarm");
    if (kinds.length === 1) params.append("include", kinds[0] === "launch" ? "launches" : "events");
    return params.toString().replace(/%2C/g, ",").replace(/%3A/g, ":");
  }

  function withQuery(url, query) {
    return query ? `${url}?${query}` : url;
  }

  function setLink(id, href) {
    const link = document.getElementById(id);
    if (link) link.href = href;
  }

  function embedCode(widgetUrl, title) {
    const attr = (text) => text.replace(/&/g, "&amp;").replace(/"/g, "&quot;")
      .replace(/</g, "&lt;").replace(/>/g, "&gt;");
    return `<iframe src="${attr(widgetUrl)}" title="${attr(title)}" width="100%" height="640" ` +
      'style="border:0;max-width:100%" loading="lazy"></iframe>';
  }

  // Tell screen readers what changed (the page's one polite status region), after `wait`
  // ms without a newer message: typing a location must not read out every keystroke.
  let announcing = 0;
  function announce(text, wait = 50) {
    const status = document.getElementById("status");
    if (!status) return;
    clearTimeout(announcing);
    announcing = setTimeout(() => {
      status.textContent = "";
      announcing = setTimeout(() => { status.textContent = text; }, 50);  // heard as new
    }, wait);
  }
  const PREVIEW_QUIET = 1000;  // ms the preview must stay the same before it is announced

  function previewItem(event) {
    const item = document.createElement("li");
    item.className = "event" + (event.precision?.vague ? " vague" : "") +
      (event.status === "cancelled" ? " cancelled" : "");
    item.id = event.uid.split("@")[0];
    const time = document.createElement("time");
    time.dateTime = event.start;
    time.textContent = window.icalfeedDates.when(event);
    time.lang = window.icalfeedDates.lang;
    time.title = event.all_day ? event.start : event.start.slice(0, 16).replace("T", " ") + " UTC";
    const when = document.createElement("span");
    when.className = "when";
    when.append(time);
    if (event.precision?.vague) {
      const tag = document.createElement("span");
      tag.className = "tag";
      tag.textContent = "date not final";
      when.append(tag);
    }
    if (event.moved) {  // the earlier dates, on hover and on keyboard focus
      const tag = document.createElement("span");
      tag.className = "tag moved";
      tag.tabIndex = 0;
      tag.title = event.moved;
      tag.textContent = "moved";
      const words = document.createElement("span");
      words.className = "visually-hidden";
      words.textContent = `: ${event.moved}`;
      tag.append(words);
      when.append(tag);
    }
    const title = document.createElement("span");
    title.className = "event-title";
    // text, never HTML: LL2 data is untrusted. The server's own words for the item (its
    // name, "Cancelled: " when gone, no NET period: that is shown beside it), linked to
    // its own page.
    const page = document.createElement("a");
    page.href = window.icalfeedDates.pagePath(event);
    page.textContent = event.display_name;
    title.append(page);
    item.append(when, title);
    const meta = document.createElement("span");
    meta.className = "event-meta";
    const kind = event.kind === "launch"
      ? ["Launch", event.provider && event.provider.name].filter(Boolean).join(" · ")
      : event.type && event.type.name;
    meta.textContent = [kind, event.location].filter(Boolean).join(" · ");
    item.append(meta);
    if (event.webcast && /^https?:\/\//.test(event.webcast)) {
      const watch = document.createElement("a");
      watch.className = "watch";
      watch.href = event.webcast;
      watch.target = "_blank";
      watch.rel = "noopener";
      watch.textContent = "Watch";
      item.append(watch);
    }
    return item;
  }

  let previewRequest = 0;
  async function updatePreview(base, stem, query, quiet = false) {
    const list = document.getElementById("preview");
    if (!list) return;
    const countdown = document.getElementById("countdown");
    const ticket = ++previewRequest;
    const stale = () => ticket !== previewRequest;  // a newer selection has been asked for
    try {
      const response = await fetch(withQuery(`${base}${stem}.json`, query));
      if (stale()) return;
      if (!response.ok) {
        const message = (await response.text()).trim();
        if (stale()) return;
        list.replaceChildren(Object.assign(document.createElement("li"), {
          className: "muted empty", textContent: message,
        }));
        if (countdown) window.icalfeedDates.noCountdown(countdown);
        announce(`Preview not updated: ${message}`, PREVIEW_QUIET);
        return;
      }
      const data = await response.json();
      if (stale()) return;
      const today = window.icalfeedDates.today;  // the sample's own day, while it is served
      const items = [...(data.events || []), ...(data.launches || [])]
        .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
      const upcoming = items.filter((e) => e.start.slice(0, 10) >= today(e.kind));
      const next = upcoming.slice(0, PREVIEW_SIZE);
      list.replaceChildren(...(next.length ? next.map(previewItem) : [Object.assign(
        document.createElement("li"), { className: "muted empty", textContent: "No upcoming events match yet." },
      )]));
      if (countdown) window.icalfeedDates.countdown(countdown, upcoming);
      if (!quiet) announce(next.length
        ? `Preview updated: the next ${next.length} of ${data.count} ${data.count === 1 ? "item" : "items"} in this feed.`
        : "Preview updated: nothing upcoming matches yet.", PREVIEW_QUIET);
    } catch (error) {
      if (stale()) return;
      list.setAttribute("data-error", String(error));
      if (countdown) window.icalfeedDates.noCountdown(countdown);
    }
  }

  function update(form) {
    const base = form.dataset.base;
    const withLaunches = included(form).includes("launch");
    for (const group of form.querySelectorAll("[data-launches-only]")) group.hidden = !withLaunches;
    const query = queryString(form, true);
    const feedQuery = queryString(form, false);
    const stem = feedStem(included(form));
    const feedUrl = withQuery(`${base}${stem}.ics`, feedQuery);
    const lang = form.elements.lang ? form.elements.lang.value : "";
    const pageQuery = [query, lang ? `lang=${encodeURIComponent(lang)}` : ""].filter(Boolean).join("&");
    const widgetUrl = withQuery(`${base}/widget`, pageQuery);
    const name = calendarName(form);
    const webcal = feedUrl.replace(/^https?:/, "webcal:");
    document.getElementById("feed-url").value = feedUrl;
    document.getElementById("calendar-name").textContent = name;
    setLink("link-webcal", webcal);
    setLink("link-google", GOOGLE + encodeURIComponent(webcal));
    const outlookQuery = `url=${encodeURIComponent(feedUrl)}&name=${encodeURIComponent(name)}`;
    setLink("link-outlook", `${OUTLOOK_COM}?${outlookQuery}`);
    setLink("link-office365", `${OUTLOOK_365}?${outlookQuery}`);
    setLink("link-download", feedUrl);
    setLink("widget-link", widgetUrl);
    const changesQuery = changesQueryString(feedQuery, included(form));
    setLink("changes-atom", withQuery(`${base}/changes.atom`, changesQuery));
    setLink("changes-json", withQuery(`${base}/changes.json`, changesQuery));
    document.getElementById("embed").value = embedCode(widgetUrl, name);
    const error = document.getElementById("query-error");
    if (error) error.remove();
    history.replaceState(null, "", withQuery(location.pathname, pageQuery));
    updatePreview(base, stem, feedQuery);
  }

  function wireFilters() {
    for (const input of document.querySelectorAll("input[data-filter-for]")) {
      const list = document.getElementById(input.dataset.filterFor);
      input.addEventListener("input", () => {
        const wanted = fold(input.value);
        for (const item of list.children) {
          const name = item.querySelector(".choice-name");
          item.hidden = Boolean(wanted && name && !fold(name.textContent).includes(wanted));
        }
      });
    }
  }

  function wireCopyButtons() {
    for (const button of document.querySelectorAll("button[data-copy]")) {
      button.addEventListener("click", async () => {
        const field = document.querySelector(button.dataset.copy);
        let copied = false;
        try {
          await navigator.clipboard.writeText(field.value);
          copied = true;  // focus stays on the button: a keyboard user goes on from there
        } catch (error) {
          field.select();  // the old way needs the text selected (and shows it)
          copied = document.execCommand && document.execCommand("copy");
        }
        const label = button.dataset.label || button.textContent;
        button.dataset.label = label;
        button.textContent = copied ? "Copied" : "Press Ctrl+C";
        const what = field.getAttribute("aria-label") || "Text";
        announce(copied ? `${what} copied to the clipboard.` : `${what} selected: press Ctrl+C to copy it.`);
        setTimeout(() => { button.textContent = label; }, 1500);
      });
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    wireFilters();
    wireCopyButtons();
    const form = document.getElementById("builder");
    if (!form) return;
    let timer = 0;
    const schedule = () => { clearTimeout(timer); timer = setTimeout(() => update(form), 150); };
    form.addEventListener("change", schedule);
    form.addEventListener("input", (event) => { if (event.target.type === "text") schedule(); });
    form.addEventListener("submit", (event) => { event.preventDefault(); update(form); });
    // The server rendered the preview; the countdown needs the items' precision, from the
    // JSON (nothing is announced: the page has only just been read out).
    if (!document.getElementById("query-error")) {
      updatePreview(form.dataset.base, feedStem(included(form)), queryString(form, false), true);
    }
  });
})();
