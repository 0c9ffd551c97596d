// The operator's page: keeps the status (and the QR code), the conversations and a transcript
// fresh without reloading, and shows times in the browser's own time zone. No build step.
"use strict";

const REFRESH_MS = 3000;

function localizeTimes(root) {
  for (const element of root.querySelectorAll("time[datetime]")) {
    const at = new Date(element.getAttribute("datetime"));
    if (!Number.isNaN(at.getTime())) {
      element.textContent = at.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
    }
  }
}

function busy(block) {
  // Never pull the rug from under the operator: not while typing in it or reading an opened detail.
  const active = document.activeElement;
  const typing = active && active !== document.body && block.contains(active) && active.matches("input, textarea, select");
  return typing || block.querySelector("details[open]") !== null;
}

async function refresh(block) {
  if (busy(block)) return;
  let response;
  try {
    response = await fetch(block.dataset.refresh, { credentials: "same-origin", cache: "no-store" });
  } catch {
    return; // the gateway is restarting; the next tick tries again
  }
  if (response.status === 401) {
    window.location.reload(); // logged out: the page itself goes to the login form
    return;
  }
  if (!response.ok) return;
  const html = await response.text();
  if (html !== block.dataset.last && !busy(block)) {
    block.innerHTML = html;
    block.dataset.last = html;
    localizeTimes(block);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  localizeTimes(document);
  const blocks = document.querySelectorAll("[data-refresh]");
  if (blocks.length) {
    window.setInterval(() => blocks.forEach(refresh), REFRESH_MS);
  }
  // A second click while the first send is on its way would be refused as a duplicate anyway
  // (one token per form); disabling the button just says so at once.
  for (const form of document.querySelectorAll("form[data-once]")) {
    form.addEventListener("submit", () => {
      for (const button of form.querySelectorAll("button")) button.disabled = true;
    });
  }
});
