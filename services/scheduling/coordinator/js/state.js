// What the page shows, loaded from the APIs: the territory, its week, the plans of that week.

import { call } from "./api.js";
import { $ } from "./dom.js";

export const state = {
  territories: [], territory: null, week: null,
  place: null, map: null, conseillers: [], lieux: [],
  calendar: null, plans: [], plan: null, check: null, changes: null, booked: new Map(),
  selected: null, route: null, calendarLink: null,
};

const ALL = "limit=500";

export async function loadTerritories() {
  const page = await call("registry", "GET", "/territories?limit=200");
  state.territories = page.items;
}

export async function loadTerritory(code) {
  const q = encodeURIComponent(code);
  const [place, map, conseillers, lieux] = await Promise.all([
    call("scheduling", "GET", `/territories/${q}`),
    call("scheduling", "GET", `/territories/${q}/map`),
    call("scheduling", "GET", `/conseillers?territory=${q}&${ALL}`),
    call("scheduling", "GET", `/lieux?territory=${q}&${ALL}`),
  ]);
  Object.assign(state, { territory: code, place, map, conseillers: conseillers.items, lieux: lieux.items });
  state.selected = state.route = null;
}

/** The week's holidays and absences, as scheduling's copy of the registry knows them. */
export function fetchCalendar() {
  return call("scheduling", "GET", `/territories/${encodeURIComponent(state.territory)}/week?week_start=${state.week}`);
}

/** The week's holidays and absences, and its plans (the chosen one, or the one most worth looking at). */
export async function loadWeek(preferred) {
  const q = encodeURIComponent(state.territory);
  const [calendar, plans] = await Promise.all([
    fetchCalendar(),
    call("scheduling", "GET", `/plans?territory=${q}&limit=200`),
  ]);
  state.calendar = calendar;
  state.plans = plans.items.filter((p) => p.week_start === state.week && p.status !== "replaced");
  const id = preferred ?? state.plan?.id;
  const chosen = state.plans.find((p) => p.id === id) ?? bestPlan(state.plans);
  await loadPlan(chosen?.id ?? null);
}

function bestPlan(plans) {
  const published = plans.find((p) => p.status === "published");
  const replan = published && plans.find((p) => p.status === "draft" && p.replaces === published.id);
  return replan ?? published ?? plans.find((p) => p.status === "draft") ?? null;
}

export async function loadPlan(id) {
  state.plan = state.check = state.changes = null;
  state.booked = new Map();
  if (!id) return;
  const [plan, check] = await Promise.all([
    call("scheduling", "GET", `/plans/${id}`),
    call("scheduling", "GET", `/plans/${id}/check`),
  ]);
  state.plan = plan;
  state.check = check;
  if (plan.status === "draft" && plan.replaces) {
    const [changes, told] = await Promise.all([
      call("scheduling", "GET", `/plans/${id}/changes`),
      call("notifications", "GET", `/permanences?plan_id=${plan.replaces}&limit=1000`),
    ]);
    state.changes = changes;
    state.booked = new Map(told.map((p) => [p.id, p.booked]));
  }
}

export function setStatus(text, { progress = null, failed = false } = {}) {
  $("status").classList.toggle("failed", failed);
  $("status-text").textContent = text;
  const bar = $("status-progress");
  bar.hidden = progress === null;
  if (progress !== null) bar.value = Math.max(0, Math.min(100, progress));
}

export function zone() {
  return state.place?.time_zone ?? "Europe/Paris";
}

export function communeName(insee) {
  return state.place?.communes.find((c) => c.insee === insee)?.name ?? insee;
}

export function conseillerName(id) {
  return state.conseillers.find((c) => c.id === id)?.name ?? "un conseiller";
}
