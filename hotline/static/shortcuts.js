// Single-key shortcuts (WCAG 2.1.4): a person using speech input or a switch can type a stray
// "n" and take a texter without meaning to, so the console's one-letter keys can be switched
// off. The choice is this browser's, in localStorage "hotline.shortcuts" ("on" or "off"; on
// when never chosen). Every single-key handler asks shortcutsEnabled() first.

const KEY = "hotline.shortcuts";
let chosen = null; // this page's choice, which holds even where storage is blocked

/** Whether one-letter keyboard shortcuts may act now. */
export function shortcutsEnabled() {
  if (chosen !== null) return chosen;
  try {
    return localStorage.getItem(KEY) !== "off";
  } catch {
    return true; // storage blocked: keep the default
  }
}

function show(on) {
  // CSS hides the hints of keys that do nothing (html[data-shortcuts="off"] .single-key).
  document.documentElement.dataset.shortcuts = on ? "on" : "off";
  const take = document.getElementById("take-next");
  if (take) {
    if (on) take.setAttribute("aria-keyshortcuts", "n");
    else take.removeAttribute("aria-keyshortcuts");
  }
}

/** Bind the switch (a checkbox, #shortcuts-switch) if the page has one. */
function bind() {
  const input = document.getElementById("shortcuts-switch");
  show(shortcutsEnabled());
  if (!(input instanceof HTMLInputElement)) return;
  input.checked = shortcutsEnabled();
  input.addEventListener("change", () => {
    chosen = input.checked;
    try {
      localStorage.setItem(KEY, input.checked ? "on" : "off");
    } catch {
      // storage blocked: the switch still works for this page
    }
    show(input.checked);
  });
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", bind);
else bind();
