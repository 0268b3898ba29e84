// The territory drawn from the shipped commune boundaries (no tiles): communes shaded by how much of
// their demand the plan covers, lieux, home structures, and a conseiller's day as a route.

import { s } from "./dom.js";

const WIDTH = 1000;

function projection(bbox) {
  const [west, south, east, north] = bbox;
  const shrink = Math.cos(((south + north) / 2) * (Math.PI / 180));
  const scale = WIDTH / Math.max((east - west) * shrink, 1e-6);
  return {
    point: ([lon, lat]) => [(lon - west) * shrink * scale, (north - lat) * scale],
    height: Math.max((north - south) * scale, 1),
  };
}

function ringPath(ring, project) {
  return ring.map((c, i) => {
    const [x, y] = project(c);
    return `${i ? "L" : "M"}${x.toFixed(1)} ${y.toFixed(1)}`;
  }).join("") + "Z";
}

function geometryPath(geometry, project) {
  if (!geometry) return "";
  const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
  return polygons.flatMap((rings) => rings.map((ring) => ringPath(ring, project))).join("");
}

/** "covered", "partial", "uncovered" or "none" (no demand) for a commune's covered / demand hours. */
function coverageClass(covered, demand) {
  if (!demand) return "none";
  const share = (covered || 0) / demand;
  if (share >= 0.95) return "covered";
  return share > 0 ? "partial" : "uncovered";
}

/**
 * @param map the territory's FeatureCollection (with bbox)
 * @param coverage insee → {covered, demand} hours
 * @param lieux [{id, name, latitude, longitude}]; homes: Set of lieu ids that are home structures
 * @param route [[lon, lat, label], …] or null
 */
export function drawMap(map, { coverage, lieux, homes, route, title }) {
  const { point, height } = projection(map.bbox);
  const svg = s("svg", {
    viewBox: `-10 -10 ${WIDTH + 20} ${height + 20}`, role: "img", "aria-labelledby": "map-svg-title",
    preserveAspectRatio: "xMidYMid meet",
  }, s("title", { id: "map-svg-title" }, title));
  const communes = s("g", { class: "communes" });
  for (const feature of map.features) {
    const { insee, name } = feature.properties;
    const seen = coverage(insee);
    const kind = coverageClass(seen.covered, seen.demand);
    const label = seen.demand
      ? `${name} : ${fmt(seen.covered)} h couvertes sur ${fmt(seen.demand)} h de demande`
      : `${name} : pas de demande`;
    const d = geometryPath(feature.geometry, point);
    if (d) communes.append(s("path", { d, class: `commune ${kind}`, "data-insee": insee }, s("title", {}, label)));
  }
  svg.append(communes);
  const marks = s("g", { class: "lieux" });
  for (const lieu of lieux) {
    const [x, y] = point([lieu.longitude, lieu.latitude]);
    const mark = homes.has(lieu.id)
      ? s("rect", { x: x - 7, y: y - 7, width: 14, height: 14, class: "home-mark" })
      : s("circle", { cx: x, cy: y, r: 4, class: "lieu-dot" });
    mark.append(s("title", {}, homes.has(lieu.id) ? `${lieu.name} (structure d'attache)` : lieu.name));
    marks.append(mark);
  }
  svg.append(marks);
  if (route && route.length > 1) svg.append(drawRoute(route, point));
  return svg;
}

function drawRoute(route, point) {
  const projected = route.map(([lon, lat]) => point([lon, lat]));
  const group = s("g", { class: "route-layer", "data-stops": route.length });
  group.append(s("polyline", { class: "route", points: projected.map(([x, y]) => `${x},${y}`).join(" ") }));
  projected.slice(1, -1).forEach(([x, y], i) => {
    group.append(s("circle", { cx: x, cy: y, r: 10, class: "route-stop" }));
    group.append(s("text", { x, y: y + 4, "text-anchor": "middle", class: "route-label" }, String(i + 1)));
  });
  return group;
}

export function fmt(hours) {
  return (Math.round((hours || 0) * 10) / 10).toLocaleString("fr-FR");
}
