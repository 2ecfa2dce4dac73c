/* Quick replies in the console: the list in the tools pane with its search box, the picker that
 * "/" opens in an empty reply box, and the warning when a draft reply is in another language
 * than the texter's.
 *
 * The server fills each quick reply in for the open conversation ({advocate_name},
 * {location}, {safe_word}), the texter's language first: what is inserted is what is sent.
 * Quick replies' words and texters' words reach the page only through textContent. A draft
 * reply is checked with a POST (its words never go in a URL), and nothing is stored or sent.
 */

const CHECK_DELAY_MS = 700;
const LANGUAGES = { en: "English", es: "Spanish" };

/** Whether single-key shortcuts are on: the console's shortcuts toggle stores "off" under
 * "hotline.shortcuts" (on when unset, or when storage cannot be read). */
export function shortcutsEnabled() {
  try {
    return window.localStorage.getItem("hotline.shortcuts") !== "off";
  } catch {
    return true;
  }
}

/** Lower case without accents: "presentacion" finds "Presentación". */
export function folded(text) {
  return String(text).normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
}

/** The quick replies holding every word of `query` in their title, text or language. */
export function matching(items, query) {
  const words = folded(query).split(/\s+/).filter(Boolean);
  return items.filter((item) => {
    const haystack = folded(`${item.title} ${item.body} ${LANGUAGES[item.language] || ""} ${item.language}`);
    return words.every((word) => haystack.includes(word));
  });
}

/**
 * Wire the quick replies to the console page.
 *
 * `deps`: `api(method, path, body)`, `el(tag, className, ...children)`, `attempt(action)`,
 * `insert(text)` (puts text into the reply box at the caret), and `reply` (the reply box).
 * Returns `{ open(conversationId, language), close() }`, called as conversations open and close.
 */
export function setUpQuickReplies({ api, el, attempt, insert, reply }) {
  const $ = (id) => document.getElementById(id);
  const list = $("quick-replies");
  const empty = $("quick-replies-empty");
  const search = $("quick-reply-search");
  const picker = $("quick-reply-picker");
  const pickerSearch = $("quick-reply-picker-search");
  const pickerList = $("quick-reply-picker-list");
  const pickerEmpty = $("quick-reply-picker-empty");
  const warning = $("reply-language-warning");

  let items = [];
  let conversationId = null;
  let language = null;
  let active = 0; // the picker's highlighted option
  let checkTimer = null;
  let checked = 0;

  function languageChip(item) {
    return item.language === language ? null : el("span", "chip quick-reply-language", LANGUAGES[item.language] || item.language);
  }

  function renderList() {
    const shown = matching(items, search.value);
    list.replaceChildren(
      ...shown.map((item) => {
        const choose = el("button", "secondary quick-reply", item.title);
        choose.type = "button";
        choose.title = item.body;
        choose.addEventListener("click", () => use(item));
        return el("li", "", choose, " ", languageChip(item));
      }),
    );
    empty.textContent = items.length ? "No quick reply matches." : "No quick replies yet.";
    empty.hidden = shown.length > 0;
  }

  function renderPicker() {
    const shown = matching(items, pickerSearch.value);
    active = Math.min(active, Math.max(0, shown.length - 1));
    pickerList.replaceChildren(
      ...shown.map((item, index) => {
        const option = el("li", "picker-option", el("strong", "", item.title), " ", languageChip(item), el("span", "picker-body", item.body));
        option.id = `quick-reply-option-${item.id}`;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", String(index === active));
        option.addEventListener("mousedown", (event) => event.preventDefault()); // keep focus in the search box
        option.addEventListener("click", () => use(item));
        return option;
      }),
    );
    const current = shown[active];
    if (current) {
      pickerSearch.setAttribute("aria-activedescendant", `quick-reply-option-${current.id}`);
      $(`quick-reply-option-${current.id}`).scrollIntoView({ block: "nearest" });
    } else {
      pickerSearch.removeAttribute("aria-activedescendant");
    }
    pickerEmpty.hidden = shown.length > 0;
    return shown;
  }

  function use(item) {
    if (picker.open) picker.close();
    insert(item.body);
    scheduleCheck();
  }

  function openPicker() {
    if (conversationId === null || reply.disabled) return;
    pickerSearch.value = "";
    active = 0;
    renderPicker();
    picker.showModal();
    pickerSearch.focus();
  }

  pickerSearch.addEventListener("input", () => {
    active = 0;
    renderPicker();
  });
  pickerSearch.addEventListener("keydown", (event) => {
    const shown = matching(items, pickerSearch.value);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!shown.length) return;
      active = (active + (event.key === "ArrowDown" ? 1 : shown.length - 1)) % shown.length;
      renderPicker();
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (shown[active]) use(shown[active]);
    }
  });
  // Escape (the dialog's cancel) or a choice: back to the reply box either way.
  picker.addEventListener("close", () => reply.focus());

  reply.addEventListener("keydown", (event) => {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (reply.value !== "" || !shortcutsEnabled() || !items.length) return; // a "/" to type
    event.preventDefault();
    openPicker();
  });
  search.addEventListener("input", renderList);

  // -- the language warning --------------------------------------------------------------------

  function showWarning(text) {
    warning.textContent = text || "";
    warning.hidden = !text;
  }

  function scheduleCheck() {
    clearTimeout(checkTimer);
    const draft = reply.value.trim();
    if (conversationId === null || draft.split(/\s+/).length < 2) {
      checked += 1; // an answer on its way is stale now
      showWarning(null);
      return;
    }
    checkTimer = setTimeout(() => check(conversationId, draft), CHECK_DELAY_MS);
  }

  async function check(id, draft) {
    const asked = ++checked;
    try {
      const answer = await api("POST", `/console/api/conversations/${id}/reply-check`, { body: draft });
      if (asked === checked && id === conversationId) showWarning(answer && answer.warning);
    } catch {
      // A warning is a help, not a gate: without it the reply can still be sent.
    }
  }

  reply.addEventListener("input", scheduleCheck);

  return {
    /** Load the quick replies filled in for the conversation now open. */
    async open(id, texterLanguage) {
      conversationId = id;
      language = texterLanguage;
      items = [];
      search.value = "";
      renderList();
      showWarning(null);
      scheduleCheck(); // a draft kept from before is checked too
      await attempt(async () => {
        const answer = await api("GET", `/console/api/conversations/${id}/quick-replies`);
        if (conversationId !== id) return; // another conversation was opened meanwhile
        items = (answer && answer.items) || [];
        renderList();
      });
    },
    close() {
      conversationId = null;
      items = [];
      clearTimeout(checkTimer);
      showWarning(null);
      if (picker.open) picker.close();
    },
  };
}
