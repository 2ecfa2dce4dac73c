/* The advocate console: plain JavaScript, no framework, no build step.
 *
 * Security: every string that comes from the API (texters' words above all) reaches the page
 * only through textContent / createTextNode. Nothing here uses innerHTML, insertAdjacentHTML,
 * outerHTML, document.write, eval, or an href built from data. The page's CSP forbids inline
 * scripts and styles, so layout lives in console.css and state shows as classes and `hidden`.
 *
 * Live updates: about once a second the page asks /console/api/poll for version counters and
 * refetches only what changed (the queue, the open conversation). Nothing keeps a connection
 * open between polls. Polls are background requests: only a person's input, which staff.js
 * reports with them, keeps the session from going idle.
 *
 * An ES module (console.html loads it with type="module"): the timeline comes from timeline.js.
 */
import { setUpCaseRecord } from "./case_record.js";
import { askSupervisor, closeConversation, confirmAction, offerReopen } from "./closing.js";
import { setUpPastConversations } from "./past_conversations.js";
import { setUpQuickReplies } from "./quick_replies.js";
import { createMine } from "./mine.js";
import { shortcutsEnabled } from "./shortcuts.js";
import { formatTime, inboundCount, renderTimeline } from "./timeline.js";
import { watchTransfers } from "./transfers.js";

(() => {
  const POLL_MS = 1000;
  // Besides the counters, refetch the lists now and then (the open conversation less often):
  // a counter bump can be missed (the live feed never raises), and a transfer to this
  // advocate bumps no counter their page watches.
  const SAFETY_MS = 5000;
  const SAFETY_CONVERSATION_EVERY = 3;
  const root = document.getElementById("console");
  if (!root) return;
  const { ApiError, el } = window.Staff;
  const maxReply = Number(root.dataset.maxReply) || 1600;
  const baseTitle = document.title;

  const $ = (id) => document.getElementById(id);
  const ui = {
    availability: $("availability"),
    availabilityLabel: $("availability-label"),
    capacity: $("capacity"),
    sound: $("sound"),
    banner: $("urgent-banner"),
    status: $("status"),
    takeNext: $("take-next"),
    awayHint: $("away-hint"),
    queueList: $("queue-list"),
    queueEmpty: $("queue-empty"),
    queueCount: $("queue-count"),
    mineList: $("mine-list"),
    mineEmpty: $("mine-empty"),
    empty: $("conversation-empty"),
    conversation: $("conversation"),
    tools: $("tools"),
    phone: $("conv-phone"),
    revealed: $("conv-revealed"),
    fullNumber: $("conv-full-number"),
    priority: $("conv-priority"),
    language: $("conv-language"),
    returning: $("conv-returning"),
    flags: $("conv-flags"),
    emergency: $("conv-emergency"),
    waitFirst: $("conv-wait-first"),
    reasons: $("conv-reasons"),
    answers: $("conv-answers"),
    tags: $("conv-tags"),
    optOut: $("conv-optout"),
    viewing: $("conv-viewing"),
    timeline: $("timeline"),
    replyForm: $("reply-form"),
    reply: $("reply"),
    segments: $("segments"),
    send: $("send"),
    referralSearch: $("referral-search"),
    referrals: $("referrals"),
    note: $("note"),
    addNote: $("add-note"),
    tag: $("tag"),
    addTag: $("add-tag"),
    transferTo: $("transfer-to"),
    transferNote: $("transfer-note"),
    transfer: $("transfer"),
    disposition: $("disposition"),
    summary: $("summary"),
    close: $("close"),
    askSupervisor: $("ask-supervisor"),
    supervisor: $("supervisor-tools"),
    revealReason: $("reveal-reason"),
    revealNumber: $("reveal-number"),
    eraseReason: $("erase-reason"),
    eraseTexter: $("erase-texter"),
    eraseConfirm: $("erase-confirm"),
    eraseConfirmYes: $("erase-confirm-yes"),
    eraseCancel: $("erase-cancel"),
    signOutForm: document.querySelector("form.sign-out"),
    signOutDialog: $("sign-out-dialog"),
    signOutChoice: $("sign-out-choice"),
    signOutCount: $("sign-out-count"),
    signOutQueue: $("sign-out-queue"),
    signOutTransfer: $("sign-out-transfer"),
    signOutTo: $("sign-out-to"),
    signOutError: $("sign-out-error"),
    signOutConfirm: $("sign-out-confirm"),
    signOutCancel: $("sign-out-cancel"),
  };

  const state = {
    me: null,
    queueVersion: null,
    items: [],
    mine: [],
    lost: [], // conversations taken from this advocate, until dismissed (mine.js)
    fetchedAt: performance.now(),
    queueKey: null,
    queueLoadedAt: 0,
    viewKey: null,
    openId: null,
    openVersion: null,
    view: null,
    mineVersions: new Map(), // conversation id -> last version seen, for "new activity" marks
    updated: new Set(),
    drafts: new Map(), // conversation id -> unsent reply text
    urgentIds: new Set(),
    signedOut: false,
    busy: false,
    // A supervisor's revealed number: { id, number } for the open conversation, in memory only
    // (never in storage or the URL), dropped as soon as another conversation is opened.
    revealed: null,
    eraseFor: null, // the conversation an erasure is waiting to be confirmed for
  };

  // -- building the page: elements and text nodes only --------------------------------------

  /** Children with a space between each, so the text reads (and copies) as words. */
  function spaced(...children) {
    const kept = children.filter((child) => child !== null && child !== undefined && child !== false);
    return kept.flatMap((child, index) => (index ? [" ", child] : [child]));
  }

  /** One term and its value, for a <dl>. */
  function pair(term, value, className = "answer") {
    return el("div", className, el("dt", "", `${term}:`), " ", el("dd", "", value));
  }

  /** ``node`` with the accessible name ``name``: one of several same-looking buttons. */
  function labelled(node, name) {
    node.setAttribute("aria-label", name);
    return node;
  }

  function button(label, className, onClick) {
    const node = el("button", className, label);
    node.type = "button";
    node.addEventListener("click", onClick);
    return node;
  }

  const PRIORITIES = { urgent: "Urgent", high: "High", normal: "Normal" };

  function priorityBadge(priority) {
    const known = Object.hasOwn(PRIORITIES, priority) ? priority : "normal";
    return el("span", `badge priority-${known}`, PRIORITIES[known]);
  }

  function setPriorityBadge(node, priority) {
    const known = Object.hasOwn(PRIORITIES, priority) ? priority : "normal";
    node.className = `badge priority-${known}`;
    node.textContent = PRIORITIES[known];
  }

  const languageName = Staff.languageName;
  const yesNo = (value) => (value === true ? "yes" : value === false ? "no" : "not answered");

  function formatWait(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const pad = (n) => String(n).padStart(2, "0");
    return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
  }

  /** The flags a texter carries, as chips with words: emergency words, a minor, do not text
   * first (they said it is not safe to text). */
  function flagChips(item) {
    return [
      item.emergency_at ? el("span", "chip flag flag-emergency", "Emergency") : null,
      item.minor ? el("span", "chip flag flag-minor", "Minor") : null,
      item.do_not_text_first ? el("span", "chip flag flag-wait", "Do not text first") : null,
      Staff.writesInChip(item),
    ];
  }

  // -- status line ------------------------------------------------------------------------------

  const say = Staff.statusLine(ui.status, 5000);

  // -- the API ---------------------------------------------------------------------------------

  const signedOut = Staff.signedOutGuard(state, say, () =>
    document.querySelectorAll("main button, main textarea, main input, main select"),
  );
  const api = (method, path, body) =>
    Staff.api(method, path, body, {
      unreachable: "The server cannot be reached. Still trying…",
      onUnauthorized: signedOut,
      acceptUnreadable: true,
    });

  /** Run an action, showing its error in the status line; true when it succeeded. */
  const attempt = Staff.attempter(say);

  // "Who needs me now": my conversations, their alerts, and those taken from me (mine.js).
  const mine = createMine({
    ui: {
      ...ui,
      announcer: $("mine-announcer"),
      notify: $("notify"),
      lostSection: $("lost-section"),
      lostList: $("lost-list"),
      lostBanner: $("lost-banner"),
      mineHint: $("mine-hint"),
      queueCollapse: $("queue-collapse"),
      queueMore: $("queue-more"),
      earlier: $("earlier"),
    },
    el, button, spaced, api, attempt, say, priorityBadge, flagChips, formatWait,
    beep: () => beep(),
    openConversation: (id) => openConversation(id, true),
    clearConversation: (message) => clearConversation(message),
    loadQueue: () => loadQueue(),
    openId: () => state.openId,
    currentView: () => (state.view && state.view.id === state.openId ? state.view : null),
    draftOf: (id) => (id === state.openId ? ui.reply.value : state.drafts.get(id) || ""),
    forgetDraft: (id) => {
      state.drafts.delete(id);
      if (id === state.openId) ui.reply.value = "";
    },
  });

  // Quick replies (list, search, "/" picker, language warning) and earlier conversations with
  // the case search: their own modules.
  const quickReplies = setUpQuickReplies({ api, el, attempt, insert: insertIntoReply, reply: ui.reply });
  const past = setUpPastConversations({
    api, el, attempt, formatTime, priorityBadge, openConversation: (id) => openConversation(id, true),
  });
  // The case record (issue 20): optional, from the conversation's head and from closing.
  const caseRecord = setUpCaseRecord({ api, say, openId: () => state.openId });

  // -- who is signed in ------------------------------------------------------------------------

  async function loadMe() {
    state.me = await api("GET", "/console/api/me");
    renderMe();
  }

  const SUPERVISOR_ROLES = new Set(["supervisor", "admin"]);

  function renderMe() {
    const me = state.me;
    if (!me) return;
    // Only a convenience: the API refuses these actions to advocates whatever the page shows.
    ui.supervisor.hidden = !SUPERVISOR_ROLES.has(me.role);
    const available = me.availability === "available";
    ui.availability.disabled = false;
    ui.availability.setAttribute("aria-checked", String(available));
    ui.availability.classList.toggle("on", available);
    ui.availabilityLabel.textContent = available ? "Available" : "Away";
    ui.awayHint.hidden = available;
    renderCapacity();
  }

  function renderCapacity() {
    if (!state.me) return;
    ui.capacity.textContent = `${state.mine.length} of ${state.me.capacity}`;
    ui.capacity.parentElement.classList.toggle("full", state.mine.length >= state.me.capacity);
  }

  ui.availability.addEventListener("click", () =>
    attempt(async () => {
      const wanted = state.me && state.me.availability === "available" ? "away" : "available";
      state.me = await api("POST", "/console/api/availability", { availability: wanted });
      renderMe();
      say(wanted === "available" ? "You are available." : "You are away.");
    }),
  );

  // -- the queue -------------------------------------------------------------------------------

  /** What a list shows, minus the wait times that tick anyway: re-render only when it differs. */
  function queueKey(items, mine) {
    const strip = (list) => list.map((item) => ({ ...item, waiting_seconds: 0, waiting_for_reply_seconds: item.waiting_for_reply_seconds === null ? null : 0 }));
    return JSON.stringify([strip(items), strip(mine), state.lostKey]);
  }

  async function loadQueue() {
    const answer = await api("GET", "/console/api/queue");
    state.queueLoadedAt = performance.now();
    state.queueVersion = answer.version;
    const items = Array.isArray(answer.items) ? answer.items : [];
    const mine = Array.isArray(answer.mine) ? answer.mine : [];
    state.lost = Array.isArray(answer.lost) ? answer.lost : [];
    state.lostKey = JSON.stringify(state.lost);
    const key = queueKey(items, mine);
    if (key === state.queueKey) return; // unchanged: keep focus, hover and ticking waits as they are
    state.queueKey = key;
    state.items = items;
    state.mine = mine;
    state.fetchedAt = performance.now();
    renderQueue();
  }

  function waitCell(seconds) {
    const node = el("span", "wait", `Waiting ${formatWait(seconds)}`);
    node.dataset.base = String(Number(seconds) || 0);
    return node;
  }

  function tickWaits() {
    const elapsed = (performance.now() - state.fetchedAt) / 1000;
    for (const node of document.querySelectorAll(".queue-list .wait")) {
      node.textContent = `Waiting ${formatWait(Number(node.dataset.base) + elapsed)}`;
    }
  }

  function answersLine(item) {
    const list = el("dl", "answers compact");
    const pairs = [
      ["In danger", yesNo(item.in_danger)],
      ["Safe to text", yesNo(item.safe_to_text)],
      ["Location", item.location || "not given"],
    ];
    for (const [term, value] of pairs) {
      list.append(pair(term, value, `answer${value === "yes" && term === "In danger" ? " alarm" : ""}`), " ");
    }
    return list;
  }

  function queueRow(item) {
    const row = el("li", `queue-item priority-${Object.hasOwn(PRIORITIES, item.priority) ? item.priority : "normal"}`);
    row.dataset.id = String(item.id);
    const head = el(
      "div",
      "line",
      ...spaced(
        priorityBadge(item.priority),
        waitCell(item.waiting_seconds),
        el("span", "chip", languageName(item.language)),
        item.returning ? el("span", "chip returning", "Returning") : null,
        item.state === "queue_check_in" ? el("span", "chip", "Asked: still there?") : null,
        ...flagChips(item),
      ),
    );
    row.append(head);
    if (Array.isArray(item.reasons) && item.reasons.length) {
      row.append(el("p", "reasons", "Risk: ", item.reasons.map(String).join(", ")));
    }
    row.append(answersLine(item));
    row.append(el("p", "needs", el("span", "muted", "Needs: "), item.needs ? item.needs : "not given"));
    const claim = button("Claim", "secondary claim", () => claimConversation(item.id));
    claim.dataset.id = String(item.id);
    // Unique among the queue's buttons (WCAG 2.4.6): its place in line says which texter.
    const place = state.items.indexOf(item) + 1;
    claim.setAttribute("aria-label", `Claim texter ${place}, ${(PRIORITIES[item.priority] || "").toLowerCase()} priority`);
    row.append(el("div", "actions", claim));
    return row;
  }

  function renderQueue() {
    // Keep the keyboard where it was across a re-render.
    const focused = document.activeElement;
    const refocus = focused && focused.dataset && focused.dataset.id && (focused.classList.contains("claim") || focused.classList.contains("mine-open"))
      ? `${focused.classList.contains("claim") ? ".claim" : ".mine-open"}[data-id="${focused.dataset.id}"]`
      : null;

    ui.queueList.replaceChildren(...state.items.map(queueRow));
    ui.queueEmpty.hidden = state.items.length > 0;
    ui.queueCount.textContent = state.items.length ? `(${state.items.length})` : "";
    const mineIds = new Set(state.mine.map((item) => item.id));
    for (const id of [...state.mineVersions.keys()]) if (!mineIds.has(id)) state.mineVersions.delete(id);
    for (const id of [...state.updated]) if (!mineIds.has(id)) state.updated.delete(id);
    mine.render(state.mine, state.lost, state.items.length);
    renderCapacity();
    renderUrgent();
    if (refocus) {
      const again = document.querySelector(refocus);
      if (again) again.focus();
    }
  }

  async function takeNext() {
    await attempt(async () => {
      const answer = await api("POST", "/console/api/queue/take-next", {});
      say("You took the next texter.");
      await loadQueue();
      await openConversation(answer.conversation_id, true);
    });
  }

  async function claimConversation(id) {
    await attempt(async () => {
      await api("POST", `/console/api/conversations/${Number(id)}/claim`, {});
      say("Claimed.");
      await loadQueue();
      await openConversation(id, true);
    });
  }

  ui.takeNext.addEventListener("click", takeNext);

  // -- the urgent alert ------------------------------------------------------------------------

  let titleFlash = false;
  let audio = null;

  function renderUrgent() {
    const urgent = state.items.filter((item) => item.priority === "urgent");
    const ids = new Set(urgent.map((item) => item.id));
    const arrived = [...ids].some((id) => !state.urgentIds.has(id));
    state.urgentIds = ids;
    if (urgent.length) {
      const text = urgent.length === 1 ? "1 urgent texter is waiting." : `${urgent.length} urgent texters are waiting.`;
      if (ui.banner.hidden || ui.banner.dataset.count !== String(urgent.length)) {
        ui.banner.replaceChildren(
          el("strong", "", "Urgent: "),
          text,
          " ",
          button("Take next (n)", "banner-take", takeNext),
        );
        ui.banner.dataset.count = String(urgent.length);
      }
      ui.banner.hidden = false;
      if (arrived) beep();
    } else {
      ui.banner.hidden = true;
      ui.banner.replaceChildren();
      delete ui.banner.dataset.count;
    }
    renderTitle();
  }

  function renderTitle() {
    // How many of my conversations need me (mine.js), before everything else.
    const needs = mine.titleCount();
    const title = needs ? `(${needs}) ${baseTitle}` : baseTitle;
    if (!state.urgentIds.size) {
      document.title = title;
      return;
    }
    const count = state.urgentIds.size;
    document.title = titleFlash ? `(URGENT) ${count} waiting · ${title}` : `(URGENT) ${title}`;
  }

  function beep() {
    if (!ui.sound.checked || !audio) return;
    const start = audio.currentTime;
    for (const [offset, frequency] of [[0, 880], [0.25, 660]]) {
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.type = "sine";
      oscillator.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, start + offset);
      gain.gain.exponentialRampToValueAtTime(0.2, start + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.2);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(start + offset);
      oscillator.stop(start + offset + 0.22);
    }
  }

  /** Browsers allow sound only after a gesture on the page: call this from one. */
  function wakeAudio() {
    if (!ui.sound.checked) return;
    const Context = window.AudioContext || window.webkitAudioContext;
    if (Context && !audio) audio = new Context();
    if (audio && audio.state === "suspended") audio.resume();
  }

  document.addEventListener("pointerdown", wakeAudio, { once: true });
  document.addEventListener("keydown", wakeAudio, { once: true });

  ui.sound.addEventListener("change", () => {
    if (ui.sound.checked) {
      wakeAudio();
      beep();
    }
    try {
      localStorage.setItem("hotline.console.sound", ui.sound.checked ? "on" : "off");
    } catch (_) {
      /* storage may be off; the toggle still works for this page */
    }
  });

  // -- the open conversation -------------------------------------------------------------------

  function openIdFromHash() {
    const match = /^#c=(\d{1,12})$/.exec(window.location.hash);
    return match ? Number(match[1]) : null;
  }

  async function openConversation(id, setHash) {
    const target = Number(id);
    if (!Number.isInteger(target) || target <= 0) return;
    if (state.openId !== null && state.openId !== target) state.drafts.set(state.openId, ui.reply.value);
    if (setHash && openIdFromHash() !== target) {
      history.replaceState(null, "", `#c=${target}`);
    }
    const changed = state.openId !== target;
    state.openId = target;
    state.openVersion = null;
    state.updated.delete(target);
    if (changed) {
      ui.reply.value = state.drafts.get(target) || "";
      updateSegments();
      forgetSupervisorState();
      caseRecord.hide();
    }
    await attempt(() => loadConversation(true));
    for (const node of ui.mineList.querySelectorAll(".mine-open")) {
      if (Number(node.dataset.id) === state.openId) node.setAttribute("aria-current", "true");
      else node.removeAttribute("aria-current");
    }
  }

  function clearConversation(message, kind) {
    if (state.openId !== null) state.drafts.delete(state.openId);
    state.openId = null;
    state.openVersion = null;
    state.view = null;
    state.viewKey = null;
    forgetSupervisorState();
    quickReplies.close();
    caseRecord.hide();
    ui.conversation.hidden = true;
    ui.tools.hidden = true;
    ui.empty.hidden = false;
    ui.timeline.replaceChildren();
    ui.reply.value = "";
    updateSegments();
    if (window.location.hash) history.replaceState(null, "", window.location.pathname + window.location.search);
    if (message) say(message, kind);
  }

  async function loadConversation(first) {
    const id = state.openId;
    if (id === null) return;
    let view;
    try {
      view = await api("GET", `/console/api/conversations/${id}`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && state.openId === id) {
        if (!first && (await mine.keepLost(id))) return; // taken from them: kept, explained
        clearConversation(
          first ? "No such conversation, or it is not yours to open." : "That conversation is no longer with you: it was closed, ended or moved.",
          "error",
        );
        await loadQueue().catch(() => {});
        return;
      }
      // Cleared or replaced while this was on its way (an erasure, say): nothing to tell.
      if (error instanceof ApiError && error.status === 404 && state.openId !== id) return;
      throw error;
    }
    if (state.openId !== id) return; // another one was opened meanwhile
    state.openVersion = view.version;
    const key = JSON.stringify({ ...view, version: 0, waiting_seconds: 0 });
    if (!first && key === state.viewKey) return; // nothing new: leave any selection alone
    state.viewKey = key;
    const inboundBefore = state.view && state.view.id === id ? inboundCount(state.view) : null;
    state.view = view;
    renderConversation(view, first);
    // The timeline is rebuilt, not live-announced: say what matters in the status line.
    if (inboundBefore !== null && inboundCount(view) > inboundBefore) say("New text from the texter.");
  }

  function renderConversation(view, first) {
    ui.empty.hidden = true;
    ui.conversation.hidden = false;
    ui.tools.hidden = false;
    ui.phone.textContent = view.phone || "";
    renderRevealed(view);
    setPriorityBadge(ui.priority, view.priority);
    ui.language.textContent = languageName(view.language);
    ui.returning.hidden = !view.returning;
    ui.flags.replaceChildren(...spaced(...flagChips(view)));
    renderEmergency(view);
    ui.waitFirst.hidden = !view.do_not_text_first;
    ui.reasons.replaceChildren();
    if (Array.isArray(view.reasons) && view.reasons.length) {
      ui.reasons.append(el("span", "muted", "Risk: "), view.reasons.map(String).join(", "));
    }
    ui.answers.replaceChildren(
      ...[
        ["In danger", yesNo(view.in_danger)],
        ["Safe to text", yesNo(view.safe_to_text)],
        ["Needs", view.needs || "not given"],
        ["Location", view.location || "not given"],
      ].flatMap(([term, value]) => [pair(term, value), " "]),
    );
    ui.tags.replaceChildren(...(view.tags || []).map((tag) => el("li", "chip tag", tag)));
    if (!(view.tags || []).length) ui.tags.append(el("li", "muted", "none"));
    ui.optOut.hidden = !view.opted_out;
    ui.viewing.hidden = Boolean(view.mine);
    const canAct = Boolean(view.mine);
    ui.reply.disabled = !canAct || Boolean(view.opted_out);
    ui.send.disabled = ui.reply.disabled;
    for (const control of [ui.transferTo, ui.transferNote, ui.transfer, ui.disposition, ui.summary, ui.close, ui.askSupervisor]) {
      control.disabled = !canAct;
    }
    renderTimeline(ui.timeline, view.timeline || [], { first });
    past.renderEarlier(view.earlier || []);
    mine.shown(view);
    caseRecord.shown(view, first);
    if (first) {
      quickReplies.open(view.id, view.language);
      loadAdvocates();
      if (canAct && !ui.reply.disabled) ui.reply.focus();
    }
  }

  /** The emergency banner: shown while the conversation has had emergency words; its text
   * changes (and, being role="alert", is announced) when more come. */
  function renderEmergency(view) {
    if (!view.emergency_at) {
      ui.emergency.hidden = true;
      ui.emergency.replaceChildren();
      delete ui.emergency.dataset.at;
      return;
    }
    const last = view.emergency_last_at || view.emergency_at;
    const stamp = `${view.id}:${last}`;
    if (ui.emergency.dataset.at !== stamp) {
      const [lastAt, firstAt] = [formatTime(last), formatTime(view.emergency_at)];
      const again = lastAt !== firstAt ? ` (first at ${firstAt})` : "";
      ui.emergency.replaceChildren(
        el("strong", "", `Emergency words at ${lastAt}`),
        `${again} — the texter may be in danger now.`,
      );
      const arrived = ui.emergency.dataset.at !== undefined && ui.emergency.dataset.at.startsWith(`${view.id}:`);
      ui.emergency.dataset.at = stamp;
      if (arrived) beep();
    }
    ui.emergency.hidden = false;
  }

  // -- replying --------------------------------------------------------------------------------

  // GSM 03.38: a port of hotline/domain/segments.py; keep the two in step.
  const GSM7_BASIC = new Set(
    Array.from(
      "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
        "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà",
    ),
  );
  const GSM7_EXTENSION = new Set(Array.from("\f^{}\\[~]|€"));

  /** How many SMS segments `text` takes: 160/153 septets (GSM-7) or 70/67 UTF-16 units (UCS-2). */
  function countSegments(text) {
    const chars = Array.from(text); // code points, as Python iterates a str
    let costs;
    let single;
    let multi;
    let encoding;
    if (chars.every((ch) => GSM7_BASIC.has(ch) || GSM7_EXTENSION.has(ch))) {
      costs = chars.map((ch) => (GSM7_EXTENSION.has(ch) ? 2 : 1));
      [single, multi, encoding] = [160, 153, "GSM-7"];
    } else {
      costs = chars.map((ch) => (ch.codePointAt(0) > 0xffff ? 2 : 1));
      [single, multi, encoding] = [70, 67, "UCS-2"];
    }
    const units = costs.reduce((a, b) => a + b, 0);
    let segments;
    if (units === 0) segments = 0;
    else if (units <= single) segments = 1;
    else {
      segments = 1;
      let free = multi;
      for (const cost of costs) {
        if (cost > free) {
          segments += 1;
          free = multi;
        }
        free -= cost;
      }
    }
    return { encoding, units, segments };
  }

  function updateSegments() {
    const text = ui.reply.value.trim(); // the server sends it trimmed
    const count = countSegments(text);
    const perPart = count.encoding === "GSM-7" ? (count.segments > 1 ? 153 : 160) : count.segments > 1 ? 67 : 70;
    const parts = [`${count.segments} ${count.segments === 1 ? "segment" : "segments"}`];
    if (count.units) parts.push(`${count.units} ${count.encoding === "GSM-7" ? "characters" : "units"} (${count.encoding}, ${perPart} per segment)`);
    if (count.encoding === "UCS-2" && count.units) parts.push("special characters make segments shorter");
    const tooLong = Array.from(text).length > maxReply;
    if (tooLong) parts.push(`too long: at most ${maxReply} characters`);
    ui.segments.textContent = parts.join(" · ");
    ui.segments.classList.toggle("costly", count.segments > 2 || count.encoding === "UCS-2");
    ui.segments.classList.toggle("error", tooLong);
  }

  ui.reply.addEventListener("input", updateSegments);
  ui.reply.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      sendReply();
    }
  });
  ui.replyForm.addEventListener("submit", (event) => {
    event.preventDefault();
    sendReply();
  });

  async function sendReply() {
    const id = state.openId;
    const text = ui.reply.value.trim();
    if (id === null || state.busy) return;
    if (!text) {
      say("Write a reply first.", "error");
      ui.reply.focus();
      return;
    }
    state.busy = true;
    ui.send.disabled = true;
    const sent = await attempt(async () => {
      await api("POST", `/console/api/conversations/${id}/reply`, { body: text });
      if (state.openId === id) ui.reply.value = "";
      state.drafts.delete(id);
      updateSegments();
      say("Reply sent.");
      await loadConversation(false);
    });
    state.busy = false;
    ui.send.disabled = ui.reply.disabled;
    if (sent) ui.reply.focus();
  }

  function insertIntoReply(text) {
    if (ui.reply.disabled) {
      say("You cannot reply in this conversation.", "error");
      return;
    }
    const box = ui.reply;
    const start = box.selectionStart ?? box.value.length;
    const end = box.selectionEnd ?? start;
    const before = box.value.slice(0, start);
    const spaced = before && !/\s$/.test(before) ? ` ${text}` : text;
    box.setRangeText(spaced, start, end, "end");
    box.focus();
    updateSegments();
  }

  // -- tools: quick replies, referrals, notes, tags, transfer, close --------------------------

  let referralTimer = null;
  let referralAsked = 0;

  async function searchReferrals() {
    const query = ui.referralSearch.value.trim();
    const asked = ++referralAsked;
    if (!query) {
      ui.referrals.replaceChildren();
      return;
    }
    await attempt(async () => {
      const answer = await api("GET", `/console/api/referrals?q=${encodeURIComponent(query)}`);
      if (asked !== referralAsked) return; // a newer search is on its way
      const items = answer.items || [];
      ui.referrals.replaceChildren(
        ...items.map((item) =>
          el(
            "li",
            "referral",
            el("strong", "", item.name),
            el("span", "muted", ` · ${item.area}`),
            el("div", "", item.services),
            el("div", "muted", `${item.phone} · ${item.hours} · ${item.language}`),
            labelled(button("Insert", "secondary insert-referral", () => insertIntoReply(item.text)), `Insert ${item.name}`),
          ),
        ),
      );
      if (!items.length) ui.referrals.append(el("li", "empty", "No referrals match."));
    });
  }

  ui.referralSearch.addEventListener("input", () => {
    clearTimeout(referralTimer);
    referralTimer = setTimeout(searchReferrals, 250);
  });
  ui.referralSearch.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      clearTimeout(referralTimer);
      searchReferrals();
    }
  });

  /** Run an action on the open conversation with `control` disabled meanwhile; true if it worked. */
  async function act(control, action) {
    if (state.openId === null || control.disabled) return false;
    control.disabled = true;
    try {
      return await attempt(action);
    } finally {
      control.disabled = false;
    }
  }

  ui.addNote.addEventListener("click", () =>
    act(ui.addNote, async () => {
      const id = state.openId;
      await api("POST", `/console/api/conversations/${id}/notes`, { body: ui.note.value });
      ui.note.value = "";
      say("Note added.");
      await loadConversation(false);
    }),
  );

  async function addTag() {
    await act(ui.addTag, async () => {
      const id = state.openId;
      await api("POST", `/console/api/conversations/${id}/tags`, { tag: ui.tag.value });
      ui.tag.value = "";
      say("Tag added.");
      await loadConversation(false);
    });
  }

  ui.addTag.addEventListener("click", addTag);

  /** Suggest the supervisors' tag list (only those tags are accepted); refreshed on focus. */
  async function loadTags() {
    const answer = await api("GET", "/console/api/tags");
    const options = document.getElementById("tag-options");
    if (options) options.replaceChildren(...(answer.items || []).map((name) => new Option(name, name)));
  }

  ui.tag.addEventListener("focus", () => attempt(loadTags));
  ui.tag.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      addTag();
    }
  });

  async function loadAdvocates() {
    await attempt(async () => {
      const answer = await api("GET", "/console/api/advocates");
      const chosen = ui.transferTo.value;
      const options = [new Option("Choose who takes over…", ""), new Option("Back to the queue", "queue")];
      for (const advocate of answer.items || []) {
        // At capacity: listed, so the advocate sees why they cannot choose them, but disabled.
        const option = new Option(`${advocate.name} (${advocate.full ? "full" : `${advocate.active_count} active`})`, String(advocate.id));
        option.disabled = Boolean(advocate.full);
        options.push(option);
      }
      ui.transferTo.replaceChildren(...options);
      if ([...ui.transferTo.options].some((option) => option.value === chosen)) ui.transferTo.value = chosen;
    });
  }

  ui.transfer.addEventListener("click", () =>
    act(ui.transfer, async () => {
      const choice = ui.transferTo.value;
      if (!choice) {
        ui.transferTo.setAttribute("aria-invalid", "true");
        ui.transferTo.focus();
        say("Choose an advocate, or the queue, to transfer to.", "error");
        return;
      }
      ui.transferTo.removeAttribute("aria-invalid");
      const target = choice === "queue" ? null : Number(choice);
      const label = ui.transferTo.selectedOptions[0] ? ui.transferTo.selectedOptions[0].textContent : "";
      const sure = await (target === null
        ? confirmAction("Return to the queue?", "The texter goes back to the queue, keeping their place, for the next advocate.", "Yes, return to the queue")
        : confirmAction("Transfer this conversation?", `${label.replace(/ \(.*\)$/, "")} is offered it with your handover note; it stays with you until they accept.`, "Yes, transfer"));
      if (!sure) return;
      await api("POST", `/console/api/conversations/${state.openId}/transfer`, { to_advocate_id: target, note: ui.transferNote.value });
      ui.transferNote.value = "";
      ui.transferTo.value = "";
      if (target === null) {
        clearConversation("Returned to the queue.");
      } else {
        // A warm transfer: offered; the texter stays with us until the colleague accepts.
        say(`Offered to ${label.replace(/ \(\d+ active\)$/, "")}: they see your note and accept. Until then the texter is still yours.`);
        await transferWatch.look();
      }
      await loadQueue();
    }),
  );

  async function loadDispositions() {
    const answer = await api("GET", "/console/api/dispositions");
    const options = [new Option("Choose a disposition…", "")];
    for (const item of answer.items || []) options.push(new Option(item.label, item.code));
    ui.disposition.replaceChildren(...options);
  }

  ui.disposition.addEventListener("change", () => ui.disposition.removeAttribute("aria-invalid"));

  ui.close.addEventListener("click", () =>
    act(ui.close, async () => {
      const disposition = ui.disposition.value;
      if (!disposition) {
        ui.disposition.setAttribute("aria-invalid", "true");
        ui.disposition.focus();
        say("Choose a disposition before closing.", "error");
        return;
      }
      const id = state.openId;
      const closed = await closeConversation(api, id, { disposition, summary: ui.summary.value }, {
        caseRecord: (opener) => caseRecord.open(opener),
      });
      if (!closed) return; // kept open: the advocate had a second look
      ui.summary.value = "";
      ui.disposition.value = "";
      clearConversation("Conversation closed.");
      const reopen = async (again) => {
        await loadQueue();
        await openConversation(again, true);
      };
      offerReopen({
        anchor: ui.status, id, until: closed.reopen_until, api, say, reopen,
        caseRecord: (opener) => caseRecord.open(opener, id),
      });
      await loadQueue();
    }),
  );

  const transferWatch = watchTransfers({
    anchor: ui.status,
    api,
    say,
    opened: async (id) => {
      await loadQueue();
      await openConversation(id, true);
    },
    offered: (received) => {
      mine.offers(received);
      renderTitle();
    },
  });

  ui.askSupervisor.addEventListener("click", () => {
    if (state.openId !== null) askSupervisor({ api, id: state.openId, say });
  });

  // -- supervisor: reveal the full number, erase the texter --------------------------------------

  function renderRevealed(view) {
    const revealed = state.revealed;
    if (revealed && (revealed.id !== view.id || view.phone === "(erased)")) state.revealed = null;
    const shown = state.revealed !== null;
    ui.fullNumber.textContent = shown ? state.revealed.number : "";
    ui.revealed.hidden = !shown;
    // An erased number cannot be revealed: the server would only refuse.
    ui.revealNumber.disabled = view.phone === "(erased)" || state.signedOut;
  }

  function dropRevealed() {
    state.revealed = null;
    ui.fullNumber.textContent = "";
    ui.revealed.hidden = true;
  }

  function forgetSupervisorState() {
    dropRevealed();
    ui.revealReason.value = "";
    ui.revealReason.removeAttribute("aria-invalid");
    ui.eraseReason.value = "";
    ui.eraseReason.removeAttribute("aria-invalid");
    hideEraseConfirm();
  }

  /** Mark `field` invalid when the server refused what was asked (409), then pass the error on. */
  function flagRefusal(field, error) {
    if (error instanceof ApiError && error.status === 409) {
      field.setAttribute("aria-invalid", "true");
      field.focus();
    }
    throw error;
  }

  ui.revealReason.addEventListener("input", () => ui.revealReason.removeAttribute("aria-invalid"));
  ui.eraseReason.addEventListener("input", () => ui.eraseReason.removeAttribute("aria-invalid"));

  ui.revealNumber.addEventListener("click", () =>
    act(ui.revealNumber, async () => {
      const id = state.openId;
      const answer = await api("POST", `/console/api/conversations/${id}/reveal-number`, { reason: ui.revealReason.value }).catch(
        (error) => flagRefusal(ui.revealReason, error),
      );
      if (state.openId !== id || !answer || typeof answer.number !== "string") return;
      state.revealed = { id, number: answer.number };
      ui.revealReason.value = "";
      ui.revealReason.removeAttribute("aria-invalid");
      if (state.view && state.view.id === id) renderRevealed(state.view);
      say("Number revealed for this view. The reveal is recorded in the event log.");
    }),
  );

  function showEraseConfirm() {
    state.eraseFor = state.openId;
    ui.eraseReason.readOnly = true; // what is confirmed is what is sent
    ui.eraseTexter.disabled = true;
    ui.eraseConfirm.hidden = false;
    ui.eraseConfirm.scrollIntoView({ block: "nearest" });
    ui.eraseCancel.focus();
  }

  function hideEraseConfirm() {
    state.eraseFor = null;
    ui.eraseReason.readOnly = false;
    ui.eraseTexter.disabled = state.signedOut;
    ui.eraseConfirm.hidden = true;
  }

  ui.eraseTexter.addEventListener("click", () => {
    if (state.openId === null) return;
    if (!ui.eraseReason.value.trim()) {
      ui.eraseReason.setAttribute("aria-invalid", "true");
      ui.eraseReason.focus();
      say("State why this texter is erased first.", "error");
      return;
    }
    ui.eraseReason.removeAttribute("aria-invalid");
    showEraseConfirm();
  });

  ui.eraseCancel.addEventListener("click", () => {
    hideEraseConfirm();
    ui.eraseTexter.focus();
    say("Nothing was erased.");
  });

  ui.eraseConfirmYes.addEventListener("click", async () => {
    const id = state.eraseFor;
    if (id === null || id !== state.openId) {
      hideEraseConfirm();
      return;
    }
    const erased = await act(ui.eraseConfirmYes, async () => {
      await api("POST", `/console/api/conversations/${id}/erase-texter`, { reason: ui.eraseReason.value }).catch((error) => {
        hideEraseConfirm();
        flagRefusal(ui.eraseReason, error);
      });
      hideEraseConfirm();
      ui.eraseReason.value = "";
      dropRevealed();
      // Nothing about this texter stays in the page either: no unsent draft to them.
      state.drafts.delete(id);
      if (state.openId === id) {
        ui.reply.value = "";
        updateSegments();
      }
      say("Texter erased. The erasure is recorded in the event log.");
    });
    if (erased && state.openId === id) {
      await attempt(() => Promise.all([loadConversation(false), loadQueue()]));
    }
  });

  // -- signing out: nobody is left holding texters --------------------------------------------------

  /* Signing out while holding conversations first asks who answers them: back to the queue
   * (each texter keeps their place) or one connected colleague. The server hands them back by
   * itself when nobody chose (the plain form, a page whose script failed), so a texter is
   * never left with someone who has gone. */

  function signOutShowError(message) {
    ui.signOutError.textContent = message;
    ui.signOutError.hidden = !message;
  }

  function renderSignOutTarget() {
    const transfer = ui.signOutTransfer.checked;
    ui.signOutTo.disabled = !transfer;
    if (!transfer) ui.signOutTo.removeAttribute("aria-invalid");
  }

  async function loadSignOutColleagues() {
    const answer = await api("GET", "/console/api/advocates");
    const colleagues = (answer && answer.items) || [];
    const options = [new Option("Choose who takes over…", "")];
    for (const advocate of colleagues) {
      options.push(new Option(`${advocate.name} (${advocate.active_count} active)`, String(advocate.id)));
    }
    if (!colleagues.length) {
      const none = new Option("Nobody else is connected and available", "");
      none.disabled = true;
      options.push(none);
    }
    ui.signOutTo.replaceChildren(...options);
    ui.signOutTransfer.disabled = colleagues.length === 0;
    if (ui.signOutTransfer.disabled) ui.signOutQueue.checked = true;
    renderSignOutTarget();
  }

  async function openSignOutDialog() {
    const held = state.mine.length;
    ui.signOutCount.textContent = `You hold ${held} ${held === 1 ? "conversation" : "conversations"}. Once you sign out nobody can answer ${held === 1 ? "it" : "them"} from your console.`;
    ui.signOutQueue.checked = true;
    signOutShowError("");
    renderSignOutTarget();
    if (!ui.signOutDialog.open) ui.signOutDialog.showModal();
    ui.signOutQueue.focus();
    await attempt(loadSignOutColleagues);
  }

  ui.signOutForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    // What the server says now, not what the page last saw: a transfer may have just arrived.
    const fresh = await attempt(loadQueue);
    if (state.signedOut) return;
    if (fresh && state.mine.length === 0) {
      state.signedOut = true; // stop polling: the form's answer takes the page to sign-in
      ui.signOutForm.submit();
      return;
    }
    if (!fresh) {
      // The server could not be asked: the plain form still hands any texters back.
      ui.signOutForm.submit();
      return;
    }
    await openSignOutDialog();
  });

  ui.signOutQueue.addEventListener("change", renderSignOutTarget);
  ui.signOutTransfer.addEventListener("change", renderSignOutTarget);
  ui.signOutTo.addEventListener("change", () => {
    ui.signOutTo.removeAttribute("aria-invalid");
    signOutShowError("");
  });

  ui.signOutCancel.addEventListener("click", () => {
    ui.signOutDialog.close();
    say("You are still signed in.");
  });

  ui.signOutChoice.addEventListener("submit", async (event) => {
    event.preventDefault();
    const transfer = ui.signOutTransfer.checked;
    const body = { conversations: transfer ? "transfer" : "queue" };
    if (transfer) {
      if (!ui.signOutTo.value) {
        ui.signOutTo.setAttribute("aria-invalid", "true");
        ui.signOutTo.focus();
        signOutShowError("Choose who takes them over, or hand them back to the queue.");
        return;
      }
      body.to_advocate_id = Number(ui.signOutTo.value);
    }
    ui.signOutConfirm.disabled = true;
    try {
      await api("POST", "/console/api/sign-out", body);
      state.signedOut = true;
      ui.signOutDialog.close();
      window.location.assign("/login");
    } catch (error) {
      if (error instanceof ApiError) {
        signOutShowError(error.message);
        if (transfer) await attempt(loadSignOutColleagues);
      } else {
        signOutShowError("Something went wrong in the page. Reload it if this keeps happening.");
        console.error(error);
      }
    } finally {
      ui.signOutConfirm.disabled = false;
    }
  });

  // -- keyboard ----------------------------------------------------------------------------------

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    if (document.querySelector("dialog[open]")) return; // a dialog has the keyboard
    const target = event.target;
    const typing = target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
    if (typing) {
      if (event.key === "Escape") target.blur();
      return;
    }
    if (!shortcutsEnabled()) return; // switched off in the account menu (WCAG 2.1.4)
    if (event.key === "n") {
      event.preventDefault();
      takeNext();
    } else if (event.key === "r" && !ui.reply.disabled && !ui.conversation.hidden) {
      event.preventDefault();
      ui.reply.focus();
    }
  });

  window.addEventListener("hashchange", () => {
    const id = openIdFromHash();
    if (id !== null && id !== state.openId) openConversation(id, false);
  });

  // -- live updates ------------------------------------------------------------------------------

  function watched() {
    const ids = [];
    if (state.openId !== null) ids.push(state.openId);
    for (const item of state.mine) if (!ids.includes(item.id)) ids.push(item.id);
    return ids.slice(0, 20);
  }

  let failures = 0;

  async function poll() {
    if (state.signedOut) return;
    try {
      const ids = watched();
      const answer = await api("GET", `/console/api/poll?conversations=${ids.join(",")}`);
      if (failures) say("Connected again.");
      failures = 0;
      if (state.me && answer.availability && answer.availability !== state.me.availability) {
        // Set away by the hotline: this console was out of touch for too long (asleep, offline).
        const wasAvailable = state.me.availability === "available";
        state.me.availability = answer.availability;
        renderMe();
        if (wasAvailable && answer.availability === "away") {
          say("You are set to away now. If this console was out of touch for a while, your texters went back to the queue. Set yourself available to take texters again.", "error");
        }
      }
      const work = [];
      let queueAsked = answer.queue !== state.queueVersion;
      if (queueAsked) work.push(loadQueue());
      const versions = answer.conversations || {};
      for (const id of ids) {
        const version = versions[String(id)];
        if (version === undefined) {
          // Left out: no longer one this person may see (moved, closed). Look once, to say so.
          if (id === state.openId && state.openVersion !== null) {
            state.openVersion = null;
            work.push(loadConversation(false));
          }
          continue;
        }
        if (id === state.openId) {
          if (state.openVersion !== null && version !== state.openVersion) work.push(loadConversation(false));
          state.mineVersions.set(id, version);
        } else {
          const seen = state.mineVersions.get(id);
          // Something happened in one of mine (or it is new to this page, and something may
          // have happened before its first counter): unread counts and alerts come with the queue.
          if (seen !== version && !queueAsked) {
            queueAsked = true;
            work.push(loadQueue());
          }
          state.mineVersions.set(id, version);
        }
      }
      await Promise.all(work);
    } catch (error) {
      failures += 1;
      if (error instanceof ApiError && error.status !== 401 && failures === 3) say(error.message || "Live updates are failing; still trying…", "error");
    } finally {
      if (!state.signedOut) setTimeout(poll, POLL_MS);
    }
  }

  let safetyTicks = 0;

  async function safetyRefresh() {
    if (state.signedOut) return;
    safetyTicks += 1;
    await attempt(async () => {
      if (performance.now() - state.queueLoadedAt > SAFETY_MS / 2) await loadQueue();
      if (state.openId !== null && safetyTicks % SAFETY_CONVERSATION_EVERY === 0) {
        await loadConversation(false);
        // Who is available changes too; never rebuild the list under an open dropdown.
        if (document.activeElement !== ui.transferTo) await loadAdvocates();
      }
    });
    if (!state.signedOut) setTimeout(safetyRefresh, SAFETY_MS);
  }

  setInterval(() => {
    tickWaits();
    mine.tick();
    titleFlash = !titleFlash;
    renderTitle();
  }, 1000);

  // -- start -------------------------------------------------------------------------------------

  async function start() {
    try {
      ui.sound.checked = localStorage.getItem("hotline.console.sound") !== "off"; // on by default
    } catch (_) {
      ui.sound.checked = true;
    }
    ui.reply.setAttribute("maxlength", String(maxReply));
    updateSegments();
    const loaded = await attempt(() => Promise.all([loadMe(), loadQueue(), loadDispositions(), loadTags()]));
    const id = openIdFromHash();
    if (loaded && id !== null) await openConversation(id, false);
    setTimeout(poll, POLL_MS);
    setTimeout(safetyRefresh, SAFETY_MS);
  }

  start();
})();
