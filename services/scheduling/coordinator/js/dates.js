// Dates and times in the territory's time zone, whatever the browser's.

const parts = new Map();

function formatter(zone) {
  if (!parts.has(zone)) {
    parts.set(zone, new Intl.DateTimeFormat("en-CA", {
      timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
      hourCycle: "h23",
    }));
  }
  return parts.get(zone);
}

/** {date: "YYYY-MM-DD", time: "HH:MM"} of an ISO instant in ``zone``. */
export function local(iso, zone) {
  const p = Object.fromEntries(formatter(zone).formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
  return { date: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute}` };
}

/** The half-day an instant falls in, as the planner tells them apart (afternoon from 13:00). */
export function halfOf(iso, zone) {
  return local(iso, zone).time < "13:00" ? "am" : "pm";
}

/** The ISO instant of a wall-clock date and time in ``zone`` (with its UTC offset). */
export function instant(date, time, zone) {
  const guess = new Date(`${date}T${time}:00Z`);
  for (let i = 0; i < 3; i++) {
    const seen = local(guess.toISOString(), zone);
    const drift = (Date.parse(`${seen.date}T${seen.time}:00Z`) - Date.parse(`${date}T${time}:00Z`));
    if (drift === 0) break;
    guess.setTime(guess.getTime() - drift);
  }
  return guess.toISOString();
}

export function addDays(date, days) {
  const d = new Date(`${date}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function mondayOf(date) {
  const d = new Date(`${date}T12:00:00Z`);
  return addDays(date, -((d.getUTCDay() + 6) % 7));
}

export function today(zone) {
  return local(new Date().toISOString(), zone).date;
}

const dayName = new Intl.DateTimeFormat("fr-FR", { weekday: "long", day: "numeric", month: "long", timeZone: "UTC" });
const dayShort = new Intl.DateTimeFormat("fr-FR", { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });

export function longDay(date) {
  return dayName.format(new Date(`${date}T12:00:00Z`));
}

export function shortDay(date) {
  return dayShort.format(new Date(`${date}T12:00:00Z`));
}

export const HALVES = [["am", "matin"], ["pm", "après-midi"]];
