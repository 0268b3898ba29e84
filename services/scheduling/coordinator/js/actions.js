// What a coordinator does: plan, pin, move, re-optimise, declare an absence, publish, ask "what if".
// Each action is one trace across the services (api.action).

import { action, call, followSolve } from "./api.js";
import { instant, local, longDay } from "./dates.js";
import { $, options } from "./dom.js";
import { communeName, fetchCalendar, loadWeek, setStatus, state, zone } from "./state.js";
import { fmt } from "./map.js";

const percent = (x) => `${Math.round(x * 1000) / 10} %`;

function showSolve(request) {
  if (request.status === "queued") setStatus("En attente d'un solveur…", { progress: 0 });
  else if (request.status === "running") {
    const p = request.progress;
    if (!p) setStatus("Recherche en cours…", { progress: 0 });
    else {
      const gap = p.gap === null || p.gap === undefined ? "" : `, écart ${percent(p.gap)}`;
      setStatus(`Recherche en cours : ${fmt(p.elapsed_s)} s sur ${fmt(p.time_limit_s)} s, `
        + `${p.solutions} solution${p.solutions > 1 ? "s" : ""}${gap}${p.solve ? ` (calcul ${p.solve})` : ""}`,
      { progress: (100 * p.elapsed_s) / (p.time_limit_s || 1) });
    }
  }
}

/** The solve followed to its end: the finished request, or null (and why, in the status line). */
async function solved(request) {
  const finished = await followSolve(request, showSolve);
  if (finished.status === "failed") {
    setStatus(`Pas de plan : ${finished.error}`, { failed: true });
    return null;
  }
  return finished;
}

/** Run an action, telling the coordinator what failed instead of failing silently. */
export async function attempt(work, render) {
  try {
    await action(work);
  } catch (error) {
    setStatus(error.message, { failed: true });
  } finally {
    render();
  }
}

export async function solveWeek() {
  const asked = await call("scheduling", "POST", "/plans/solve",
    { territory: state.territory, week_start: state.week, days: 5, time_limit_s: 20 });
  const finished = await solved(asked);
  if (!finished) return;
  await loadWeek(finished.plan_id);
  const r = finished.result;
  setStatus(`Plan prêt (brouillon) : ${r.status === "OPTIMAL" ? "optimal" : `écart prouvé ${percent(r.gap ?? 0)}`}. `
    + "Vérifiez-le, puis publiez-le.");
}

export async function reoptimise() {
  const plan = state.plan;
  const asked = await call("scheduling", "POST", `/plans/${plan.id}/replan`,
    { reason: plan.reason || "ré-optimisation autour des permanences épinglées", time_limit_s: 10 });
  const finished = await solved(asked);
  if (!finished) return;
  await loadWeek(finished.plan_id);
  setStatus("Nouveau brouillon prêt, autour des permanences épinglées.");
}

export async function pin(permanence) {
  const path = `/plans/${state.plan.id}/permanences/${permanence.id}/pin`;
  await call("scheduling", permanence.pinned ? "DELETE" : "PUT", path);
  await loadWeek(state.plan.id);
  setStatus(permanence.pinned ? "Permanence désépinglée." : "Permanence épinglée : les re-plannings la gardent.");
}

export function openMove(permanence) {
  const at = local(permanence.starts_at, zone());
  options($("move-conseiller"), state.conseillers.map((c) => [c.id, c.name]), permanence.conseiller_id);
  options($("move-lieu"), state.lieux.map((l) => [l.id, `${l.name} (${communeName(l.commune)})`]), permanence.lieu_id);
  options($("move-date"), state.calendar.days.map((d) => [d.date, longDay(d.date)]), at.date);
  $("move-start").value = at.time;
  $("move-end").value = local(permanence.ends_at, zone()).time;
  $("move-error").textContent = "";
  $("move-dialog").showModal();
}

export async function move(permanence) {
  const date = $("move-date").value;
  const body = {
    conseiller_id: $("move-conseiller").value, lieu_id: $("move-lieu").value,
    starts_at: instant(date, $("move-start").value, zone()), ends_at: instant(date, $("move-end").value, zone()),
  };
  const before = new Set((state.check?.warnings ?? []).map((w) => w.message));
  const answer = await call("scheduling", "PUT", `/plans/${state.plan.id}/permanences/${permanence.id}`, body);
  const broken = (answer.warnings ?? []).filter((w) => !before.has(w.message));
  const n = broken.length;
  await loadWeek(state.plan.id);
  setStatus(n
    ? `Permanence déplacée, mais ${n} règle${n > 1 ? "s" : ""} enfreinte${n > 1 ? "s" : ""} : ${broken.map((w) => w.message).join(" ")}`
    : "Permanence déplacée ; aucune nouvelle règle enfreinte.", { failed: n > 0 });
}

/** The absence, declared at the registry; what follows is ``followAbsence``'s. */
export async function declareAbsence() {
  const conseillerId = $("absence-conseiller").value;
  const body = {
    start_date: $("absence-start").value, start_half: $("absence-start-half").value,
    end_date: $("absence-end").value, end_half: $("absence-end-half").value, kind: $("absence-kind").value,
  };
  const since = new Date(Date.now() - 60_000).toISOString();
  const conseiller = await call("registry", "POST", `/conseillers/${conseillerId}/absences`, body);
  const declared = conseiller.absences.find((a) => a.start_date === body.start_date && a.end_date === body.end_date
    && a.start_half === body.start_half && a.end_half === body.end_half);
  return { conseiller, declared, since };
}

/** Once scheduling has the absence: the re-plan it asks for a published plan it touches, followed to its draft. */
export async function followAbsence({ conseiller, declared, since }) {
  setStatus(`Absence de ${conseiller.name} enregistrée ; scheduling la prend en compte…`, { progress: 0 });
  await until(async () => {
    const week = await fetchCalendar();
    return week.absences.some((a) => a.id === declared?.id);
  }, "scheduling n'a pas encore reçu l'absence ; rechargez la page dans un instant.");
  const published = state.plans.find((p) => p.status === "published");
  const replan = published && await until(() => replanAskedFor(published.id, since), null, 5);
  if (!replan) {
    await loadWeek(state.plan?.id);
    setStatus(published
      ? `Absence de ${conseiller.name} enregistrée : aucune permanence publiée n'est touchée.`
      : `Absence de ${conseiller.name} enregistrée. Ré-optimisez le brouillon pour en tenir compte.`);
    return;
  }
  const finished = await solved(replan);
  if (!finished) return;
  await loadWeek(finished.plan_id);
  setStatus(`Re-planning prêt après l'absence de ${conseiller.name} : vérifiez ce qu'il change, puis publiez-le.`);
}

async function replanAskedFor(planId, since) {
  const q = encodeURIComponent(state.territory);
  const page = await call("scheduling", "GET", `/solves?territory=${q}&limit=20`);
  return page.items.find((r) => r.kind === "replan" && r.parameters.plan_id === planId && r.requested_at >= since);
}

async function until(check, failure, seconds = 20) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const found = await check();
    if (found) return found;
    if (Date.now() > deadline) {
      if (failure) throw new Error(failure);
      return null;
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

export async function publish() {
  const plan = state.plan;
  const told = state.changes ? state.changes.changes.reduce((n, c) => n + bookedCount(c.permanence_id), 0) : 0;
  await call("scheduling", "POST", `/plans/${plan.id}/publish`);
  await loadWeek(plan.id);
  setStatus(plan.replaces
    ? `Re-planning publié : ${told} usager${told > 1 ? "s" : ""} prévenu${told > 1 ? "s" : ""} du changement.`
    : `Plan publié : ${plan.permanences.length} permanences ouvertes aux réservations.`);
}

export function bookedCount(permanenceId) {
  const booked = state.booked.get(permanenceId);
  return booked ? (booked.sms ?? 0) + (booked.email ?? 0) : 0;
}

export async function whatIf() {
  const asked = await call("scheduling", "POST", "/what-if/one-more-conseiller",
    { territory: state.territory, week_start: state.week, lieu_id: $("what-if-lieu").value, time_limit_s: 10 });
  const finished = await solved(asked);
  if (!finished) return;
  const r = finished.result;
  $("what-if-answer").textContent = `Avec un conseiller de plus : ${fmt(r.more_covered_hours)} h de demande `
    + `couvertes en plus (il en resterait ${fmt(r.uncovered_hours_with_one_more)} h non couvertes au lieu de `
    + `${fmt(r.uncovered_hours_now)} h) ; il ferait ${fmt(r.their_hours)} h et ${fmt(r.their_travel_km)} km.`;
  setStatus("Estimation prête.");
}

export async function calendarLink(conseiller) {
  const link = await call("scheduling", "POST", `/conseillers/${conseiller.id}/calendar-link`);
  state.calendarLink = { name: conseiller.name, url: new URL(link.url, new URL("..", location.href)).href };
  setStatus(`Lien d'agenda de ${conseiller.name} prêt (ci-dessous).`);
}
