/* "Who needs me now" (issue 18): the advocate's own conversations, first on the page, each with
 * its unread count, the first words of the texter's last text and how long the texter has been
 * waiting for a reply; alerts for what concerns them (a highlight, the tab title's count, a
 * sound, a desktop notification, a polite live region); and a conversation taken from them,
 * explained, with its transcript kept on screen until they dismiss it.
 *
 * Security: texters' words reach the page only through textContent (Staff.el). Alerts outside
 * the page (desktop notifications, the title, the live region) carry no texter's words or
 * number: only "texter 3", a label this page gives each conversation.
 *
 * console.js builds it with createMine(deps) and calls render() with each queue answer,
 * shown() with each conversation it renders, keepLost() when the open one is no longer theirs.
 */
import { formatTime } from "./timeline.js";

const NOTIFY_KEY = "hotline.console.notify";
const COLLAPSE_KEY = "hotline.console.queue-collapsed";
const COLLAPSED_SHOWS = 3;

const ALERT_WORDS = {
  new_text: (label) => `New text from ${label}`,
  assigned: (label) => `${label} was transferred to you`,
  supervisor_note: (label) => `A supervisor wrote a note on ${label}`,
  emergency: (label) => `Emergency words from ${label}`,
};
const ALERT_CHIPS = {
  assigned: "Transferred to you",
  supervisor_note: "Supervisor's note",
  emergency: "Emergency",
};

/** How a conversation left the advocate, in a sentence with no texter's words. */
export function lostWords(item) {
  const by = item.by ? ` by ${item.by}` : "";
  switch (item.how) {
    case "stop":
      return "The texter texted STOP: nothing more can be sent to them.";
    case "safe_word":
      return "The texter sent the safe word: everything about them was erased.";
    case "erased":
      return item.by ? `Erased by ${item.by}.` : "The texter asked for everything about them to be erased.";
    case "taken_over":
      return `Taken over${by}.`;
    case "reassigned":
      return `Reassigned to a colleague${by}.`;
    case "transferred":
      return `Transferred${by}.`;
    case "returned":
      return "Handed back to the queue: your console was out of touch.";
    default:
      return "The conversation ended.";
  }
}

function storedFlag(key, fallback) {
  try {
    const value = localStorage.getItem(key);
    return value === null ? fallback : value === "on";
  } catch (_) {
    return fallback;
  }
}

function storeFlag(key, on) {
  try {
    localStorage.setItem(key, on ? "on" : "off");
  } catch (_) {
    /* storage may be off: the setting still holds for this page */
  }
}

export function createMine(deps) {
  const { el, button, ui } = deps;
  const labels = new Map(); // conversation id -> "texter N", stable while the page is open
  const lostNodes = new Map(); // conversation id -> { key, node }: a form being filled survives
  let lostById = new Map();
  let mineById = new Map();
  let alertKeys = null; // alerts already raised; null until the first answer (seeded silently)
  let mineCount = 0;
  let kept = null; // the open conversation taken away, kept on screen
  const reads = new Map(); // conversation id -> newest text id reported read

  function label(id) {
    if (!labels.has(id)) labels.set(id, `texter ${labels.size + 1}`);
    return labels.get(id);
  }

  const capital = (text) => text.charAt(0).toUpperCase() + text.slice(1);

  // -- my conversations --------------------------------------------------------------------------

  function waitNode(seconds) {
    if (seconds === null || seconds === undefined) return el("span", "reply-wait answered", "Answered");
    const node = el("span", "reply-wait", `Waiting ${deps.formatWait(seconds)}`);
    node.dataset.base = String(Number(seconds) || 0);
    node.dataset.at = String(performance.now());
    return node;
  }

  function mineRow(item) {
    const alerts = Array.isArray(item.alerts) ? item.alerts : [];
    const row = el("li", `mine-item${alerts.length ? " alerting" : ""}${alerts.includes("emergency") ? " alerting-emergency" : ""}`);
    row.dataset.id = String(item.id);
    const open = button("", "mine-open", () => deps.openConversation(item.id));
    open.dataset.id = String(item.id);
    if (item.id === deps.openId()) open.setAttribute("aria-current", "true");
    const unread = Number(item.unread) || 0;
    open.append(
      el("span", "mine-label", capital(label(item.id))),
      " ",
      ...deps.spaced(
        unread ? el("span", "unread", `${unread} new`) : null,
        unread || alerts.length ? el("span", "new-mark", "New activity") : null,
        deps.priorityBadge(item.priority),
        waitNode(item.waiting_for_reply_seconds),
        ...alerts.filter((kind) => ALERT_CHIPS[kind]).map((kind) => el("span", `chip alert-chip alert-${kind}`, ALERT_CHIPS[kind])),
        ...deps.flagChips(item),
      ),
    );
    if (item.last_words) open.append(el("span", "mine-last", el("span", "muted", "Last text: "), item.last_words));
    open.append(el("span", "mine-needs", item.needs ? `Needs: ${item.needs}` : "No needs given"));
    row.append(open);
    return row;
  }

  // -- taken from me ---------------------------------------------------------------------------

  function lostRow(item) {
    const row = el("li", "lost-item alerting");
    row.dataset.id = String(item.id);
    row.append(
      el("p", "lost-what", el("strong", "", `${capital(label(item.id))}: `), lostWords(item), " ", el("span", "muted", formatTime(item.at))),
    );
    if (item.wrap_up_until) row.append(wrapUpForm(item));
    else if (item.wrapped_up) row.append(el("p", "muted small", "How it went is recorded."));
    const dismiss = button("Dismiss", "secondary lost-dismiss", () => dismissLost(item.id));
    dismiss.setAttribute("aria-label", `Dismiss ${label(item.id)}`);
    row.append(el("div", "actions", dismiss));
    return row;
  }

  function wrapUpForm(item) {
    const id = item.id;
    const form = el("form", "wrap-up");
    const prefix = `wrap-up-${id}`;
    const select = el("select", "");
    select.id = `${prefix}-disposition`;
    select.append(...[...ui.disposition.options].map((option) => new Option(option.text, option.value)));
    const note = el("textarea", "");
    note.id = `${prefix}-note`;
    note.rows = 2;
    note.placeholder = "Only staff see notes";
    const draft = deps.draftOf(id);
    const copy = el("input", "");
    copy.type = "checkbox";
    copy.id = `${prefix}-draft`;
    const submit = el("button", "secondary", "Record how it went");
    submit.type = "submit";
    form.append(
      el("p", "muted small", `You may still record how it went until ${formatTime(item.wrap_up_until)}.`),
      labelled(select, `Disposition for ${label(id)}`),
      labelled(note, `Note on how it went with ${label(id)}`),
    );
    if (draft && draft.trim()) {
      const line = el("label", "choice", copy, " Add my unsent reply to the note");
      line.htmlFor = copy.id;
      form.append(line);
    }
    form.append(submit);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      deps.attempt(async () => {
        const parts = [note.value.trim()];
        if (copy.checked) parts.push(`Unsent reply: ${deps.draftOf(id) || ""}`.trim());
        submit.disabled = true;
        try {
          await deps.api("POST", `/console/api/conversations/${id}/wrap-up`, {
            disposition: select.value,
            note: parts.filter(Boolean).join("\n\n"),
          });
        } finally {
          submit.disabled = false;
        }
        deps.say("Recorded.");
        await deps.loadQueue();
      });
    });
    return form;
  }

  function labelled(control, text) {
    const node = el("label", "field", text, " ", control);
    node.htmlFor = control.id;
    return node;
  }

  async function dismissLost(id) {
    await deps.attempt(async () => {
      await deps.api("POST", `/console/api/conversations/${id}/dismiss`, {});
      deps.forgetDraft(id);
      if (kept === id) {
        kept = null;
        ui.lostBanner.hidden = true;
        deps.clearConversation("Dismissed.");
      } else {
        deps.say("Dismissed.");
      }
      await deps.loadQueue();
    });
  }

  /** Keep the open conversation's transcript (read only) and say what happened to it. */
  function keep(item) {
    kept = item.id;
    ui.lostBanner.replaceChildren(
      el("strong", "", "No longer yours. "),
      lostWords(item),
      " The transcript stays here until you dismiss it; your unsent reply is kept.",
      " ",
      button("Dismiss", "secondary lost-banner-dismiss", () => dismissLost(item.id)),
    );
    ui.lostBanner.hidden = false;
    ui.reply.readOnly = true;
    ui.send.disabled = true;
    ui.tools.hidden = true;
  }

  /** Erased means erased: nothing of that texter stays on this screen, draft included. */
  function forgetErased(item) {
    deps.forgetDraft(item.id);
    if (deps.openId() === item.id) {
      kept = null;
      ui.lostBanner.hidden = true;
      deps.clearConversation(`${capital(label(item.id))}: ${lostWords(item)}`);
      // Hidden is not gone: the texter's answers and texts leave the page itself.
      for (const node of [ui.answers, ui.reasons, ui.phone, ui.tags, ui.flags, ui.emergency, ui.earlier, ui.timeline]) {
        if (node) node.replaceChildren();
      }
    }
  }

  // -- alerts ------------------------------------------------------------------------------------

  function currentAlerts(mine, lost) {
    const found = new Map(); // key -> { id, kind, words }
    for (const item of mine) {
      for (const kind of item.alerts || []) {
        if (!ALERT_WORDS[kind]) continue;
        const key = `${item.id}:${kind}:${kind === "new_text" ? item.unread : ""}`;
        found.set(key, { id: item.id, kind, words: ALERT_WORDS[kind](label(item.id)) });
      }
    }
    for (const item of lost) {
      found.set(`${item.id}:lost:${item.at}`, { id: item.id, kind: "lost", words: `${capital(label(item.id))}: ${lostWords(item)}` });
    }
    return found;
  }

  function raise(fresh) {
    if (!fresh.length) return;
    const words = fresh.map((alert) => alert.words).join(". ");
    // Cleared first, so the same words said twice are announced twice.
    ui.announcer.textContent = "";
    setTimeout(() => {
      ui.announcer.textContent = words;
    }, 50);
    if (ui.sound.checked) deps.beep();
    if (ui.notify.checked && "Notification" in window && Notification.permission === "granted") {
      for (const alert of fresh) {
        const note = new Notification("Hotline console", { body: alert.words, tag: `hotline-${alert.id}-${alert.kind}` });
        note.onclick = () => {
          window.focus();
          if (alert.kind !== "lost" && alert.kind !== "offer") deps.openConversation(alert.id);
        };
      }
    }
  }

  // -- the queue, collapsed to its first few --------------------------------------------------------

  function renderCollapse(queueLength) {
    const collapsed = storedFlag(COLLAPSE_KEY, false);
    ui.queueList.classList.toggle("collapsed", collapsed);
    ui.queueCollapse.setAttribute("aria-expanded", String(!collapsed));
    ui.queueCollapse.textContent = collapsed ? "Show all" : `Show first ${COLLAPSED_SHOWS}`;
    const more = collapsed ? Math.max(0, queueLength - COLLAPSED_SHOWS) : 0;
    ui.queueMore.hidden = more === 0;
    ui.queueMore.textContent = more ? `and ${more} more waiting` : "";
  }

  let queueLength = 0;
  ui.queueCollapse.addEventListener("click", () => {
    storeFlag(COLLAPSE_KEY, !storedFlag(COLLAPSE_KEY, false));
    renderCollapse(queueLength);
  });

  // -- settings: desktop notifications ---------------------------------------------------------------

  ui.notify.checked = storedFlag(NOTIFY_KEY, false) && "Notification" in window && Notification.permission === "granted";
  ui.notify.addEventListener("change", async () => {
    if (!ui.notify.checked) {
      storeFlag(NOTIFY_KEY, false);
      return;
    }
    if (!("Notification" in window)) {
      ui.notify.checked = false;
      deps.say("This browser cannot show desktop notifications.", "error");
      return;
    }
    // Asked once: the browser remembers the answer, and a refusal is not asked again.
    const permission = Notification.permission === "default" ? await Notification.requestPermission() : Notification.permission;
    if (permission !== "granted") {
      ui.notify.checked = false;
      storeFlag(NOTIFY_KEY, false);
      deps.say("Desktop notifications are blocked for this site in the browser's settings.", "error");
      return;
    }
    storeFlag(NOTIFY_KEY, true);
    deps.say("Desktop notifications on: they never show a texter's words.");
  });

  document.addEventListener("visibilitychange", () => {
    const view = deps.currentView();
    if (document.visibilityState === "visible" && view) shown(view);
  });

  // -- what console.js calls ---------------------------------------------------------------------------

  /** Draw my conversations and those taken from me; raise alerts for what is new. */
  function render(mine, lost, waiting) {
    queueLength = waiting;
    mineCount = mine.filter((item) => (item.alerts || []).length).length + lost.length;
    for (const item of mine) label(item.id);
    mineById = new Map(mine.map((item) => [item.id, item]));
    ui.mineList.replaceChildren(...mine.map(mineRow));
    ui.mineEmpty.hidden = mine.length > 0;

    lostById = new Map(lost.map((item) => [item.id, item]));
    const rows = [];
    for (const item of lost) {
      const key = JSON.stringify(item);
      const known = lostNodes.get(item.id);
      const node = known && known.key === key ? known.node : lostRow(item);
      lostNodes.set(item.id, { key, node });
      rows.push(node);
    }
    for (const id of [...lostNodes.keys()]) if (!lostById.has(id)) lostNodes.delete(id);
    ui.lostList.replaceChildren(...rows);
    ui.lostSection.hidden = lost.length === 0;

    for (const item of lost) {
      if (item.erased) forgetErased(item);
      else if (item.id === deps.openId() && kept !== item.id) keep(item);
    }
    const others = mine.filter((item) => item.id !== deps.openId()).length;
    ui.mineHint.hidden = others === 0;
    ui.mineHint.textContent = others === 1 ? "You hold 1 conversation: open it from “My conversations”." : `You hold ${others} conversations: open one from “My conversations”.`;

    const alerts = currentAlerts(mine, lost);
    if (alertKeys !== null) raise([...alerts].filter(([key]) => !alertKeys.has(key)).map(([, alert]) => alert));
    alertKeys = new Set(alerts.keys());
    renderCollapse(waiting);
  }

  /** A conversation was drawn: if it is mine and the page is seen, its texts are read. */
  function shown(view) {
    if (kept !== null && kept !== view.id) {
      kept = null;
      ui.lostBanner.hidden = true;
      ui.reply.readOnly = false;
    }
    if (!view.mine || document.visibilityState !== "visible") return;
    const newest = Math.max(0, ...(view.timeline || []).filter((entry) => entry.type === "message" && entry.direction === "inbound").map((entry) => Number(entry.id) || 0));
    if (reads.has(view.id) && reads.get(view.id) >= newest) return;
    reads.set(view.id, newest);
    // Only a list that shows something to clear is fetched again: the poll stays light.
    const listed = mineById.get(view.id);
    const marked = !listed || Number(listed.unread) > 0 || (listed.alerts || []).length > 0;
    deps
      .api("POST", `/console/api/conversations/${view.id}/read`, newest ? { through: newest } : {})
      .then(() => (marked ? deps.loadQueue() : null))
      .catch(() => reads.delete(view.id)); // said again at the next view
  }

  /** The open conversation is no longer the caller's: keep it on screen, explained, if it was
   * taken from them; true when handled here (else console.js clears it as before). */
  async function keepLost(id) {
    if (kept === id) return true;
    await deps.loadQueue();
    const item = lostById.get(id);
    if (!item) return false;
    if (item.erased) forgetErased(item);
    else if (kept !== id) keep(item);
    return true;
  }

  /** The tick of the waits shown (once a second). */
  function tick() {
    const now = performance.now();
    for (const node of ui.mineList.querySelectorAll(".reply-wait[data-base]")) {
      node.textContent = `Waiting ${deps.formatWait(Number(node.dataset.base) + (now - Number(node.dataset.at)) / 1000)}`;
    }
  }

  // -- transfer offers to me (transfers.js shows them; they need me before they lapse) ---------------

  const offersSeen = new Set();
  let offerCount = 0;

  /** The offers made to me now: each new one is an alert (no texter words: who offers it). */
  function offers(received) {
    offerCount = received.length;
    const fresh = [];
    for (const offer of received) {
      const id = Number(offer.conversation_id);
      const key = `${id}:${offer.expires_at}`;
      if (offersSeen.has(key)) continue;
      offersSeen.add(key);
      const urgent = offer.priority === "urgent" ? "an urgent texter" : "a texter";
      fresh.push({ id, kind: "offer", words: `${offer.from_advocate} offers you ${urgent}: accept or decline` });
    }
    raise(fresh);
  }

  return { render, shown, keepLost, tick, offers, titleCount: () => mineCount + offerCount };
}
