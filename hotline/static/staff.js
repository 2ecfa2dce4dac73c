/* What every staff page's script shares: the status line, the JSON API with its CSRF header,
 * what a 401 does, building elements from text, and the "still there?" prompt. Plain
 * JavaScript, no build step: loaded with `defer` before each page's own script, it sets
 * `window.Staff` and nothing else.
 *
 * Idle sessions: the server ends a session after a while without a person's action. Every GET
 * the page makes is marked `X-Hotline-Background: 1` (the page may fetch on its own: polls,
 * refreshes), and carries `X-Hotline-Input: 1` when someone typed, clicked, touched or scrolled
 * since the last one, which is what keeps the session alive. Answers that say how long is left
 * (`idle_seconds_left`, from the poll or /console/api/idle) drive the prompt: an alertdialog
 * shown `idle_warning_seconds` before the end, whose button counts as an action. When the time
 * has run out and the server agrees (401), the page goes to sign-in.
 *
 * Security: strings reach the page only through textContent / createTextNode (`el`); nothing
 * here uses innerHTML, insertAdjacentHTML, document.write or eval.
 */
(() => {
  "use strict";

  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrfToken = csrfMeta ? csrfMeta.getAttribute("content") || "" : "";

  const SIGNED_OUT = "Your session has ended. Reload the page to sign in again.";
  const UNREACHABLE = "The server cannot be reached. Try again in a moment.";
  const UNREADABLE = "The server's answer could not be read.";

  /** An element with a class, text and children; strings become text nodes, never markup. */
  function el(tag, className, ...children) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /** A `say(message, kind)` for one status element: anything but an error clears after
   * `clearMs`. `say.clear()` empties the line now. */
  function statusLine(statusElement, clearMs) {
    let timer = null;
    function clear() {
      clearTimeout(timer);
      statusElement.textContent = "";
      statusElement.className = "status";
    }
    function say(message, kind = "info") {
      clearTimeout(timer);
      statusElement.textContent = message;
      statusElement.className = `status ${kind}`;
      if (kind !== "error") timer = setTimeout(clear, clearMs);
    }
    say.clear = clear;
    return say;
  }

  class ApiError extends Error {
    constructor(message, status) {
      super(message);
      this.status = status;
    }
  }

  // -- idle: what a person did since the page last told the server -------------------------

  const idle = {
    sawInput: false, // a person acted since the last GET went out
    left: null, // seconds the session had left when last heard, or null
    warning: 120, // show the prompt this many seconds before the end
    heardAt: 0, // performance.now() when last heard
    askedAt: -Infinity,
    asking: false,
    ended: false,
    dialog: null,
    countdown: null,
    returnFocus: null,
  };
  for (const name of ["keydown", "pointerdown", "wheel", "touchstart"]) {
    document.addEventListener(name, () => { idle.sawInput = true; }, { capture: true, passive: true });
  }

  /** The fetch itself, with the CSRF header on anything but GET, and the idle marks on a GET;
   * throws ApiError (status 0) with `unreachable` when the server cannot be reached. */
  async function request(method, path, body, unreachable = UNREACHABLE) {
    const init = { method, credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } };
    let reported = false;
    if (method !== "GET") {
      init.headers["X-CSRF-Token"] = csrfToken;
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body || {});
    } else {
      init.headers["X-Hotline-Background"] = "1";
      if (idle.sawInput) {
        init.headers["X-Hotline-Input"] = "1";
        idle.sawInput = false;
        reported = true;
      }
    }
    try {
      return await fetch(path, init);
    } catch (_) {
      if (reported) idle.sawInput = true; // not delivered: tell the next one
      throw new ApiError(unreachable, 0);
    }
  }

  /** The ApiError for a response that is not ok: the server's `error` if it gave one. Calls
   * `onUnauthorized` first on a 401. */
  async function failure(response, onUnauthorized) {
    let payload = null;
    try {
      payload = await response.json();
    } catch (_) {
      payload = null;
    }
    if (response.status === 401 && onUnauthorized) onUnauthorized();
    const message = payload && typeof payload.error === "string" ? payload.error : `The server answered ${response.status}`;
    return new ApiError(message, response.status);
  }

  /** Save an ok response as a file, named as its Content-Disposition says (else `fallback`);
   * the name it was saved as. */
  async function download(response, fallback) {
    const blob = await response.blob();
    const disposition = response.headers.get("Content-Disposition") || "";
    const match = /filename="([\w.-]+)"/.exec(disposition);
    const name = match ? match[1] : fallback;
    const url = URL.createObjectURL(blob);
    const link = el("a", "visually-hidden", "download");
    link.href = url;
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 30000);
    return name;
  }

  /** A JSON request answered with JSON. Options: `unreachable` (the message when the server
   * cannot be reached), `onUnauthorized` (called on a 401), `acceptUnreadable` (an ok answer
   * that is not JSON gives null instead of an ApiError). */
  async function api(method, path, body, options = {}) {
    const response = await request(method, path, body, options.unreachable);
    if (!response.ok) throw await failure(response, options.onUnauthorized);
    let payload;
    try {
      payload = await response.json();
    } catch (_) {
      if (options.acceptUnreadable) return null;
      throw new ApiError(UNREADABLE, response.status);
    }
    heard(payload);
    return payload;
  }

  // -- idle: the "still there?" prompt ------------------------------------------------------

  const ASK_EVERY_MS = 15000; // a page that does not poll asks how long is left this often

  /** Take the time left from an answer that says it. */
  function heard(payload) {
    if (!payload || typeof payload.idle_seconds_left !== "number") return;
    idle.left = payload.idle_seconds_left;
    if (typeof payload.idle_warning_seconds === "number") idle.warning = payload.idle_warning_seconds;
    idle.heardAt = performance.now();
    renderIdle();
  }

  /** Seconds left by the page's reckoning, or null before the server said. */
  function idleLeft() {
    if (idle.left === null) return null;
    return idle.left - (performance.now() - idle.heardAt) / 1000;
  }

  function goToSignIn() {
    if (idle.ended) return;
    idle.ended = true;
    const next = window.location.pathname + window.location.search + window.location.hash;
    window.location.assign(`/login?next=${encodeURIComponent(next)}`);
  }

  function idleDialog() {
    if (idle.dialog) return idle.dialog;
    const heading = el("h2", null, "Are you still there?");
    heading.id = "idle-heading";
    idle.countdown = el("span", "idle-countdown");
    const text = el(
      "p", null,
      "Nothing has been done on this page for a while, so for the texters' safety you will be signed out in ",
      idle.countdown,
      ". Texters you hold go back to the queue soon after.",
    );
    text.id = "idle-text";
    const button = el("button", null, "I'm still here");
    button.type = "button";
    button.id = "idle-still-here";
    button.addEventListener("click", stillHere);
    const dialog = el("dialog", "idle-dialog", heading, text, el("div", "idle-actions", button));
    dialog.setAttribute("role", "alertdialog");
    dialog.setAttribute("aria-labelledby", heading.id);
    dialog.setAttribute("aria-describedby", text.id);
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault(); // Escape is an answer too: the person is there
      stillHere();
    });
    document.body.append(dialog);
    idle.dialog = dialog;
    return dialog;
  }

  function spell(seconds) {
    const whole = Math.max(0, Math.ceil(seconds));
    const minutes = Math.floor(whole / 60);
    const rest = whole % 60;
    if (minutes === 0) return `${rest} second${rest === 1 ? "" : "s"}`;
    return `${minutes}:${String(rest).padStart(2, "0")} minutes`;
  }

  function renderIdle() {
    const left = idleLeft();
    const warn = left !== null && left > 0 && left <= idle.warning && !idle.ended;
    if (warn) {
      const dialog = idleDialog();
      idle.countdown.textContent = spell(left);
      if (!dialog.open) {
        idle.returnFocus = document.activeElement;
        dialog.showModal();
        dialog.querySelector("button").focus();
      }
    } else if (idle.dialog && idle.dialog.open) {
      idle.dialog.close();
      const back = idle.returnFocus;
      idle.returnFocus = null;
      if (back instanceof HTMLElement && back.isConnected) back.focus();
    }
  }

  /** Ask the server how long is left (a background request, carrying any input seen). */
  async function askIdle() {
    if (idle.asking || idle.ended) return;
    idle.asking = true;
    idle.askedAt = performance.now();
    try {
      const response = await request("GET", "/console/api/idle");
      if (response.status === 401) {
        // Ended: for idleness when the time has run out (go and sign in again); otherwise
        // signed out elsewhere, which the page's own requests report.
        const left = idleLeft();
        if (left !== null && left <= 1) goToSignIn();
        return;
      }
      if (response.ok) heard(await response.json());
    } catch (_) {
      // unreachable or unreadable: asked again on a later tick
    } finally {
      idle.asking = false;
    }
  }

  async function stillHere() {
    try {
      heard(await api("POST", "/console/api/still-here"));
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) goToSignIn();
    }
  }

  function idleTick() {
    if (idle.ended || !csrfToken) return;
    const now = performance.now();
    const left = idleLeft();
    const quiet = now - Math.max(idle.heardAt, idle.askedAt) > ASK_EVERY_MS;
    if (left === null || quiet || left <= 0 || (left <= idle.warning && now - idle.askedAt > 5000)) {
      askIdle();
    }
    renderIdle();
  }

  setInterval(idleTick, 1000);

  /** The `signedOut()` a page calls on a 401: once, it sets `state.signedOut`, says so in the
   * status line and disables every control `controls()` returns. */
  function signedOutGuard(state, say, controls) {
    return function signedOut() {
      if (state.signedOut) return;
      state.signedOut = true;
      say(SIGNED_OUT, "error");
      for (const control of controls()) control.disabled = true;
    };
  }

  /** The `attempt(action, onError)` a page runs its actions through: an API error is said in
   * the status line (a 401 has said its own already) and given to `onError`; anything else is
   * reported as the page's own fault. True when the action succeeded. */
  function attempter(say) {
    return async function attempt(action, onError) {
      try {
        await action();
        return true;
      } catch (error) {
        if (error instanceof ApiError) {
          if (error.status !== 401) say(error.message, "error");
          if (onError) onError(error);
        } else {
          say("Something went wrong in the page. Reload it if this keeps happening.", "error");
          console.error(error);
        }
        return false;
      }
    };
  }

  /** Languages by their code: the two we text in, and those triage recognises besides. */
  const LANGUAGES = Object.freeze({
    en: "English", es: "Spanish", zh: "Chinese", vi: "Vietnamese", tl: "Tagalog", ar: "Arabic",
    fr: "French", ht: "Haitian Creole", pt: "Portuguese", ko: "Korean", ru: "Russian",
  });
  const languageName = (code) => (Object.hasOwn(LANGUAGES, code) ? LANGUAGES[code] : String(code || "?").toUpperCase());

  /** A chip for a texter who writes a language we do not text in: an interpreter is needed. */
  const writesInChip = (item) =>
    item.writes_in ? el("span", "chip flag flag-language", `Writes ${languageName(item.writes_in)}: interpreter`) : null;

  window.Staff = Object.freeze({
    ApiError,
    LANGUAGES,
    languageName,
    writesInChip,
    SIGNED_OUT,
    api,
    attempter,
    download,
    el,
    failure,
    request,
    signedOutGuard,
    statusLine,
  });
})();
