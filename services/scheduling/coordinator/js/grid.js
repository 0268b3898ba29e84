// The week grid: one row per conseiller, half-days as cells, each permanence a button showing its
// lieu and commune; public holidays, absences and half-days off visible. Arrow keys move between cells.

import { HALVES, halfOf, local, mondayOf, shortDay } from "./dates.js";
import { h } from "./dom.js";

function absentOn(absences, conseillerId, date, half) {
  const moment = `${date}${half === "am" ? 0 : 1}`;
  return absences.find((a) => a.conseiller_id === conseillerId
    && `${a.start_date}${a.start_half === "am" ? 0 : 1}` <= moment
    && moment <= `${a.end_date}${a.end_half === "am" ? 0 : 1}`);
}

function worksOn(conseiller, date, half) {
  const weekday = (new Date(`${date}T12:00:00Z`).getUTCDay() + 6) % 7;
  return conseiller.availability.some((slot) => {
    if (slot.weekday !== weekday || slot.half !== half) return false;
    if (slot.every_weeks <= 1 || !slot.from_date) return true;
    const weeks = Math.round((Date.parse(mondayOf(date)) - Date.parse(mondayOf(slot.from_date))) / 6048e5);
    return weeks >= 0 && weeks % slot.every_weeks === 0;
  });
}

const ABSENCE_KIND = { conge: "en congé", formation: "en formation", autre: "absent·e" };

/** The days to show: Monday to Friday, and the weekend when someone works or holds a permanence then. */
function shownDays(week, conseillers, permanences, zone) {
  const used = new Set(permanences.map((p) => local(p.starts_at, zone).date));
  return week.days.filter((day, i) => i < 5 || used.has(day.date)
    || conseillers.some((c) => HALVES.some(([half]) => worksOn(c, day.date, half))));
}

export function drawGrid(table, { week, conseillers, plan, zone, communeName, selected, warned, onSelect, onConseiller }) {
  const permanences = plan ? plan.permanences : [];
  const days = shownDays(week, conseillers, permanences, zone);
  const head = h("tr", {}, h("th", { scope: "col", rowspan: 2 }, "Conseiller"));
  const halves = h("tr");
  for (const day of days) {
    head.append(h("th", { scope: "colgroup", colspan: 2, class: day.holiday ? "holiday" : undefined },
      shortDay(day.date), day.holiday ? h("span", { class: "cell-note" }, `férié : ${day.holiday}`) : null));
    for (const [, label] of HALVES) halves.append(h("th", { scope: "col", class: day.holiday ? "holiday" : undefined }, label));
  }
  const body = h("tbody");
  conseillers.forEach((conseiller, row) => {
    const mine = permanences.filter((p) => p.conseiller_id === conseiller.id);
    const tr = h("tr", {}, h("th", { scope: "row", class: "conseiller" },
      conseiller.name,
      h("div", { class: "conseiller-actions" },
        h("button", { type: "button", onclick: () => onConseiller(conseiller, "calendar") }, "Lien agenda (ICS)"))));
    days.forEach((day, d) => {
      HALVES.forEach(([half, halfLabel], k) => {
        const absence = absentOn(week.absences, conseiller.id, day.date, half);
        const here = mine.filter((p) => local(p.starts_at, zone).date === day.date && halfOf(p.starts_at, zone) === half);
        const classes = [day.holiday && "holiday", absence && "absent", !absence && !worksOn(conseiller, day.date, half) && "off"];
        const td = h("td", { class: classes.filter(Boolean).join(" ") || undefined, dataset: { row, col: d * 2 + k } });
        if (absence) td.append(h("span", { class: "cell-note" }, ABSENCE_KIND[absence.kind] || "absent·e"));
        else if (day.holiday && !here.length) td.append(h("span", { class: "cell-note" }, "férié"));
        for (const p of here) td.append(permanenceButton(p, { zone, communeName, selected, warned, onSelect, halfLabel, conseiller, day }));
        tr.append(td);
      });
    });
    body.append(tr);
  });
  table.replaceChildren(
    h("caption", { class: "visually-hidden" }, "Permanences de la semaine par conseiller et demi-journée"),
    h("thead", {}, head, halves),
    body,
  );
  table.onkeydown = (event) => moveFocus(table, event);
}

function permanenceButton(p, { zone, communeName, selected, warned, onSelect, halfLabel, conseiller, day }) {
  const start = local(p.starts_at, zone).time;
  const end = local(p.ends_at, zone).time;
  const where = `${p.lieu}, ${communeName(p.commune)}`;
  const classes = ["permanence", p.kind === "atelier" && "atelier", selected === p.id && "selected", warned.has(p.id) && "warned"];
  return h("button", {
    type: "button", class: classes.filter(Boolean).join(" "), "aria-pressed": String(selected === p.id),
    dataset: { permanence: p.id },
    "aria-label": `${p.kind === "atelier" ? "Atelier" : "Permanence"} de ${conseiller.name}, ${shortDay(day.date)} ${halfLabel}, `
      + `${where}, de ${start} à ${end}${p.pinned ? ", épinglée" : ""}${warned.has(p.id) ? ", enfreint une règle" : ""}`,
    onclick: () => onSelect(p),
  },
  h("span", { class: "where" }, where),
  h("span", { class: "when" }, `${start}–${end}${p.kind === "atelier" ? " · atelier" : ""}`),
  p.pinned ? h("span", { class: "pin" }, "épinglée") : null);
}

function moveFocus(table, event) {
  const steps = { ArrowRight: [0, 1], ArrowLeft: [0, -1], ArrowDown: [1, 0], ArrowUp: [-1, 0] };
  const step = steps[event.key];
  const cell = event.target.closest("td");
  if (!step || !cell) return;
  const cells = [...table.querySelectorAll("td")].filter((td) => td.querySelector("button"));
  const [row, col] = [Number(cell.dataset.row), Number(cell.dataset.col)];
  const distance = (td) => {
    const [r, c] = [Number(td.dataset.row), Number(td.dataset.col)];
    if (step[0] && (Math.sign(r - row) !== step[0] || r === row)) return Infinity;
    if (step[1] && (r !== row || Math.sign(c - col) !== step[1])) return Infinity;
    return Math.abs(r - row) * 100 + Math.abs(c - col);
  };
  const [next] = cells.filter((td) => distance(td) !== Infinity).sort((a, b) => distance(a) - distance(b));
  if (next) {
    event.preventDefault();
    next.querySelector("button").focus();
  }
}
