// Talking to the setup app.  The session token (earned with the setup code) travels in a
// header, never a cookie, so no other site can submit steps on the owner's behalf.
let token = sessionStorage.getItem("salvesti-setup-token");

export function hasToken() { return Boolean(token); }

export function setToken(value) {
  token = value;
  sessionStorage.setItem("salvesti-setup-token", value);
}

/** POST or GET JSON; resolves to {status, data}. */
export async function call(method, path, body) {
  const headers = { "X-Setup-Token": token || "" };
  let payload;
  if (body instanceof Blob) payload = body;
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
  const res = await fetch(path, { method, headers, body: payload });
  let data = {};
  try { data = await res.json(); } catch { data = {}; }
  if (res.status === 401) { token = null; sessionStorage.removeItem("salvesti-setup-token"); }
  return { status: res.status, data };
}

/** An audio file fetched with the token, as a blob: URL for an <audio> element. */
export async function audioUrl(query) {
  const res = await fetch(`/api/setup/notice/audio?${query}`, { headers: { "X-Setup-Token": token || "" } });
  if (!res.ok) return null;
  return URL.createObjectURL(await res.blob());
}
