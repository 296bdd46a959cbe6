// A stand-in for the Open LLM Leaderboard v2 front end (a React app), written without
// React from what its public source does. Paths below are in the repository
// `leaderboard-modeles-IA-francais/leaderboard`, commit 04e1112c, under `frontend/src/`,
// with `LB/` = `pages/LeaderboardPage/components/Leaderboard/`. Anything not taken from
// there says "invented".
"use strict";

const CONFIG = window.FAKE_APP_CONFIG; // set by the page: { delayMs, renamedHeader }

// LB/constants/defaults.js:31 (FILTER_PRECISIONS) and LB/constants/modelTypes.js:1-8.
const DEFAULT_PRECISIONS = ["bfloat16", "float16", "4bit"];
const DEFAULT_TYPES = ["pretrained", "continuously pretrained", "fine-tuned", "chat", "merge", "multimodal"];
// LB/constants/modelTypes.js:10-55: the first key the lower-cased type contains wins.
const TYPE_ICONS = [
  ["pretrained", "🟢"], ["continuously pretrained", "🟩"], ["fine-tuned", "🔶"],
  ["chat", "💬"], ["merge", "🤝"], ["multimodal", "🌸"],
];
const EVALS = ["ifeval", "bbh", "math", "gpqa", "musr", "mmlu_pro"];
// LB/utils/columnUtils.js:755-800: the evaluation columns' headers.
const EVAL_HEADERS = { ifeval: "IFEval", bbh: "BBH", math: "MATH", gpqa: "GPQA", musr: "MUSR", mmlu_pro: "MMLU-PRO" };
// LB/constants/defaults.js:281-283: the columns shown when the URL names none.
const DEFAULT_COLUMNS = EVALS.map((e) => `evaluations.${e}.normalized_score`).concat(["metadata.co2_cost"]);
// LB/utils/columnUtils.js:809-1060: optional columns, always in this order whatever the
// URL's order.
const OPTIONAL = [
  ["model.architecture", "Architecture", (r) => span(r.model.architecture || "-")],
  ["model.precision", "Precision", (r) => span(r.model.precision || "-")],
  ["metadata.params_billions", "Parameters", (r) => body2(`${r.metadata.params_billions}<span style="opacity:0.6">B</span>`)],
  ["metadata.hub_license", "License", (r) => body2(esc(r.metadata.hub_license || "-"))],
  ["metadata.co2_cost", "CO₂ Cost", (r) => body2(`${r.metadata.co2_cost == null ? "0" : r.metadata.co2_cost.toFixed(2)}<span style="opacity:0.6"> kg</span>`)],
  ["metadata.hub_hearts", "Hub ❤️", (r) => body2(esc(r.metadata.hub_hearts))],
  ["metadata.upload_date", "Upload Date", (r) => body2(esc(r.metadata.upload_date || "-"))],
  ["metadata.submission_date", "Submission Date", (r) => body2(esc(r.metadata.submission_date || "-"))],
  ["metadata.generation", "Generation", (r) => body2(esc(r.metadata.generation))],
  ["metadata.base_model", "Base Model", (r) => body2(esc(r.metadata.base_model || "-"))],
  ["model.has_chat_template", "Chat Template", (r) => bool(r.model.has_chat_template)],
  ["features.is_not_available_on_hub", "Hub Availability", (r) => bool(r.features.is_not_available_on_hub)],
  ["features.is_official_provider", "Official Providers", (r) => bool(r.features.is_official_provider)],
  ["features.is_moe", "Mixture of Experts", (r) => bool(r.features.is_moe)],
  ["features.is_flagged", "Flag Status", (r) => bool(r.features.is_flagged)],
];
// LB/constants/defaults.js:15-18 (row heights), Table.js:258-301 (overscan 15).
const ROW_HEIGHT = { normal: 45, large: 60 };
const HEADER_HEIGHT = { normal: 56, large: 75 };
const OVERSCAN = 15;
// LB/constants/defaults.js:6-10: the search input's debounce.
const SEARCH_DEBOUNCE_MS = 150;
// LB/hooks/useLeaderboardData.js:7-8: the cache key and its lifetime.
const CACHE_KEY = "leaderboardData";
const CACHE_DURATION = 5 * 60 * 1000;

function esc(v) {
  return String(v ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
}
function span(text) {
  return `<span aria-label="${esc(text)}">${esc(text)}</span>`;
}
function body2(html) {
  return `<p class="MuiTypography-root MuiTypography-body2">${html}</p>`;
}
// components/shared/BooleanValue: Yes / No (invented markup, real words).
function bool(v) {
  return body2(v ? "Yes" : "No");
}

// ---- State and URL (LB/context/LeaderboardContext.js) ----------------------------
const state = {
  data: null, // processed rows, sorted by average, with static ranks
  error: null,
  search: "",
  precisions: DEFAULT_PRECISIONS.slice(),
  types: DEFAULT_TYPES.slice(),
  params: [-1, 140],
  booleanFilters: [],
  official: false,
  pinned: [],
  columns: DEFAULT_COLUMNS.slice(),
  rowSize: "normal",
  firstSync: true,
};

function hashParams() {
  const hash = location.hash || "";
  const q = hash.indexOf("?");
  return new URLSearchParams(q >= 0 ? hash.slice(q + 1) : "");
}

// LeaderboardContext.js:362-480: a parameter applies only if present (lists: present,
// even if empty, which then turns that filter off).
function loadFromUrl() {
  const p = hashParams();
  const search = p.get("search");
  if (search) state.search = search;
  const params = p.get("params")?.split(",").map(Number);
  if (params?.length === 2) state.params = params;
  const filters = p.get("filters")?.split(",").filter(Boolean) || [];
  if (filters.length > 0) state.booleanFilters = filters;
  const precisions = p.get("precision")?.split(",").filter(Boolean);
  if (precisions) state.precisions = precisions;
  const types = p.get("types")?.split(",").filter(Boolean);
  if (types) state.types = types;
  if (p.get("official") === "true") state.official = true;
  const pinned = p.get("pinned")?.split(",").filter(Boolean) || [];
  if (pinned.length > 0) state.pinned = pinned;
  const columns = p.get("columns")?.split(",").filter(Boolean);
  if (columns) state.columns = columns;
  const rowSize = p.get("rowSize");
  if (rowSize) state.rowSize = rowSize === "large" ? "large" : "normal";
}

// LeaderboardContext.js:483-665: the state is written back to the URL after each
// change. Seen in the real app: the first write drops `precision=` and `types=` (the
// sync still sees the default state), while the filters stay in force.
let syncing = false;
function syncUrl() {
  const p = hashParams();
  if (state.search) p.set("search", state.search);
  else p.delete("search");
  if (state.firstSync) {
    p.delete("precision");
    p.delete("types");
    state.firstSync = false;
  }
  const query = p.toString();
  const next = "#/" + (query ? "?" + query : "");
  if (location.hash !== next) {
    syncing = true;
    history.replaceState(null, "", next);
    syncing = false;
  }
}

// Seen in the real app (LeaderboardContext.js:362-480 against :483-665): changing only
// the hash while a search is shown makes the app and the URL swap the old and the new
// search back and forth without end. A scraper must not rely on hash changes.
let pingPong = null;
window.addEventListener("hashchange", () => {
  if (syncing || !state.data) return;
  const wanted = hashParams().get("search") || "";
  if (!state.search || wanted === state.search) {
    loadFromUrl();
    render();
    syncUrl();
    return;
  }
  const [a, b] = [state.search, wanted];
  clearInterval(pingPong);
  let flip = false;
  pingPong = setInterval(() => {
    state.search = flip ? a : b;
    flip = !flip;
    render();
    syncing = true;
    history.replaceState(null, "", "#/?search=" + encodeURIComponent(flip ? a : b));
    syncing = false;
  }, 800);
});

// ---- Data (LB/hooks/useLeaderboardData.js, LB/hooks/useDataUtils.js) -------------
async function fetchData() {
  const cached = localStorage.getItem(CACHE_KEY);
  if (cached) {
    const { data, timestamp } = JSON.parse(cached);
    if (Date.now() - timestamp < CACHE_DURATION) return data;
  }
  const response = await fetch("/api/leaderboard/formatted");
  if (!response.ok) throw new Error(`HTTP error! status: ${response.status}`);
  const data = await response.json();
  // Chromium refuses a value over its quota: the error is the app's error state.
  localStorage.setItem(CACHE_KEY, JSON.stringify({ data, timestamp: Date.now() }));
  return data;
}

// App.js:22-29: react-query tries a failing fetch once more, about a second later.
async function fetchWithRetry() {
  try {
    return await fetchData();
  } catch (first) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    return await fetchData();
  }
}

// useDataUtils.js:38-90: the average is the mean of the six normalised scores,
// recomputed here; rows are sorted by it and ranked over all rows.
function process(rows) {
  const out = rows.map((r) => {
    const scores = EVALS.map((e) => r.evaluations?.[e]?.normalized_score ?? 0);
    const average = scores.reduce((a, b) => a + b, 0) / scores.length;
    return { ...r, model: { ...r.model, average_score: average } };
  });
  out.sort((a, b) => b.model.average_score - a.model.average_score);
  out.forEach((r, i) => (r.static_rank = i + 1));
  return out;
}

// LB/utils/searchUtils.js:2-5
function looksLikeRegex(s) {
  return /[\\^$.*+?()[\]{}|]/.test(s);
}
// LB/utils/searchUtils.js:8-44
const FIELD_PATHS = { precision: "model.precision", architecture: "model.architecture", license: "metadata.hub_license", type: "model.type" };
function parseQuery(query) {
  const specials = [];
  let text = query;
  for (const prefix of query.match(/@\w+:/g) || []) {
    text = text.replace(new RegExp(`${prefix}([^\\s@]+)`, "g"), (_, value) => {
      const field = prefix.slice(1, -1);
      specials.push({ path: FIELD_PATHS[field] || field, value });
      return "";
    });
  }
  return { specials, text: text.trim() };
}
function valueAt(row, path) {
  return path.split(".").reduce((acc, part) => acc?.[part], row);
}

// useDataUtils.js:95-281
function filtered() {
  const rows = state.data;
  const pinned = rows.filter((r) => state.pinned.includes(r.id));
  let out = rows.filter((r) => !state.pinned.includes(r.id));
  if (state.official) out = out.filter((r) => r.features?.is_official_provider);
  if (state.precisions.length > 0) out = out.filter((r) => state.precisions.includes(r.model.precision));
  if (state.types.length > 0) {
    out = out.filter((r) => {
      const type = r.model.type?.toLowerCase().trim();
      return state.types.some((t) => type?.includes(t));
    });
  }
  if (!(state.params[0] === -1 && state.params[1] === 140)) {
    out = out.filter((r) => {
      const p = r.metadata?.params_billions;
      return p !== undefined && p !== null && p >= state.params[0] && p < state.params[1];
    });
  }
  const queries = state.search.split(";").map((q) => q.trim()).filter(Boolean);
  if (queries.length > 0) {
    out = out.filter((r) =>
      queries.some((q) => {
        const { specials, text } = parseQuery(q);
        const ok = specials.every(({ path, value }) =>
          valueAt(r, path)?.toString().toLowerCase().includes(value.toLowerCase()));
        if (!ok) return false;
        if (!text) return true;
        const name = r.model.name.toLowerCase();
        if (looksLikeRegex(text)) {
          try {
            return new RegExp(text, "i").test(name);
          } catch (e) {
            return name.includes(text.toLowerCase());
          }
        }
        return name.includes(text.toLowerCase());
      }));
  }
  for (const f of state.booleanFilters) {
    const positive = f === "is_official_provider" || f === "is_not_available_on_hub";
    out = out.filter((r) => (positive ? r.features?.[f] : !r.features?.[f]));
  }
  return { pinned, rows: out };
}

// ---- Rendering (LB/Leaderboard.js, components/Table/Table.js, utils/columnUtils.js)
const root = document.getElementById("root");

// Leaderboard.js:370-379: an error replaces the whole leaderboard with its message.
function renderError(message) {
  root.innerHTML = `<div class="MuiBox-root"><p class="MuiTypography-root MuiTypography-body1" style="color: rgb(211, 47, 47)">${esc(message)}</p></div>`;
}

// SearchBar.js:21-64 and Table.js:73-173: the skeleton while the data loads.
function renderLoading() {
  const cells = Array.from({ length: 11 }, () => "<th></th>").join("");
  const rows = Array.from({ length: 10 }, () =>
    `<tr>${Array.from({ length: 11 }, () => '<td><span class="MuiSkeleton-root"></span></td>').join("")}</tr>`).join("");
  root.innerHTML = `<div class="MuiPaper-root"><span class="MuiSkeleton-root"></span><p>Supports strict search and regex • Use semicolons for multiple terms</p></div>
    <table class="MuiTable-root MuiTable-stickyHeader"><thead><tr>${cells}</tr></thead><tbody>${rows}</tbody></table>`;
}

// The search bar (SearchBar.js:118-300): the MUI input, the count, the chips.
function renderShell() {
  root.innerHTML = `
    <div class="MuiPaper-root search-paper" style="display:flex;gap:8px;align-items:center">
      <div class="MuiInputBase-root"><input class="MuiInputBase-input" type="text"
        placeholder='Search by model name • try "meta @architecture:llama @license:mit"'></div>
      <div class="count"></div>
    </div>
    <div class="search-description"></div>
    <div class="board"></div>`;
  const input = root.querySelector("input.MuiInputBase-input");
  trackValue(input);
  input.value = state.search;
  let timer = null;
  let local = state.search;
  input.addEventListener("input", () => {
    if (!valueChanged(input)) return;
    local = input.value;
    renderChips(local);
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (local !== state.search) {
        state.search = local;
        clearInterval(pingPong);
        render();
        syncUrl();
      }
    }, SEARCH_DEBOUNCE_MS);
  });
  renderChips(local);
}

// React's controlled inputs keep a tracker of the value they last rendered and ignore
// an `input` event whose value equals it (react-dom, inputValueTracking). So `el.value =
// v` followed by an `input` event is ignored, while the prototype's setter is seen.
function trackValue(input) {
  const proto = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value");
  let tracked = "";
  Object.defineProperty(input, "value", {
    configurable: true,
    get() { return proto.get.call(this); },
    set(v) { tracked = String(v); proto.set.call(this, v); },
  });
  input._tracked = () => tracked;
  input._track = (v) => { tracked = v; };
}
function valueChanged(input) {
  const now = input.value;
  if (now === input._tracked()) return false;
  input._track(now);
  return true;
}

// SearchBar.js:66-115: one chip per `;` part of what is typed.
function renderChips(text) {
  const box = root.querySelector(".search-description");
  const parts = text.split(";").map((p) => p.trim()).filter(Boolean);
  box.innerHTML = parts.length === 0
    ? '<span class="MuiTypography-caption">Supports strict search and regex • Use semicolons for multiple terms</span>'
    : "<p>Showing models matching:</p>" + parts.map((p) => `<div class="MuiBox-root chip">${esc(p)}</div>`).join("<p>and</p>");
}

function columns() {
  // columnUtils.js:1044-1070: pin, Rank, Type, Model, Average always; then the
  // evaluations named; then the optional columns named, in their own order.
  const evals = EVALS.filter((e) => state.columns.includes(`evaluations.${e}.normalized_score`));
  const optional = OPTIONAL.filter(([key]) => state.columns.includes(key));
  return { evals, optional };
}

function typeIcon(type) {
  const clean = String(type).toLowerCase().trim();
  const hit = TYPE_ICONS.find(([key]) => clean.includes(key));
  return hit ? hit[1] : "❓";
}

// columnUtils.js:59-143: the matched part of the name is wrapped in a highlight span.
function highlighted(name) {
  const parts = state.search.split(";").map((q) => parseQuery(q.trim()).text).filter(Boolean);
  for (const part of parts) {
    let re;
    try {
      re = new RegExp(looksLikeRegex(part) ? part : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "i");
    } catch (e) {
      continue;
    }
    const m = re.exec(name);
    if (m && m[0]) {
      const i = m.index;
      return `${esc(name.slice(0, i))}<span class="MuiBox-root highlight" style="display:inline-block">${esc(m[0])}</span>${esc(name.slice(i + m[0].length))}`;
    }
  }
  return esc(name);
}

function score(v) {
  // columnUtils.js:679-750: two decimals and a `%`, or `-`.
  return v == null ? body2("-") : body2(`${v.toFixed(2)}<span> %</span>`);
}

function rowHtml(r, pinned) {
  const { evals, optional } = columns();
  const name = r.model.name;
  const detailsName = name.replace("/", "__");
  const pin = pinned ? "PushPinIcon" : "PushPinOutlinedIcon";
  const cells = [
    `<td><button><svg data-testid="${pin}"></svg></button></td>`,
    `<td>${body2(r.static_rank)}</td>`,
    `<td><p class="MuiTypography-root" aria-label="${esc(r.model.type)}">${typeIcon(r.model.type)}</p></td>`,
    `<td><a href="https://huggingface.co/${esc(name)}" title="View ${esc(name)} on Hugging Face Hub" aria-label="View ${esc(name)} on Hugging Face Hub">${highlighted(name)}<svg data-testid="OpenInNewIcon"></svg></a>` +
      `<a href="https://huggingface.co/datasets/open-llm-leaderboard/${esc(detailsName)}-details" title="View detailed evaluation results for ${esc(name)}"><svg data-testid="TroubleshootIcon"></svg></a></td>`,
    `<td>${score(r.model.average_score)}</td>`,
    ...evals.map((e) => `<td>${score(r.evaluations?.[e]?.normalized_score)}</td>`),
    ...optional.map(([, , cell]) => `<td>${cell(r)}</td>`),
  ];
  const sticky = pinned ? ' style="position: sticky"' : "";
  return `<tr class="MuiTableRow-root"${sticky}>${cells.join("")}</tr>`;
}

function headHtml() {
  const { evals, optional } = columns();
  // Invented: a redesign that renames one header, for tests of a changed page.
  const shown = (text) => (text === CONFIG.renamedHeader ? "Score" : text);
  const label = (text) => `<p class="header-label" aria-label="${esc(shown(text))}">${esc(shown(text))}</p>`;
  const heads = ["", label("Rank"), label("Type"), "<p>Model</p>", label("Average"),
    ...evals.map((e) => label(EVAL_HEADERS[e])), ...optional.map(([, text]) => label(text))];
  return `<thead><tr>${heads.map((h) => `<th>${h}</th>`).join("")}</tr></thead>`;
}

let current = { pinned: [], rows: [] };
function render() {
  if (state.error) return renderError(state.error);
  if (!state.data) return renderLoading();
  if (!root.querySelector("input.MuiInputBase-input")) renderShell();
  current = filtered();
  // FilteredModelCount.js:224-239: `N / TOTAL`, `+k` for pinned rows.
  const count = root.querySelector(".count");
  count.innerHTML = `<p class="MuiTypography-root MuiTypography-body2">${current.rows.length}</p>` +
    (current.pinned.length ? `<p class="MuiTypography-root MuiTypography-body2">+${current.pinned.length}</p>` : "") +
    `<p class="MuiTypography-root MuiTypography-body2">/</p><p class="MuiTypography-root MuiTypography-body2">${state.data.length}</p>`;
  const board = root.querySelector(".board");
  if (current.rows.length === 0 && current.pinned.length === 0) {
    // Table.js:463-499
    board.innerHTML = `<div class="MuiPaper-root"><svg data-testid="SearchOffIcon"></svg>
      <h2 class="MuiTypography-root MuiTypography-h4">No models found</h2>
      <p class="MuiTypography-root">Try modifying your filters or search to see more models.</p></div>`;
    return;
  }
  // Table.js:554-595: the scroll container, `calc(100vh - 380px)`, at least 500 px.
  board.innerHTML = `<div class="MuiTableContainer-root" style="overflow:auto;height:max(500px, calc(100vh - 380px))">
    <table class="MuiTable-root MuiTable-stickyHeader">${headHtml()}<tbody></tbody></table></div>`;
  const container = board.querySelector(".MuiTableContainer-root");
  container.addEventListener("scroll", drawRows);
  drawRows();
}

// Table.js:258-301 and 676-709: only the rows in view (plus 15 on each side) are in the
// DOM, between two padding rows that keep the scroll height.
function drawRows() {
  const container = root.querySelector(".MuiTableContainer-root");
  if (!container) return;
  const height = ROW_HEIGHT[state.rowSize];
  const header = HEADER_HEIGHT[state.rowSize];
  const all = current.pinned.concat(current.rows);
  const top = Math.max(0, container.scrollTop - header);
  const first = Math.max(0, Math.floor(top / height) - OVERSCAN);
  const last = Math.min(all.length, Math.ceil((top + container.clientHeight) / height) + OVERSCAN);
  const width = columns().evals.length + columns().optional.length + 5;
  const pad = (rows) => (rows > 0 ? `<tr><td colspan="${width}" style="height:${rows * height}px"></td></tr>` : "");
  const body = all.slice(first, last).map((r) => rowHtml(r, current.pinned.includes(r))).join("");
  container.querySelector("tbody").innerHTML = pad(first) + body + pad(all.length - last);
}

// ---- Start ----------------------------------------------------------------------
loadFromUrl();
render();
// Invented: how long the data takes to arrive, set by the test.
setTimeout(async () => {
  try {
    state.data = process(await fetchWithRetry());
  } catch (e) {
    state.error = e.message;
  }
  render();
  if (state.data) syncUrl();
}, CONFIG.delayMs);
