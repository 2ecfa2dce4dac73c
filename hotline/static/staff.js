/* What every staff page's script shares: the status line, the JSON API with its CSRF header,
 * what a 401 does, and building elements from text. Plain JavaScript, no build step: loaded with
 * `defer` before each page's own script, it sets `window.Staff` and nothing else.
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

  /** The fetch itself, with the CSRF header on anything but GET; throws ApiError (status 0)
   * with `unreachable` when the server cannot be reached. */
  async function request(method, path, body, unreachable = UNREACHABLE) {
    const init = { method, credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } };
    if (method !== "GET") {
      init.headers["X-CSRF-Token"] = csrfToken;
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body || {});
    }
    try {
      return await fetch(path, init);
    } catch (_) {
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

  /** A JSON request answered with JSON. Options: `unreachable` (the message when the server
   * cannot be reached), `onUnauthorized` (called on a 401), `acceptUnreadable` (an ok answer
   * that is not JSON gives null instead of an ApiError). */
  async function api(method, path, body, options = {}) {
    const response = await request(method, path, body, options.unreachable);
    if (!response.ok) throw await failure(response, options.onUnauthorized);
    try {
      return await response.json();
    } catch (_) {
      if (options.acceptUnreadable) return null;
      throw new ApiError(UNREADABLE, response.status);
    }
  }

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
    el,
    failure,
    request,
    signedOutGuard,
    statusLine,
  });
})();
