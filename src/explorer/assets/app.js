// The explorer's page: builds the form from /api/form, posts each change to /api/runs, polls
// the run and draws what it has. No library and no request leaves this machine.
"use strict";

const state = { fields: [], policies: [], run: null, shown: -1, pinned: [], maxPinned: 4, timer: null, poll: null };
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

// Numbers as a reader wants them; the exact value stays in the cell's data attributes.
function fmt(value, unit) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  const abs = Math.abs(value);
  if (unit === "share") return (value * 100).toFixed(1) + "%";
  if (unit && unit.startsWith("$")) {
    if (abs >= 1e6) return (value < 0 ? "−$" : "$") + (abs / 1e6).toFixed(2) + "M";
    return (value < 0 ? "−$" : "$") + Math.round(abs).toLocaleString("en-US");
  }
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  const text = abs.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return (value < 0 ? "−" : "") + text;
}

function shown(field, value) { return field.percent ? +(value * 100).toFixed(6) : value; }
function stored(field, value) { return field.percent ? value / 100 : value; }

function buildForm(form) {
  $("scenario-name").textContent = form.scenario;
  state.fields = form.fields;
  state.policies = form.policies;
  state.maxPinned = form.max_pinned;
  const groups = new Map();
  for (const field of form.fields) {
    if (!groups.has(field.group)) groups.set(field.group, el("fieldset", {}, el("legend", { text: field.group })));
    const box = el("div", { class: "field", id: "field-" + field.id });
    const inputId = "input-" + field.id;
    const step = field.percent ? field.step * 100 : field.step;
    const number = el("input", { type: "number", id: inputId, name: field.id, step: String(step),
      min: String(shown(field, field.min)), max: String(shown(field, field.max)), value: String(shown(field, field.value)) });
    const inputs = el("div", { class: "inputs" });
    if (field.slider) {
      const range = el("input", { type: "range", id: "slider-" + field.id, "aria-label": field.label, step: String(step),
        min: String(shown(field, field.min)), max: String(shown(field, field.max)), value: String(shown(field, field.value)) });
      range.addEventListener("input", () => { number.value = range.value; changed(150); });
      number.addEventListener("input", () => { if (number.value !== "") range.value = number.value; });
      inputs.append(range);
    }
    number.addEventListener("change", () => changed(0));
    inputs.append(number, el("span", { class: "unit", text: field.percent ? "%" : field.unit }));
    box.append(el("label", { for: inputId, text: field.label }), inputs);
    if (field.note) {
      box.append(el("p", { class: "note", text: field.note }));
    } else {
      const badge = field.source ? el("span", { class: "badge" + (field.assumption ? " assumption" : ""), text: field.assumption ? "assumption" : "source" }) : null;
      const source = el("details", {}, el("summary", {}, field.source ? "Where this number comes from" : "No source given in the scenario", badge));
      if (field.source) source.append(el("p", { text: field.source }));
      box.append(source);
    }
    box.append(el("p", { class: "error", id: "error-" + field.id, role: "alert" }));
    groups.get(field.group).append(box);
  }
  // The main levers open; the costs and the run's settings folded away until wanted.
  for (const [name, group] of groups) {
    if (name === "Costs" || name === "Run") {
      $("form").append(el("details", { class: "group", id: "group-" + name.toLowerCase() }, el("summary", { text: name }), group));
      group.querySelector("legend").hidden = true;
    } else {
      $("form").append(group);
    }
  }
}

function values() {
  const out = {};
  for (const field of state.fields) {
    const text = $("input-" + field.id).value.trim();
    out[field.id] = text === "" ? "" : stored(field, Number(text));
  }
  return out;
}

function changed(delay) {
  clearTimeout(state.timer);
  state.timer = setTimeout(submit, delay);
}

function showRefusal(refused) {
  for (const field of state.fields) {
    const message = (refused && refused.fields[field.id]) || "";
    $("error-" + field.id).textContent = message;
    $("field-" + field.id).classList.toggle("invalid", message !== "");
    // A refused value in a folded group opens the group, so its message is seen.
    const group = $("field-" + field.id).closest("details.group");
    if (message && group) group.open = true;
  }
  $("form-errors").textContent = refused ? refused.general.join(" ") : "";
}

async function submit() {
  const response = await fetch("/api/runs", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ values: values() }) });
  const body = await response.json();
  if (response.status === 422) {
    showRefusal(body.refused);
    $("status").textContent = "Not run: a value was refused (see the marked field).";
    return;
  }
  if (!response.ok) { $("status").textContent = "Not run: " + body.error; return; }
  showRefusal(null);
  state.run = body.id;
  state.shown = -1;
  for (const link of ["dl-json", "dl-report"]) $(link).classList.add("disabled");
  $("dl-toml").href = `/api/runs/${body.id}/scenario.toml`;
  $("dl-toml").classList.remove("disabled");
  $("pin").disabled = true;
  clearTimeout(state.poll);
  poll(body.id);
}

async function poll(id) {
  if (id !== state.run) return;
  const response = await fetch(`/api/runs/${id}`);
  if (!response.ok) return;
  const run = await response.json();
  if (id !== state.run) return;
  const statusText = {
    running: `Simulating… ${run.done} of ${run.total} replications done; the intervals narrow as more complete.`,
    done: `Done: ${run.total} replications.`,
    cancelled: `Stopped after ${run.done} of ${run.total} replications.`,
    failed: `The run failed: ${run.error}`,
  }[run.state];
  $("status").textContent = statusText;
  $("status").dataset.state = run.state;
  $("status").dataset.done = run.done;
  $("cancel").hidden = run.state !== "running";
  if (run.view && run.done !== state.shown) {
    state.shown = run.done;
    render(run.view, id);
  }
  if (run.state === "done") {
    $("dl-json").href = `/api/runs/${id}/results.json`;
    $("dl-report").href = `/api/runs/${id}/report.html`;
    for (const link of ["dl-json", "dl-report"]) $(link).classList.remove("disabled");
    $("pin").disabled = state.pinned.length >= state.maxPinned || state.pinned.some((p) => p.id === id);
  }
  if (run.state === "running") state.poll = setTimeout(() => poll(id), 150);
}

function cell(interval, unit, policy, kind) {
  const td = el("td", { "data-policy": String(policy), "data-kind": kind });
  if (!interval) { td.textContent = "–"; return td; }
  td.dataset.mean = String(interval.mean);
  td.dataset.low = String(interval.low);
  td.dataset.high = String(interval.high);
  const sign = kind === "difference" && interval.mean > 0 ? "+" : "";
  td.append(el("span", { class: "mean", text: sign + fmt(interval.mean, unit) }));
  if (interval.low !== null && !Number.isNaN(interval.low)) {
    td.append(el("span", { class: "ci", text: `[${fmt(interval.low, unit)} – ${fmt(interval.high, unit)}]` }));
  }
  return td;
}

function figureTable(table, figures, policies, withDifferences) {
  table.replaceChildren();
  const head = el("tr", {}, el("th", { text: "Figure" }));
  policies.forEach((name) => head.append(el("th", { text: name })));
  if (withDifferences) policies.slice(1).forEach((name) => head.append(el("th", { text: `${name} − ${policies[0]}` })));
  table.append(el("thead", {}, head));
  const body = el("tbody");
  for (const figure of figures) {
    const row = el("tr", { "data-key": figure.key }, el("td", { text: `${figure.label} (${figure.unit})` }));
    figure.estimates.forEach((e, i) => row.append(cell(e, figure.unit, i, "estimate")));
    if (withDifferences) figure.differences.slice(1).forEach((d, i) => row.append(cell(d, figure.unit, i + 1, "difference")));
    body.append(row);
  }
  table.append(body);
}

function render(view, id) {
  $("headline").textContent = view.headline || "";
  $("warnings").replaceChildren(...view.warnings.map((w) => el("li", { text: w })));
  figureTable($("figures"), view.figures, view.policies, true);
  figureTable($("budget"), view.budget, view.policies, true);
  const freed = view.hours_freed.map((h, i) => h && `${view.policies[i]} frees ${fmt(h.mean, "h/yr")} police unit-hours a year (95% CI ${fmt(h.low, "h/yr")} – ${fmt(h.high, "h/yr")}) against ${view.policies[0]}.`).filter(Boolean);
  $("freed").textContent = freed.join(" ") || "No policy here changes police hours.";
  $("charts").replaceChildren(...view.charts.map((chart) => {
    const figure = el("figure");
    figure.innerHTML = chart.svg;
    figure.append(el("figcaption", { text: `${chart.title} · ${view.replications} replications` }));
    return figure;
  }));
  $("results").dataset.run = String(id);
  $("results").dataset.replications = String(view.replications);
}

function describe() {
  const changes = state.fields.filter((f) => {
    const text = $("input-" + f.id).value;
    return text !== "" && Math.abs(stored(f, Number(text)) - f.value) > 1e-12;
  }).map((f) => `${f.label}: ${$("input-" + f.id).value}${f.percent ? "%" : ""}`);
  return changes.length ? changes.join("; ") : "as in the scenario";
}

async function compare() {
  $("compare").hidden = state.pinned.length === 0;
  if (!state.pinned.length) return;
  const response = await fetch("/api/compare", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ runs: state.pinned.map((p) => p.id) }) });
  const body = await response.json();
  if (!response.ok) { $("compare-chart").textContent = body.error; return; }
  const legend = el("ol", {}, ...state.pinned.map((p) => el("li", { text: p.label })));
  figureTable($("compare-table"), body.figures, body.columns, false);
  const figure = el("figure");
  if (body.chart) { figure.innerHTML = body.chart.svg; figure.append(el("figcaption", { text: body.chart.title })); }
  $("compare-chart").replaceChildren(legend, figure);
}

async function start() {
  const response = await fetch("/api/form");
  buildForm(await response.json());
  $("cancel").addEventListener("click", () => { if (state.run) fetch(`/api/runs/${state.run}/cancel`, { method: "POST" }); });
  $("pin").addEventListener("click", () => {
    if (state.run === null || state.pinned.length >= state.maxPinned) return;
    state.pinned.push({ id: state.run, label: describe() });
    $("pin").disabled = true;
    compare();
  });
  $("clear-pins").addEventListener("click", () => { state.pinned = []; compare(); });
  submit();
}

start();
