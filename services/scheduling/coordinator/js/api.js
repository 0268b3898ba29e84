// The three services' APIs, with the coordinator's token; one trace per coordinator action.

const SESSION_KEY = "tournees.session";
let config = null;
let session = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
let traceId = null;

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function loadConfig() {
  const response = await fetch("config.json");
  config = await response.json();
  return config;
}

export function currentSession() {
  if (session && session.expires_at < Date.now()) logOut();
  return session;
}

export function logOut() {
  session = null;
  sessionStorage.removeItem(SESSION_KEY);
}

export async function logIn(email, password) {
  const form = new URLSearchParams({ username: email, password, grant_type: "password" });
  const response = await fetch(`${config.registry_url}/auth/token`, { method: "POST", body: form });
  if (response.status === 401) throw new ApiError(401, "Adresse e-mail ou mot de passe incorrect.");
  if (response.status === 429) throw new ApiError(429, "Trop d'essais : réessayez dans un quart d'heure.");
  if (!response.ok) throw new ApiError(response.status, "La connexion a échoué ; réessayez.");
  const token = await response.json();
  session = {
    token: token.access_token, name: token.name, role: token.role, territories: token.territories,
    expires_at: Date.now() + token.expires_in * 1000,
  };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

function hex(bytes) {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Run ``work`` as one coordinator action: its requests share one trace id (W3C traceparent). */
export async function action(work) {
  traceId = hex(16);
  try {
    return await work();
  } finally {
    traceId = null;
  }
}

// Scheduling serves this page (at …/coordinator/): its API is one level up, wherever it is mounted.
const BASES = { registry: () => config.registry_url, scheduling: () => "..", notifications: () => config.notifications_url };

/** A JSON request to ``service``; an ApiError with a French message when it fails. */
export async function call(service, method, path, body) {
  const headers = { Authorization: `Bearer ${session?.token}` };
  if (traceId) headers.traceparent = `00-${traceId}-${hex(8)}-01`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(`${BASES[service]()}${path}`, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "Le service ne répond pas : vérifiez la connexion.");
  }
  if (response.status === 401) {
    logOut();
    window.dispatchEvent(new Event("tournees:logged-out"));
    throw new ApiError(401, "Votre session a expiré : reconnectez-vous.");
  }
  const answer = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, explain(response.status, answer));
  return answer;
}

function explain(status, answer) {
  const detail = answer?.detail;
  if (Array.isArray(detail)) {
    return detail.map((d) => `${(d.loc || []).slice(1).join(".")} : ${d.msg}`).join(" ; ");
  }
  if (status === 403) return "Ce territoire n'est pas le vôtre.";
  if (status === 409) return `Impossible : ${detail || "le plan a changé entre-temps"}.`;
  return detail ? String(detail) : `Erreur ${status}.`;
}

/** A solve request followed until it ends; ``onProgress`` sees each state. */
export async function followSolve(request, onProgress) {
  let current = request;
  onProgress(current);
  while (current.status === "queued" || current.status === "running") {
    current = await call("scheduling", "GET", `/solves/${current.id}?wait=1`);
    onProgress(current);
  }
  return current;
}
