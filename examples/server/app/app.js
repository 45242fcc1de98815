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

// me returns the logged-in user's name, refreshing the session once if the
// access cookie is gone or expired; null when there is no session.
async function me() {
  let resp = await fetch("/api/users/me", { credentials: "same-origin" });
  if (resp.status === 401) {
    const refreshed = await fetch("/api/auth/cookie/refresh", { method: "POST", credentials: "same-origin" });
    if (!refreshed.ok) return null;
    resp = await fetch("/api/users/me", { credentials: "same-origin" });
  }
  if (!resp.ok) return null;
  return (await resp.json()).username;
}

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = new URLSearchParams({ username: $("username").value, password: $("password").value });
  const resp = await fetch("/api/auth/cookie/login", { method: "POST", body, credentials: "same-origin" });
  if (!resp.ok) {
    const err = await resp.json().catch(() => ({}));
    status("Login failed: " + (err.error_description || resp.status));
    return;
  }
  $("password").value = "";
  show(await me());
  status("Logged in.");
});

$("refresh-button").addEventListener("click", async () => {
  const resp = await fetch("/api/auth/cookie/refresh", { method: "POST", credentials: "same-origin" });
  if (!resp.ok) {
    show(null);
    status("The session has ended.");
    return;
  }
  const session = await resp.json();
  status("Refreshed: the access cookie lasts " + session.expires_in + " s.");
});

$("logout-button").addEventListener("click", async () => {
  const resp = await fetch("/api/auth/cookie/logout", { method: "POST", credentials: "same-origin" });
  if (!resp.ok) {
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
