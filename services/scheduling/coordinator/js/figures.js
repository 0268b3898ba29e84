// The figures beside the map: travel, hours, coverage, the solve's proven gap, per conseiller.

import { h } from "./dom.js";
import { fmt } from "./map.js";

const percent = (x) => `${(Math.round(x * 1000) / 10).toLocaleString("fr-FR")} %`;

function solveStatus(figures) {
  if (!figures?.status) return "plan fait à la main";
  if (figures.status === "OPTIMAL") return "optimal (prouvé)";
  return `réalisable, écart prouvé ${percent(figures.gap ?? 0)}`;
}

/** ``solved``: the figures of the solve that made the plan; ``now``: the plan as it is (after hand moves). */
export function drawFigures(container, { plan, now, conseillers }) {
  if (!plan) {
    container.replaceChildren(h("p", {}, "Pas encore de plan pour cette semaine : lancez « Planifier la semaine »."));
    return;
  }
  const solved = plan.figures || {};
  const current = now || solved;
  const hours = current.hours_by_conseiller || {};
  const km = current.travel_km_by_conseiller || {};
  const demand = current.demand_hours ?? solved.demand_hours;
  const uncovered = current.uncovered_demand_hours ?? solved.uncovered_demand_hours;
  const totalHours = Object.values(hours).reduce((a, b) => a + b, 0);
  const list = h("dl", {},
    h("dt", {}, "Résolution"), h("dd", { id: "figure-status" }, solveStatus(solved)),
    h("dt", {}, "Écart prouvé"), h("dd", { id: "figure-gap" }, solved.gap === undefined || solved.gap === null ? "—" : percent(solved.gap)),
    h("dt", {}, "Déplacements"), h("dd", { id: "figure-travel" }, `${fmt(current.travel_km)} km`),
    h("dt", {}, "Heures de permanence"), h("dd", {}, `${fmt(totalHours)} h`),
    h("dt", {}, "Demande couverte"), h("dd", { id: "figure-coverage" }, demand
      ? `${percent((demand - (uncovered || 0)) / demand)} (${fmt(demand - (uncovered || 0))} h sur ${fmt(demand)} h)`
      : "pas de demande connue"),
  );
  const table = h("table", {},
    h("caption", { class: "visually-hidden" }, "Heures et déplacements par conseiller"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Conseiller"), h("th", { scope: "col" }, "Heures"), h("th", { scope: "col" }, "Km"))),
    h("tbody", {}, conseillers.map((c) => h("tr", {},
      h("th", { scope: "row" }, c.name),
      h("td", { class: "number" }, `${fmt(hours[c.id])} h`),
      h("td", { class: "number" }, `${fmt(km[c.id])} km`)))),
  );
  const note = now && solved.status ? h("p", { class: "stale" }, "L'écart prouvé est celui de la résolution ; "
    + "les autres chiffres sont ceux du plan tel qu'il est.") : null;
  container.replaceChildren(h("div", { class: "figures" }, list, table, note));
}
