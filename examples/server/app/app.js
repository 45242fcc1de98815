// The demo app: logs in through the cookie routes, shows who is logged in,
// refreshes the session when the access cookie has expired, and logs out.
// It never sees a token: they are HttpOnly cookies.
"use strict";

const $ = (id) => document.getElementById(id);

function status(text) { $("status").textContent = text; }

function show(user) {
  $("login").hidden = user !== null;
  $("session").hidden = user === null;
  $("user").textContent = user || "";
}

// post sends a POST with the cookies; a network failure is a null answer.
async function post(path, body) {
  try {
    return await fetch(path, { method: "POST", body, credentials: "same-origin" });
  } catch {
    return null;
  }
}

// me returns the logged-in user's name, refreshing the session once if the
// access cookie is gone or expired; null when there is no session or the
// server cannot be reached.
async function me() {
  try {
    return await meOnce();
  } catch {
    return null;
  }
}

async function meOnce() {
  let resp = await fetch("/api/users/me", { credentials: "same-origin" });
  if (resp.status === 401) {
    const refreshed = await post("/api/auth/cookie/refresh");
    if (!refreshed || !refreshed.ok) return null;
    resp = await fetch("/api/users/me", { credentials: "same-origin" });
  }
  if (!resp.ok) return null;
  return (await resp.json()).username;
}

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = new URLSearchParams({ username: $("username").value, password: $("password").value });
  const resp = await post("/api/auth/cookie/login", body);
  if (!resp) {
    status("Login failed: the server cannot be reached.");
    return;
  }
  if (!resp.ok) {
    const err = await resp.json().catch(() => ({}));
    status("Login failed: " + (err.error_description || resp.status));
    return;
  }
  $("password").value = "";
  const user = await me();
  show(user);
  status(user ? "Logged in." : "Logged in, but the profile could not be read; try again.");
});

$("refresh-button").addEventListener("click", async () => {
  const resp = await post("/api/auth/cookie/refresh");
  if (!resp) {
    status("Refresh failed: the server cannot be reached.");
    return;
  }
  if (!resp.ok) {
    show(null);
    status("The session has ended.");
    return;
  }
  const session = await resp.json();
  status("Refreshed: the access cookie lasts " + session.expires_in + " s.");
});

$("logout-button").addEventListener("click", async () => {
  const resp = await post("/api/auth/cookie/logout");
  if (!resp || !resp.ok) {
    status("Logout failed, try again.");
    return;
  }
  show(null);
  status("Logged out.");
});

(async () => {
  const user = await me();
  show(user);
  status(user ? "Welcome back." : "Not logged in.");
})();
