// The coordinator page: log in, pick a territory and a week, review the plan on the map and the grid,
// adjust it and publish it.

import * as api from "./api.js";
import * as act from "./actions.js";
import { addDays, halfOf, local, longDay, mondayOf, today } from "./dates.js";
import { $, h, options, replaceChildren } from "./dom.js";
import { drawFigures } from "./figures.js";
import { drawGrid } from "./grid.js";
import { drawMap } from "./map.js";
import { communeName, conseillerName, loadTerritories, loadTerritory, loadWeek, setStatus, state, zone } from "./state.js";

const HALF = { am: "matin", pm: "après-midi" };

async function start() {
  await api.loadConfig();
  wire();
  window.addEventListener("tournees:logged-out", showLogin);
  if (api.currentSession()) await enter();
  else showLogin();
}

function showLogin() {
  $("app-view").hidden = true;
  $("who").hidden = true;
  $("login-view").hidden = false;
  $("login-email").focus();
}

async function enter() {
  const session = api.currentSession();
  $("login-view").hidden = true;
  $("app-view").hidden = false;
  $("who").hidden = false;
  $("who-name").textContent = session.name;
  await act.attempt(async () => {
    await loadTerritories();
    options($("territory"), state.territories.map((t) => [t.code, t.name]));
    if (!state.territories.length) throw new Error("Aucun territoire ne vous est confié.");
    await chooseTerritory(state.territories[0].code);
  }, render);
}

async function chooseTerritory(code) {
  await loadTerritory(code);
  state.week = state.week ?? mondayOf(addDays(today(zone()), 7));
  $("week").value = state.week;
  options($("what-if-lieu"), state.lieux.map((l) => [l.id, `${l.name} (${communeName(l.commune)})`]));
  options($("absence-conseiller"), state.conseillers.map((c) => [c.id, c.name]));
  $("map-attribution").textContent = state.map.attribution ?? "";
  await loadWeek();
}

function wire() {
  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("login-error").textContent = "";
    try {
      await api.logIn($("login-email").value, $("login-password").value);
      $("login-password").value = "";
      await enter();
    } catch (error) {
      $("login-error").textContent = error.message;
    }
  });
  $("logout").addEventListener("click", () => { api.logOut(); showLogin(); });
  $("territory").addEventListener("change", (e) => act.attempt(() => chooseTerritory(e.target.value), render));
  $("week").addEventListener("change", (e) => e.target.value && changeWeek(mondayOf(e.target.value)));
  $("week-previous").addEventListener("click", () => changeWeek(addDays(state.week, -7)));
  $("week-next").addEventListener("click", () => changeWeek(addDays(state.week, 7)));
  $("plan").addEventListener("change", (e) => act.attempt(() => loadWeek(e.target.value), render));
  $("solve").addEventListener("click", () => act.attempt(act.solveWeek, render));
  $("reoptimise").addEventListener("click", () => act.attempt(act.reoptimise, render));
  $("publish").addEventListener("click", () => act.attempt(act.publish, render));
  $("absence-open").addEventListener("click", openAbsence);
  $("absence-form").addEventListener("submit", (event) => {
    if (event.submitter?.value !== "declare") return;
    event.preventDefault();
    inDialog("absence-dialog", "absence-error", act.declareAbsence)
      .then((declared) => declared && act.attempt(() => act.followAbsence(declared), render));
  });
  $("move-form").addEventListener("submit", (event) => {
    if (event.submitter?.value !== "move") return;
    event.preventDefault();
    const permanence = selectedPermanence();
    if (permanence) inDialog("move-dialog", "move-error", () => act.move(permanence));
  });
  $("what-if-form").addEventListener("submit", (event) => {
    event.preventDefault();
    act.attempt(act.whatIf, render);
  });
}

/** A dialog's action: the dialog closes when it is done, and stays open with the reason when it fails. */
async function inDialog(dialog, error, work) {
  $(error).textContent = "";
  try {
    const done = await api.action(work);
    $(dialog).close();
    return done;
  } catch (failure) {
    $(error).textContent = failure.message;
    return null;
  } finally {
    render();
  }
}

function changeWeek(monday) {
  state.week = monday;
  $("week").value = monday;
  state.selected = state.route = null;
  act.attempt(() => loadWeek(null), render);
}

function openAbsence() {
  $("absence-start").value = state.week;
  $("absence-end").value = state.week;
  $("absence-error").textContent = "";
  $("absence-dialog").showModal();
}

function selectedPermanence() {
  return state.plan?.permanences.find((p) => p.id === state.selected) ?? null;
}

function select(permanence) {
  state.selected = permanence.id;
  state.route = { conseiller: permanence.conseiller_id, date: local(permanence.starts_at, zone()).date };
  render();
  document.querySelector(`[data-permanence="${permanence.id}"]`)?.focus();
}

function render() {
  if (!state.place) return;
  renderPlanChoice();
  const plan = state.plan;
  $("publish").disabled = !plan || plan.status !== "draft";
  $("reoptimise").disabled = !plan;
  const warnings = state.check?.warnings ?? [];
  drawGrid($("grid"), {
    week: state.calendar, conseillers: state.conseillers, plan, zone: zone(), communeName,
    selected: state.selected, warned: new Set(warnings.flatMap((w) => w.permanence_ids ?? [w.permanence_id]).filter(Boolean)),
    onSelect: select, onConseiller: (c) => act.attempt(() => act.calendarLink(c), render),
  });
  $("grid-title").textContent = `Semaine du ${longDay(state.week)}`;
  renderWarnings(warnings);
  renderMap();
  drawFigures($("figures"), { plan, now: state.check?.figures, conseillers: state.conseillers });
  renderSelection();
  renderChanges();
}

function renderPlanChoice() {
  const label = (p) => (p.status === "published" ? `Publié (version ${p.version})`
    : p.replaces ? `Re-planning à publier${p.reason ? ` : ${p.reason}` : ""}` : "Brouillon");
  const items = state.plans.map((p) => [p.id, label(p)]);
  options($("plan"), items.length ? items : [["", "Aucun plan"]], state.plan?.id ?? "");
  $("plan").disabled = !items.length;
}

function renderWarnings(warnings) {
  replaceChildren($("warnings"), warnings.length
    ? [h("p", {}, `${warnings.length} règle${warnings.length > 1 ? "s" : ""} enfreinte${warnings.length > 1 ? "s" : ""} :`),
      h("ul", {}, warnings.map((w) => h("li", {}, w.message)))]
    : []);
}

function routeOf(route) {
  if (!route || !state.plan) return null;
  const conseiller = state.conseillers.find((c) => c.id === route.conseiller);
  const home = state.lieux.find((l) => l.id === conseiller?.home_lieu_id);
  const stops = state.plan.permanences
    .filter((p) => p.conseiller_id === route.conseiller && local(p.starts_at, zone()).date === route.date)
    .sort((a, b) => a.starts_at.localeCompare(b.starts_at))
    .map((p) => ({ p, lieu: state.lieux.find((l) => l.id === p.lieu_id) }))
    .filter((x) => x.lieu);
  if (!home || !stops.length) return null;
  return { conseiller, home, stops };
}

function renderMap() {
  if (!state.map.bbox) {  // a territory whose communes cannot be placed
    replaceChildren($("map"), h("p", {}, "Pas de carte : aucune commune de ce territoire n'a de contour ni de position."));
    return;
  }
  const figures = state.check?.figures ?? state.plan?.figures ?? {};
  const covered = figures.covered_hours_by_commune ?? {};
  const demandByCommune = figures.demand_hours_by_commune ?? {};
  const demandOf = Object.fromEntries(state.map.features.map((f) => [f.properties.insee, f.properties.demand_hours]));
  const coverage = (insee) => ({ covered: state.plan ? covered[insee] ?? 0 : 0, demand: demandByCommune[insee] ?? demandOf[insee] ?? 0 });
  const route = routeOf(state.route);
  const homes = new Set(state.conseillers.map((c) => c.home_lieu_id));
  const points = route ? [route.home, ...route.stops.map((x) => x.lieu), route.home].map((l) => [l.longitude, l.latitude]) : null;
  replaceChildren($("map"), drawMap(state.map, {
    coverage, lieux: state.lieux, homes, route: points,
    title: `Carte de ${state.place.name} : communes selon la demande couverte`,
  }));
  const uncovered = state.map.features.filter((f) => {
    const c = coverage(f.properties.insee);
    return c.demand > 0 && (c.covered || 0) === 0;
  }).map((f) => f.properties.name);
  $("map-uncovered").textContent = uncovered.length
    ? `Demande non couverte : ${uncovered.join(", ")}.` : "Toute commune qui a de la demande en voit une partie couverte.";
  $("map-route").textContent = route
    ? `Tournée de ${route.conseiller.name}, ${longDay(state.route.date)} : ${route.home.name} → `
      + route.stops.map((x, i) => `${i + 1}. ${x.lieu.name} (${local(x.p.starts_at, zone()).time})`).join(" → ")
      + ` → ${route.home.name}.`
    : "Choisissez une permanence pour voir la tournée du jour de son conseiller.";
}

function renderSelection() {
  const p = selectedPermanence();
  const parts = [];
  if (p) {
    const at = local(p.starts_at, zone());
    parts.push(h("h3", {}, `${p.kind === "atelier" ? "Atelier" : "Permanence"} : ${p.lieu}, ${communeName(p.commune)}`),
      h("p", {}, `${conseillerName(p.conseiller_id)}, ${longDay(at.date)} ${HALF[halfOf(p.starts_at, zone())]}, `
        + `de ${at.time} à ${local(p.ends_at, zone()).time}${p.pinned ? " — épinglée" : ""}.`));
    const editable = state.plan.status === "draft";
    parts.push(h("div", { class: "buttons" },
      h("button", { type: "button", id: "pin", disabled: !p.lieu_id || state.plan.status === "replaced",
        onclick: () => act.attempt(() => act.pin(p), render) }, p.pinned ? "Désépingler" : "Épingler"),
      h("button", { type: "button", id: "move", disabled: !editable, onclick: () => act.openMove(p) }, "Déplacer…"),
      editable ? null : h("span", { class: "stale" }, "Un plan publié se change par un re-planning (absence, ré-optimisation).")));
  }
  if (state.calendarLink) {
    parts.push(h("p", { class: "calendar-link" }, `Agenda de ${state.calendarLink.name} (à garder privé) : `,
      h("a", { href: state.calendarLink.url, id: "calendar-url" }, state.calendarLink.url)));
  }
  replaceChildren($("selection"), parts);
}

function renderChanges() {
  const changes = state.changes;
  $("changes").hidden = !changes;
  if (!changes) return;
  $("changes-reason").textContent = `Motif : ${changes.reason}. ${changes.kept} permanence${changes.kept > 1 ? "s" : ""} inchangée${changes.kept > 1 ? "s" : ""}.`;
  const describe = (x) => `${longDay(local(x.starts_at, zone()).date)} ${local(x.starts_at, zone()).time}, ${x.lieu} (${communeName(x.commune)})`;
  let sms = 0;
  let email = 0;
  replaceChildren($("changes-list"), changes.changes.map((c) => {
    const booked = state.booked.get(c.permanence_id) ?? {};
    sms += booked.sms ?? 0;
    email += booked.email ?? 0;
    const who = (booked.sms ?? 0) + (booked.email ?? 0);
    const what = c.change === "moved" ? `déplacée : ${describe(c.to)}, avec ${conseillerName(c.to.conseiller_id)}` : "annulée";
    return h("li", { dataset: { change: c.change } }, `${conseillerName(c.conseiller_id)}, ${describe(c)} — ${what}. `,
      h("strong", {}, who ? `${who} usager${who > 1 ? "s" : ""} prévenu${who > 1 ? "s" : ""}` : "personne d'inscrit"));
  }));
  const conseillers = new Set(changes.changes.flatMap((c) => [c.conseiller_id, c.to?.conseiller_id]).filter(Boolean));
  $("changes-told").textContent = `En publiant : ${sms} SMS et ${email} e-mail${email > 1 ? "s" : ""} aux usagers inscrits ; `
    + `agenda mis à jour pour ${[...conseillers].map(conseillerName).join(", ") || "personne"}.`;
}

start().catch((error) => setStatus(`La page n'a pas pu démarrer : ${error.message}`, { failed: true }));
