// The Sparks usage page: plain browser JavaScript, no framework and nothing from the internet.
// It reads the Auth0 access token from the URL fragment (never sent to any server, so it cannot
// end up in access logs) or from sessionStorage (this tab only), then calls the JSON API with a
// bearer token like any single-page app. Every value is written with textContent, never HTML,
// because trace ids, cost centers and reasons come from customers' traces.

const TOKEN_KEY = "sparks.access_token";
const ITEMS_PER_PAGE = 25;
const KNOWN_CATEGORIES = ["ai_tokens", "compute", "storage"];
const CATEGORY_LABELS = { ai_tokens: "AI tokens", compute: "Compute", storage: "Storage" };
const SVG_NS = "http://www.w3.org/2000/svg";
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

const state = { token: null, me: null, month: "", customerId: "", page: 1, loading: 0 };

const byId = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// ---- formatting (exact decimal strings from the API are grouped, never parsed to floats) ----

/** "11001.75" → "11,001.75"; the API's decimals are shown exactly as the ledger has them. */
function groupDigits(decimal) {
  const text = String(decimal);
  const negative = text.startsWith("-");
  const [whole = "0", fraction] = (negative ? text.slice(1) : text).split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative ? "-" : ""}${grouped}${fraction ? `.${fraction}` : ""}`;
}

function categoryLabel(category) {
  return CATEGORY_LABELS[category] ?? category;
}

function categoryClass(category) {
  return KNOWN_CATEGORIES.includes(category) ? category : "other";
}

function formatDay(iso) {
  const d = new Date(iso);
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;
}

function formatTime(iso) {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

function monthTitle(month) {
  const [year, m] = month.split("-");
  return `${["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"][Number(m) - 1]} ${year}`;
}

function currentMonth() {
  return new Date().toISOString().slice(0, 7);
}

function shiftMonth(month, delta) {
  const [y, m] = month.split("-").map(Number);
  const d = new Date(Date.UTC(y, m - 1 + delta, 1));
  return d.toISOString().slice(0, 7);
}

// ---- small DOM helpers ----

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function setText(id, text, value) {
  const node = byId(id);
  node.textContent = text;
  // The raw API value rides along, so tests and scripts can compare without re-parsing text.
  if (value !== undefined) node.dataset.value = value;
}

function fillBody(tableId, rows) {
  byId(tableId).tBodies[0].replaceChildren(...rows);
}

function status(message, isError = false) {
  const node = byId("status");
  node.textContent = message;
  node.classList.toggle("error", isError);
}

// ---- token and API ----

function readToken() {
  const hash = new URLSearchParams(window.location.hash.slice(1));
  const fromHash = hash.get("access_token");
  if (hash.has("access_token") || hash.has("error")) {
    // Drop the fragment so the token is not left in the address bar, history or bookmarks.
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  if (hash.has("error")) {
    byId("signed-out-reason").textContent =
      `Sign-in failed: ${hash.get("error_description") ?? hash.get("error")}`;
  }
  try {
    if (fromHash) sessionStorage.setItem(TOKEN_KEY, fromHash);
    return fromHash ?? sessionStorage.getItem(TOKEN_KEY);
  } catch {
    // Storage can be disabled (private modes, policies): keep the token in memory only.
    return fromHash;
  }
}

function forgetToken() {
  state.token = null;
  try {
    sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Nothing stored.
  }
}

async function api(path, params) {
  const url = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(params ?? {})) {
    if (value !== "" && value !== undefined && value !== null) url.searchParams.set(key, String(value));
  }
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${state.token}`, accept: "application/json" },
    cache: "no-store",
  });
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const message =
      body && typeof body.message === "string" ? body.message : `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, message);
  }
  return body;
}

// ---- rendering ----

function renderSummary(r) {
  setText("report-title", `${monthTitle(r.month)} · ${r.customer_id}`);
  setText("month-status", r.closed ? "closed" : r.month_status === "open" ? "open month" : r.month_status);
  setText("total-sparks", groupDigits(r.total_sparks), r.total_sparks);
  setText("total-sent", `${groupDigits(r.total_sent_sparks)} reported to Stripe`, r.total_sent_sparks);
  setText("usd-net", `$${r.usd.display.net}`, r.usd.net);
  setText(
    "usd-detail",
    `$${r.usd.display.gross} gross − $${r.usd.display.discount} discount at $${r.usd.rate} per Spark`,
  );
  setText("discount-percent", `${r.discount.percent}%`, r.discount.percent);
  setText(
    "discount",
    r.discount.step
      ? `Volume discount: ${r.discount.step.percent}% off the month (over ${groupDigits(String(r.discount.step.over))} Sparks)`
      : "No volume discount this month",
  );
  setText("tier", r.tier, r.tier);
  setText("tier-note", r.tier_segments.length > 1 ? `${r.tier_segments.length} tiers this month` : r.status);
  const paused = byId("paused");
  paused.hidden = !r.pause_reason;
  paused.textContent = r.pause_reason ? `Usage is paused: ${r.pause_reason.replaceAll("_", " ")}.` : "";
}

function renderQuota(q) {
  const bar = byId("quota-bar");
  const fill = byId("quota-fill");
  bar.classList.remove("near", "over", "unlimited");
  bar.setAttribute("aria-valuenow", String(q.used));
  if (q.limit === null) {
    bar.classList.add("unlimited");
    bar.removeAttribute("aria-valuemax");
    bar.setAttribute("aria-valuetext", `${q.used} Sparks used, no limit`);
    fill.style.width = "100%";
    setText("quota-text", `${groupDigits(String(q.used))} Sparks used · unlimited`, String(q.used));
    return;
  }
  const share = q.limit === 0 ? 1 : q.used / q.limit;
  bar.setAttribute("aria-valuemax", String(q.limit));
  bar.setAttribute("aria-valuetext", `${q.used} of ${q.limit} Sparks`);
  if (share >= 1) bar.classList.add("over");
  else if (share >= 0.8) bar.classList.add("near");
  fill.style.width = `${Math.min(100, share * 100).toFixed(1)}%`;
  setText(
    "quota-text",
    `${groupDigits(String(q.used))} of ${groupDigits(String(q.limit))} Sparks used · ${groupDigits(String(q.remaining ?? 0))} remaining`,
    String(q.used),
  );
}

/**
 * Usage read from Langfuse's open window (and Sparks held by reservations): counted by /quota,
 * shown apart because it is not billed yet — the billed figures above are the invoice's.
 */
function renderProvisional(p) {
  const el = byId("provisional-text");
  if (!p || !p.month_is_open) {
    el.hidden = true;
    el.textContent = "";
    return;
  }
  el.hidden = false;
  const counters = p.counters === "live" ? "" : ` (counters ${p.counters})`;
  setText(
    "provisional-text",
    `Provisional, not billed yet: ${groupDigits(String(p.sparks))} Sparks in the last minutes · ${groupDigits(String(p.held))} Sparks held by open reservations${counters}`,
    String(p.sparks),
  );
}

function niceCeiling(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

function shortNumber(n) {
  if (n >= 1e6) return `${+(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${+(n / 1e3).toFixed(1)}k`;
  return String(+n.toFixed(2));
}

/** Stacked bars, one per UTC day of the month, one colour per category. Floats only draw. */
function renderChart(r) {
  const start = new Date(r.period.start);
  const days = Math.round((new Date(r.period.end).getTime() - start.getTime()) / 86_400_000);
  const byDate = new Map(r.daily.map((d) => [d.date, d]));
  const categories = r.categories.map((c) => c.category);
  const max = niceCeiling(Math.max(0, ...r.daily.map((d) => Number(d.sparks))));

  const W = 760;
  const H = 240;
  const left = 52;
  const right = 8;
  const top = 10;
  const bottom = 26;
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const slot = plotW / days;
  const barW = Math.max(2, slot * 0.7);

  const root = svg("svg", {
    viewBox: `0 0 ${W} ${H}`,
    role: "img",
    "aria-labelledby": "chart-title chart-desc",
  });
  root.append(svg("title", { id: "chart-title" }, `Sparks by day, ${monthTitle(r.month)}`));
  const busiest = [...r.daily].sort((a, b) => Number(b.sparks) - Number(a.sparks))[0];
  root.append(
    svg(
      "desc",
      { id: "chart-desc" },
      busiest
        ? `${r.daily.length} days with usage; the busiest was ${formatDay(busiest.date)} with ${groupDigits(busiest.sparks)} Sparks.`
        : "No usage this month.",
    ),
  );

  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    const y = top + plotH - tick * plotH;
    root.append(svg("line", { class: "grid", x1: left, x2: W - right, y1: y, y2: y }));
    root.append(
      svg("text", { class: "axis", x: left - 6, y: y + 4, "text-anchor": "end" }, shortNumber(max * tick)),
    );
  }

  for (let i = 0; i < days; i += 1) {
    const date = new Date(start.getTime() + i * 86_400_000).toISOString().slice(0, 10);
    const x = left + i * slot + (slot - barW) / 2;
    const dayNumber = i + 1;
    if (dayNumber === 1 || dayNumber % 5 === 0) {
      root.append(
        svg("text", { class: "axis", x: x + barW / 2, y: H - 8, "text-anchor": "middle" }, String(dayNumber)),
      );
    }
    const day = byDate.get(date);
    if (!day) continue;
    let y = top + plotH;
    for (const category of categories) {
      const value = day.categories[category];
      if (value === undefined) continue;
      const h = (Number(value) / max) * plotH;
      if (h <= 0) continue;
      y -= h;
      const rect = svg("rect", {
        class: `bar c-${categoryClass(category)}`,
        x: x.toFixed(2),
        y: y.toFixed(2),
        width: barW.toFixed(2),
        height: Math.max(h, 0.5).toFixed(2),
        fill: `var(--${categoryClass(category)})`,
        "data-date": date,
        "data-category": category,
        "data-value": value,
      });
      rect.append(
        svg("title", {}, `${formatDay(date)} · ${categoryLabel(category)}: ${groupDigits(value)} Sparks`),
      );
      root.append(rect);
    }
  }
  root.append(svg("line", { class: "grid", x1: left, x2: left, y1: top, y2: top + plotH }));
  byId("chart").replaceChildren(root);

  byId("legend").replaceChildren(
    ...categories.map((c) =>
      el(
        "span",
        {},
        el("span", { class: `swatch c-${categoryClass(c)}`, "aria-hidden": "true" }),
        categoryLabel(c),
      ),
    ),
  );

  fillBody(
    "daily-table",
    r.daily.map((d) =>
      el(
        "tr",
        { "data-date": d.date },
        el("td", { text: d.date }),
        el("td", { class: "num", text: groupDigits(d.sparks), "data-value": d.sparks }),
        el("td", { class: "num", text: String(d.items) }),
        el("td", {
          text: Object.entries(d.categories)
            .map(([c, v]) => `${categoryLabel(c)} ${groupDigits(v)}`)
            .join(" · "),
        }),
      ),
    ),
  );
}

function renderCategories(r) {
  fillBody(
    "categories",
    r.categories.map((c) =>
      el(
        "tr",
        { "data-category": c.category },
        el(
          "th",
          { scope: "row" },
          el("span", { class: `swatch c-${categoryClass(c.category)}`, "aria-hidden": "true" }),
          categoryLabel(c.category),
        ),
        el("td", { class: "num", text: `${groupDigits(c.quantity)} ${c.unit ?? ""}`.trim() }),
        el("td", { class: "num sparks", text: groupDigits(c.sparks), "data-value": c.sparks }),
        el("td", { class: "num", text: groupDigits(c.sent_sparks), "data-value": c.sent_sparks }),
        el("td", { class: "num", text: String(c.items) }),
      ),
    ),
  );
  fillBody(
    "cost-centers",
    r.cost_centers.map((c) =>
      el(
        "tr",
        {},
        el("td", { text: c.cost_center }),
        el("td", { class: "num", text: groupDigits(c.sparks), "data-value": c.sparks }),
        el("td", { class: "num", text: String(c.items) }),
      ),
    ),
  );
}

function renderSegments(r) {
  const monthStart = new Date(r.period.start).getTime();
  const monthMs = new Date(r.period.end).getTime() - monthStart;
  byId("segment-bar").replaceChildren(
    ...r.tier_segments.map((s) => {
      const span = el("span", { class: `segment tier-${s.tier}`, title: s.tier });
      span.style.width = `${(((new Date(s.to).getTime() - new Date(s.from).getTime()) / monthMs) * 100).toFixed(2)}%`;
      return span;
    }),
  );
  fillBody(
    "segments",
    r.tier_segments.map((s) =>
      el(
        "tr",
        { "data-tier": s.tier },
        el("th", { scope: "row", text: s.tier }),
        el("td", { text: formatDay(s.from) }),
        // Segments end exclusively at `to`; show the last day they cover.
        el("td", { text: formatDay(new Date(new Date(s.to).getTime() - 1).toISOString()) }),
        el("td", { class: "num", text: groupDigits(s.sparks), "data-value": s.sparks }),
      ),
    ),
  );
  const nb = r.not_billed;
  setText(
    "not-billed",
    nb.quarantined + nb.unbillable > 0
      ? `${nb.quarantined} quarantined and ${nb.unbillable} unbillable items are listed below but not counted.`
      : "Every item below counts toward the month.",
  );
}

function renderItems(page) {
  fillBody(
    "items",
    page.items.map((item) => {
      const statusCell = el("td", {}, el("span", { class: `pill ${item.status}`, text: item.status }));
      if (item.reason) statusCell.append(el("span", { class: "reason", text: item.reason }));
      return el(
        "tr",
        { "data-item-id": String(item.item_id) },
        el("td", { text: formatTime(item.occurred_at) }),
        el("td", { class: "trace", text: item.trace_id }),
        el("td", { text: categoryLabel(item.category) }),
        el("td", {
          class: "num",
          text: item.quantity === null ? "—" : `${groupDigits(item.quantity)} ${item.unit ?? ""}`.trim(),
        }),
        el("td", { class: "num sparks", text: groupDigits(item.sparks), "data-value": item.sparks }),
        statusCell,
        el("td", { text: item.cost_center }),
      );
    }),
  );
  const first = page.total === 0 ? 0 : (page.page - 1) * page.limit + 1;
  const last = Math.min(page.total, page.page * page.limit);
  setText(
    "page-info",
    page.total === 0
      ? "No items this month"
      : `Items ${first}–${last} of ${page.total} · page ${page.page} of ${page.pages}`,
  );
  byId("prev-page").disabled = page.page <= 1;
  byId("next-page").disabled = page.page >= page.pages;
}

// ---- flow ----

function showSignedOut(reason) {
  forgetToken();
  byId("signed-out").hidden = false;
  byId("controls").hidden = true;
  byId("report").hidden = true;
  byId("who").hidden = true;
  if (reason) byId("signed-out-reason").textContent = reason;
  status("");
  byId("main").setAttribute("aria-busy", "false");
}

function syncUrl() {
  const url = new URL(window.location.href);
  url.hash = "";
  url.searchParams.set("month", state.month);
  if (state.customerId) url.searchParams.set("customer_id", state.customerId);
  else url.searchParams.delete("customer_id");
  window.history.replaceState(null, "", url);
}

async function load() {
  const ticket = ++state.loading;
  byId("main").setAttribute("aria-busy", "true");
  status("Loading…");
  syncUrl();
  const params = { month: state.month, customer_id: state.customerId };
  try {
    const [report, items] = await Promise.all([
      api("/usage/report", params),
      api("/usage/report", { ...params, detail: "items", page: state.page, limit: ITEMS_PER_PAGE }),
    ]);
    // A newer request (month or page changed meanwhile) wins.
    if (ticket !== state.loading) return;
    renderSummary(report);
    renderQuota(report.quota);
    renderProvisional(report.provisional);
    renderChart(report);
    renderCategories(report);
    renderSegments(report);
    renderItems(items);
    byId("report").hidden = false;
    status("");
    document.body.dataset.ready = "true";
  } catch (e) {
    if (ticket !== state.loading) return;
    if (e instanceof ApiError && e.status === 401)
      return showSignedOut(`Your sign-in has expired (${e.message}).`);
    byId("report").hidden = true;
    status(e instanceof Error ? e.message : String(e), true);
    document.body.dataset.ready = "error";
  } finally {
    if (ticket === state.loading) byId("main").setAttribute("aria-busy", "false");
  }
}

async function loadItemsPage(page) {
  state.page = page;
  try {
    renderItems(
      await api("/usage/report", {
        month: state.month,
        customer_id: state.customerId,
        detail: "items",
        page,
        limit: ITEMS_PER_PAGE,
      }),
    );
  } catch (e) {
    status(e instanceof Error ? e.message : String(e), true);
  }
}

function wireControls() {
  const monthInput = byId("month");
  const go = () => {
    if (!/^\d{4}-\d{2}$/.test(monthInput.value)) return;
    state.month = monthInput.value;
    state.customerId = byId("customer").value.trim();
    state.page = 1;
    if (state.me?.role === "admin" && !state.customerId) {
      status("Choose a customer to see its usage.");
      byId("main").setAttribute("aria-busy", "false");
      return;
    }
    void load();
  };
  byId("controls").addEventListener("submit", (event) => {
    event.preventDefault();
    go();
  });
  monthInput.addEventListener("change", go);
  byId("prev-month").addEventListener("click", () => {
    monthInput.value = shiftMonth(monthInput.value || state.month, -1);
    go();
  });
  byId("next-month").addEventListener("click", () => {
    monthInput.value = shiftMonth(monthInput.value || state.month, 1);
    go();
  });
  byId("prev-page").addEventListener("click", () => loadItemsPage(state.page - 1));
  byId("next-page").addEventListener("click", () => loadItemsPage(state.page + 1));
  byId("sign-out").addEventListener("click", () => showSignedOut("You signed out."));
}

async function main() {
  const query = new URLSearchParams(window.location.search);
  const month = query.get("month");
  state.month = month && /^\d{4}-(0[1-9]|1[0-2])$/.test(month) ? month : currentMonth();
  state.customerId = query.get("customer_id")?.trim() ?? "";
  state.token = readToken();
  wireControls();
  if (!state.token) return showSignedOut();

  try {
    state.me = await api("/me");
  } catch (e) {
    if (e instanceof ApiError && e.status === 401)
      return showSignedOut(`Your sign-in was not accepted (${e.message}).`);
    status(e instanceof Error ? e.message : String(e), true);
    return;
  }
  const admin = state.me.role === "admin";
  setText("who-text", `${state.me.sub}${admin ? " · admin" : ""}`);
  byId("who").hidden = false;
  byId("controls").hidden = false;
  byId("customer-field").hidden = !admin;
  byId("month").value = state.month;
  byId("customer").value = state.customerId;
  if (admin && !state.customerId) {
    status("Choose a customer to see its usage.");
    byId("main").setAttribute("aria-busy", "false");
    byId("customer").focus();
    return;
  }
  if (!admin && !state.me.customer_id) {
    status("This account is not linked to a Sparks customer yet.", true);
    byId("main").setAttribute("aria-busy", "false");
    return;
  }
  await load();
}

void main();
