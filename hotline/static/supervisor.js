/* The supervisor's pages: the live board, logs and export, metrics, the audit trail.
 * Plain JavaScript, no framework, no chart library, no build step.
 *
 * Security: every string that comes from the API (texters' words above all) reaches the page
 * only through textContent / createTextNode (and SVG text nodes). Nothing here uses innerHTML,
 * insertAdjacentHTML, outerHTML, document.write or eval, and the only hrefs built are from a
 * conversation's integer id or a same-origin blob of an export. The CSP forbids inline scripts
 * and styles, so layout lives in supervisor.css and state shows as classes and `hidden`.
 *
 * Live updates: about once a second the page asks /console/api/poll for version counters (the
 * queue, and the conversation being watched) and refetches what changed; every 5 seconds it
 * refetches the board and the watched conversation anyway, since a counter bump can be missed.
 *
 * An ES module (supervisor.html loads it with type="module"): the timeline comes from timeline.js.
 */
import { helpRequestParts } from "./help_requests.js";
import { formatTime, inboundCount, renderTimeline } from "./timeline.js";
import { heldRiskNodes, heldTickBases, stillHeld, waitingRiskNodes } from "./board_risk.js";

(() => {
  const POLL_MS = 1000;
  const SAFETY_MS = 5000;
  const LONG_WAIT = 300; // seconds: a wait, or a silence, shown as long
  const SVG_NS = "http://www.w3.org/2000/svg";
  const root = document.getElementById("supervisor");
  if (!root) return;
  const { ApiError, el } = window.Staff;
  const baseTitle = document.title;
  const VIEWS = ["board", "logs", "metrics", "audit"];

  const $ = (id) => document.getElementById(id);
  const ui = {
    status: $("status"),
    tabUrgent: $("tab-urgent"),
    // board
    tileUrgent: $("tile-urgent"),
    urgentWaiting: $("urgent-waiting"),
    waitingTotal: $("waiting-total"),
    waitingSplit: $("waiting-split"),
    tileLongest: $("tile-longest"),
    longestWait: $("longest-wait"),
    availableCount: $("available-count"),
    activeCount: $("active-count"),
    todayOpened: $("today-opened"),
    todayNote: $("today-note"),
    waitingList: $("waiting-list"),
    waitingEmpty: $("waiting-empty"),
    waitingCount: $("waiting-count"),
    advocateList: $("advocate-list"),
    advocatesEmpty: $("advocates-empty"),
    boardUpdated: $("board-updated"),
    tileAlerts: $("tile-alerts"),
    alertsOpen: $("alerts-open"),
    alertsCount: $("alerts-count"),
    alertList: $("alert-list"),
    alertsEmpty: $("alerts-empty"),
    // logs
    logFilters: $("log-filters"),
    logClear: $("log-clear"),
    logRows: $("log-rows"),
    logEmpty: $("log-empty"),
    logMore: $("log-more"),
    logCount: $("log-count"),
    dispositionSelect: $("disposition-select"),
    exportCsv: $("export-csv"),
    exportJson: $("export-json"),
    includeText: $("include-text"),
    exportReasonField: $("export-reason-field"),
    exportReason: $("export-reason"),
    exportWarning: $("export-warning"),
    // metrics
    metricRange: $("metric-range"),
    metricFrom: $("metric-from"),
    metricTo: $("metric-to"),
    metricTiles: $("metric-tiles"),
    charts: $("charts"),
    perAdvocate: $("per-advocate"),
    perAdvocateEmpty: $("per-advocate-empty"),
    // audit
    auditFilters: $("audit-filters"),
    auditClear: $("audit-clear"),
    auditRows: $("audit-rows"),
    auditEmpty: $("audit-empty"),
    auditMore: $("audit-more"),
    auditCount: $("audit-count"),
    // the viewer
    viewer: $("viewer"),
    viewerId: $("viewer-id"),
    viewerPriority: $("viewer-priority"),
    viewerState: $("viewer-state"),
    viewerLive: $("viewer-live"),
    viewerClose: $("viewer-close"),
    viewerFacts: $("viewer-facts"),
    viewerReasons: $("viewer-reasons"),
    viewerOptOut: $("viewer-optout"),
    timeline: $("viewer-timeline"),
    stepIn: $("step-in"),
    noteBody: $("note-body"),
    sendNote: $("send-note"),
    reassignTo: $("reassign-to"),
    reassign: $("reassign"),
    takeOver: $("take-over"),
    takeOverConfirm: $("take-over-confirm"),
    takeOverYes: $("take-over-yes"),
    takeOverCancel: $("take-over-cancel"),
    takenOver: $("taken-over"),
    openInConsole: $("open-in-console"),
  };

  const state = {
    view: "board",
    signedOut: false,
    queueVersion: null,
    board: null,
    boardKey: null,
    boardFetchedAt: performance.now(),
    alerts: null, // from /supervisor/api/alerts: { items, count }
    alertsKey: null,
    staff: [], // from /supervisor/api/staff
    staffById: new Map(),
    // the conversation in the viewer
    openId: null,
    openVersion: null,
    openView: null,
    openKey: null,
    // logs and audit: the query shown, and where the next page starts
    logQuery: null,
    logBefore: null,
    logShown: 0,
    auditQuery: null,
    auditBefore: null,
    auditShown: 0,
    loaded: new Set(), // views loaded at least once
  };

  // -- building the page: elements and text nodes only ---------------------------------------

  /** An SVG element with attributes; `text` (if any) becomes a text node. */
  function svgEl(tag, attributes = {}, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (value !== null && value !== undefined) node.setAttribute(name, String(value));
    }
    if (text !== undefined && text !== null) node.append(document.createTextNode(String(text)));
    return node;
  }

  function spaced(...children) {
    const kept = children.filter((child) => child !== null && child !== undefined && child !== false);
    return kept.flatMap((child, index) => (index ? [" ", child] : [child]));
  }

  function button(label, className, onClick) {
    const node = el("button", className, label);
    node.type = "button";
    node.addEventListener("click", onClick);
    return node;
  }

  const PRIORITIES = { urgent: "Urgent", high: "High", normal: "Normal" };
  const knownPriority = (priority) => (Object.hasOwn(PRIORITIES, priority) ? priority : "normal");

  function priorityBadge(priority) {
    const known = knownPriority(priority);
    return el("span", `badge priority-${known}`, PRIORITIES[known]);
  }

  const languageName = Staff.languageName;
  const yesNo = (value) => (value === true ? "yes" : value === false ? "no" : "not answered");
  const STATES = {
    new: "new",
    await_danger: "triage: in danger?",
    await_safety: "triage: safe to text?",
    await_needs: "triage: needs",
    await_location: "triage: location",
    queued: "waiting",
    queue_check_in: "waiting (asked: still there?)",
    with_advocate: "with an advocate",
    survey: "survey",
    ended: "ended",
  };
  const stateName = (value) => STATES[value] || String(value || "");

  function formatClock(seconds) {
    const s = Math.max(0, Math.floor(Number(seconds) || 0));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const pad = (n) => String(n).padStart(2, "0");
    return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
  }

  /** A duration in words a glance can read: "45 s", "3 min 20 s", "2 h 5 min"; "–" if none. */
  function formatDuration(seconds) {
    if (seconds === null || seconds === undefined || Number.isNaN(Number(seconds))) return "–";
    const s = Math.max(0, Math.round(Number(seconds)));
    if (s < 60) return `${s} s`;
    if (s < 3600) return s % 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s / 60} min`;
    const m = Math.round(s / 60);
    return m % 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m / 60} h`;
  }

  function formatWhen(iso) {
    const when = new Date(iso);
    if (Number.isNaN(when.getTime())) return "";
    return `${when.toLocaleDateString()} ${when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })}`;
  }

  /** "2026-11-23" → "2026-11-24": the form's "to" dates are inclusive, the API's exclusive. */
  function nextDay(date) {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
    if (!match) return date;
    const next = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + 1));
    return next.toISOString().slice(0, 10);
  }

  function daysBefore(date, days) {
    const [y, m, d] = date.split("-").map(Number);
    return new Date(Date.UTC(y, m - 1, d - days)).toISOString().slice(0, 10);
  }

  const todayUtc = () => new Date().toISOString().slice(0, 10);

  // -- status line -----------------------------------------------------------------------------

  const say = Staff.statusLine(ui.status, 6000);

  // -- the API ----------------------------------------------------------------------------------

  const UNREACHABLE = "The server cannot be reached. Still trying…";
  const signedOut = Staff.signedOutGuard(state, say, () => root.querySelectorAll("button, textarea, input, select"));
  const request = (method, path, body) => Staff.request(method, path, body, UNREACHABLE);
  const failure = (response) => Staff.failure(response, signedOut);
  const api = (method, path, body) => Staff.api(method, path, body, { unreachable: UNREACHABLE, onUnauthorized: signedOut });

  /** Run an action, showing its error in the status line; true when it succeeded. */
  const attempt = Staff.attempter(say);

  /** Run `action` with `control` disabled meanwhile; true if it worked. */
  async function act(control, action) {
    if (control.disabled) return false;
    control.disabled = true;
    try {
      return await attempt(action);
    } finally {
      control.disabled = state.signedOut;
    }
  }

  // -- tabs ---------------------------------------------------------------------------------------

  const tabs = VIEWS.map((view) => $(`tab-${view}`));

  function viewFromHash() {
    const name = window.location.hash.replace(/^#/, "");
    return VIEWS.includes(name) ? name : null;
  }

  function show(view, setHash) {
    if (!VIEWS.includes(view)) view = "board";
    state.view = view;
    for (const tab of tabs) {
      const selected = tab.dataset.view === view;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
      $(tab.dataset.view).hidden = !selected;
    }
    if (setHash && window.location.hash !== `#${view}`) history.replaceState(null, "", `#${view}`);
    if (!ui.status.classList.contains("error")) say.clear();
    const first = !state.loaded.has(view);
    state.loaded.add(view);
    if (view === "board") attempt(() => Promise.all([loadBoard(), loadAlerts()]));
    else if (first && view === "logs") searchLogs();
    else if (first && view === "metrics") showMetrics();
    else if (first && view === "audit") searchAudit();
  }

  for (const tab of tabs) {
    tab.addEventListener("click", () => show(tab.dataset.view, true));
    tab.addEventListener("keydown", (event) => {
      const index = tabs.indexOf(tab);
      let next = null;
      if (event.key === "ArrowRight") next = tabs[(index + 1) % tabs.length];
      else if (event.key === "ArrowLeft") next = tabs[(index + tabs.length - 1) % tabs.length];
      else if (event.key === "Home") next = tabs[0];
      else if (event.key === "End") next = tabs[tabs.length - 1];
      if (next) {
        event.preventDefault();
        next.focus();
        show(next.dataset.view, true);
      }
    });
  }

  window.addEventListener("hashchange", () => {
    const view = viewFromHash();
    if (view && view !== state.view) show(view, false);
  });

  // -- staff and dispositions (for selects) ---------------------------------------------------------

  // Staff by name (the audit trail and timelines show names since issue 18); the email is the
  // account's, kept for the selects' titles.
  const emailOf = (id) => (state.staffById.has(id) ? state.staffById.get(id).name || state.staffById.get(id).email : id ? `staff #${id}` : "");

  async function loadStaff() {
    const answer = await api("GET", "/supervisor/api/staff");
    state.staff = Array.isArray(answer.items) ? answer.items : [];
    state.staffById = new Map(state.staff.map((user) => [user.id, user]));
    for (const select of document.querySelectorAll(".staff-select")) {
      const chosen = select.value;
      const options = [new Option("Anyone", "")];
      for (const user of state.staff) {
        options.push(new Option(`${user.email}${user.role === "advocate" ? "" : ` (${user.role})`}${user.active ? "" : " – inactive"}`, String(user.id)));
      }
      select.replaceChildren(...options);
      if ([...select.options].some((option) => option.value === chosen)) select.value = chosen;
    }
    renderReassignOptions();
  }

  async function loadDispositions() {
    const answer = await api("GET", "/console/api/dispositions");
    const options = [new Option("Any", "")];
    for (const item of answer.items || []) options.push(new Option(item.label, item.code));
    ui.dispositionSelect.replaceChildren(...options);
    state.dispositionLabels = new Map((answer.items || []).map((item) => [item.code, item.label]));
  }

  // -- 1. the live board --------------------------------------------------------------------------

  /** The board minus the seconds that tick anyway: re-render only when this differs. */
  function boardKey(board) {
    return JSON.stringify({
      ...board,
      longest_wait_seconds: 0,
      waiting: (board.waiting || []).map((w) => ({ ...w, waiting_seconds: 0 })),
      advocates: (board.advocates || []).map((a) => ({
        ...a,
        seen_seconds: 0, // only its title moves; "connected" says when it matters
        active: (a.active || []).map((c) => ({ ...stillHeld(c), since_seconds: 0, quiet_seconds: 0 })),
      })),
    });
  }

  async function loadBoard() {
    const board = await api("GET", "/supervisor/api/board");
    state.board = board;
    state.boardFetchedAt = performance.now();
    const key = boardKey(board);
    if (key === state.boardKey) {
      rebaseTicks(board); // the same board: only its clocks move on
    } else {
      state.boardKey = key;
      renderBoard(board);
    }
    ui.boardUpdated.textContent = `Updated ${new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })}.`;
  }

  function tickNode(kind, seconds, id, prefix) {
    const node = el("span", `tick ${kind}`);
    node.dataset.base = String(Number(seconds) || 0);
    node.dataset.prefix = prefix;
    node.dataset.tick = `${kind}:${id}`;
    paintTick(node, 0);
    return node;
  }

  function paintTick(node, elapsed) {
    const seconds = Number(node.dataset.base) + elapsed;
    node.textContent = `${node.dataset.prefix} ${formatClock(seconds)}`;
    node.classList.toggle("long", seconds >= LONG_WAIT);
  }

  function rebaseTicks(board) {
    const bases = new Map();
    for (const w of board.waiting || []) bases.set(`wait:${w.id}`, w.waiting_seconds);
    for (const a of board.advocates || []) {
      for (const c of a.active || []) {
        bases.set(`since:${c.id}`, c.since_seconds);
        bases.set(`quiet:${c.id}`, c.quiet_seconds);
        for (const [key, base] of heldTickBases(c)) bases.set(key, base);
      }
    }
    for (const node of document.querySelectorAll("#board [data-tick]")) {
      if (bases.has(node.dataset.tick)) node.dataset.base = String(Number(bases.get(node.dataset.tick)) || 0);
      paintTick(node, 0);
    }
    ui.tileLongest.dataset.base = String(Number(board.longest_wait_seconds) || 0);
    paintLongest(0);
  }

  function tickBoard() {
    const elapsed = (performance.now() - state.boardFetchedAt) / 1000;
    for (const node of document.querySelectorAll("#board [data-tick]")) paintTick(node, elapsed);
    paintLongest(elapsed);
  }

  function paintLongest(elapsed) {
    const base = Number(ui.tileLongest.dataset.base || 0);
    const waiting = state.board ? (state.board.waiting || []).length : 0;
    const seconds = waiting ? base + elapsed : 0;
    ui.longestWait.textContent = waiting ? formatClock(seconds) : "none";
    ui.tileLongest.classList.toggle("long", waiting > 0 && seconds >= LONG_WAIT);
  }

  function renderBoard(board) {
    const focused = document.activeElement;
    const refocus = focused && focused.dataset && focused.dataset.action ? `[data-action="${focused.dataset.action}"]` : null;

    const waiting = Array.isArray(board.waiting) ? board.waiting : [];
    const byPriority = board.waiting_by_priority || {};
    const urgent = Number(board.urgent_waiting) || 0;
    ui.urgentWaiting.textContent = String(urgent);
    ui.tileUrgent.classList.toggle("alarm", urgent > 0);
    ui.tileUrgent.classList.toggle("calm", urgent === 0);
    ui.tileUrgent.setAttribute("role", urgent > 0 ? "alert" : "group");
    ui.tabUrgent.textContent = urgent > 0 ? `${urgent} urgent` : "";
    ui.tabUrgent.hidden = urgent === 0;
    paintTitle();
    ui.waitingTotal.textContent = String(waiting.length);
    ui.waitingSplit.textContent = `${byPriority.urgent || 0} urgent · ${byPriority.high || 0} high · ${byPriority.normal || 0} normal`;
    ui.tileLongest.dataset.base = String(Number(board.longest_wait_seconds) || 0);
    paintLongest(0);

    const advocates = Array.isArray(board.advocates) ? board.advocates : [];
    // Available counts only those whose console is open: "available" alone may be someone gone.
    const available = advocates.filter((a) => a.availability === "available" && a.connected);
    const activeTotal = advocates.reduce((sum, a) => sum + (a.active || []).length, 0);
    ui.availableCount.textContent = `${available.length} of ${advocates.length}`;
    ui.activeCount.textContent = `${activeTotal} active ${activeTotal === 1 ? "conversation" : "conversations"}`;
    const today = board.today || {};
    ui.todayOpened.textContent = String(today.opened ?? "–");
    ui.todayNote.textContent = `opened · ${today.closed ?? 0} closed · ${today.texts_in ?? 0} texts in`;

    ui.waitingList.replaceChildren(...waiting.map(waitingRow));
    ui.waitingEmpty.hidden = waiting.length > 0;
    ui.waitingCount.textContent = waiting.length ? `(${waiting.length})` : "";

    ui.advocateList.replaceChildren(...advocates.map(advocateCard));
    ui.advocatesEmpty.hidden = advocates.length > 0;
    if (refocus) {
      const again = document.querySelector(refocus);
      if (again) again.focus();
    }
  }

  function waitingRow(item) {
    const row = el("li", `waiting-item priority-${knownPriority(item.priority)}`);
    row.dataset.id = String(item.id);
    row.append(
      el(
        "div",
        "line",
        ...spaced(
          priorityBadge(item.priority),
          tickNode("wait", item.waiting_seconds, item.id, "Waiting"),
          el("span", "chip", languageName(item.language)),
          item.returning ? el("span", "chip returning", "Returning") : null,
          item.state === "queue_check_in" ? el("span", "chip", "Asked: still there?") : null,
          ...flagChips(item),
          ...waitingRiskNodes(item, state.board || {}),
        ),
      ),
    );
    if (Array.isArray(item.reasons) && item.reasons.length) row.append(el("p", "reasons", "Risk: ", item.reasons.map(String).join(", ")));
    row.append(el("p", "", el("span", "muted", "Needs: "), item.needs ? item.needs : "not given"));
    const view = button("View", "secondary", () => openViewer(item.id));
    view.dataset.action = `view-${item.id}`;
    view.setAttribute("aria-label", `View conversation ${item.id}`);
    row.append(el("div", "actions", view));
    return row;
  }

  function advocateCard(advocate) {
    const active = Array.isArray(advocate.active) ? advocate.active : [];
    const isAvailable = advocate.availability === "available";
    const connected = advocate.connected === true;
    // Marked available, or holding texters, with the console closed: gone, whatever they said.
    const gone = !connected && (isAvailable || active.length > 0);
    const card = el("li", `advocate${isAvailable ? "" : " is-away"}${gone ? " is-gone" : ""}`);
    card.dataset.id = String(advocate.id);
    card.append(
      el(
        "div",
        "line",
        el("span", "email", advocate.name || advocate.email),
        advocate.role && advocate.role !== "advocate" ? el("span", "chip", advocate.role) : null,
        el("span", `chip ${isAvailable ? "available" : "away"}`, isAvailable ? "Available" : "Away"),
        connectionChip(advocate, connected, gone),
        el("span", "load", active.length ? `${active.length} active` : "no conversations"),
      ),
    );
    if (active.length) card.append(el("ul", "active-list", ...active.map((c) => activeRow(c, advocate))));
    return card;
  }

  /** Whether the advocate's console is open: its last poll within the grace period. */
  function connectionChip(advocate, connected, gone) {
    if (connected) return el("span", "chip connected", "Connected");
    const seen = Number(advocate.seen_seconds);
    const when = advocate.seen_seconds === null || advocate.seen_seconds === undefined ? "never" : `${formatDuration(seen)} ago`;
    const chip = el("span", `chip ${gone ? "gone" : "offline"}`, "Not connected");
    chip.title = `Console last seen: ${when}`;
    return chip;
  }

  function activeRow(conversation, advocate) {
    const id = conversation.id;
    const row = el("li", "active-row");
    row.dataset.id = String(id);
    if (id === state.openId) row.setAttribute("aria-current", "true");
    const action = (label, name, handler, className = "secondary") => {
      const node = button(label, className, handler);
      node.dataset.action = `${name}-${id}`;
      node.setAttribute("aria-label", `${label} – conversation ${id}`);
      return node;
    };
    row.append(
      ...spaced(
        priorityBadge(conversation.priority),
        el("span", "", `#${id}`),
        el("span", "chip", languageName(conversation.language)),
        tickNode("since", conversation.since_seconds, id, "for"),
        tickNode("quiet", conversation.quiet_seconds, id, "quiet"),
        ...heldRiskNodes(conversation, el, tickNode),
      ),
      el(
        "div",
        "actions",
        action("Watch", "watch", () => openViewer(id)),
        action("Note", "note", () => openViewer(id, "note")),
        action("Reassign", "reassign", () => openViewer(id, "reassign")),
        action("Take over", "take-over", () => openViewer(id, "take-over")),
      ),
    );
    row.title = `Held by ${advocate.name || advocate.email}`;
    return row;
  }

  /** A texter's flags as chips with words: emergency words, a minor, do not text first. */
  function flagChips(item) {
    return [
      item.emergency_at ? el("span", "chip flag flag-emergency", "Emergency") : null,
      item.minor ? el("span", "chip flag flag-minor", "Minor") : null,
      item.do_not_text_first ? el("span", "chip flag flag-wait", "Do not text first") : null,
      Staff.writesInChip(item),
    ].filter(Boolean);
  }

  /** The page title: open alerts and urgent texters waiting, so another tab still shows them. */
  function paintTitle() {
    const urgent = state.board ? Number(state.board.urgent_waiting) || 0 : 0;
    const alerts = state.alerts ? Number(state.alerts.count) || 0 : 0;
    const parts = [];
    if (alerts > 0) parts.push(`${alerts} ${alerts === 1 ? "ALERT" : "ALERTS"}`);
    if (urgent > 0) parts.push(`${urgent} URGENT waiting`);
    document.title = parts.length ? `(${parts.join(" · ")}) ${baseTitle}` : baseTitle;
  }

  // -- alerts: what the worker flagged, until a supervisor acknowledges it -------------------------

  const ALERT_KINDS = ["emergency", "held", "minor", "opted_out_emergency", "advocate_gone", "help_requested", "urgent_waiting", "unanswered"];
  const knownAlert = (kind) => (ALERT_KINDS.includes(kind) ? kind : "other");

  async function loadAlerts() {
    const answer = await api("GET", "/supervisor/api/alerts");
    state.alerts = answer;
    const key = JSON.stringify(answer);
    if (key !== state.alertsKey) {
      state.alertsKey = key;
      renderAlerts(answer);
    }
    paintTitle();
  }

  function renderAlerts(answer) {
    const items = Array.isArray(answer.items) ? answer.items : [];
    const count = Number(answer.count) || 0;
    const focused = document.activeElement;
    const refocus = focused && focused.dataset && focused.dataset.alertAction ? focused.dataset.alertAction : null;
    ui.alertsOpen.textContent = String(count);
    ui.tileAlerts.classList.toggle("alarm", count > 0);
    ui.tileAlerts.classList.toggle("calm", count === 0);
    ui.tileAlerts.setAttribute("role", count > 0 ? "alert" : "group");
    ui.alertsCount.textContent = count ? `(${count}${count > items.length ? `, newest ${items.length} shown` : ""})` : "";
    ui.alertList.replaceChildren(...items.map(alertRow));
    ui.alertsEmpty.hidden = items.length > 0;
    if (refocus) {
      const again = ui.alertList.querySelector(`[data-alert-action="${refocus}"]`);
      if (again) again.focus();
    }
  }

  function alertRow(item) {
    const id = Number(item.id);
    const kind = knownAlert(item.kind);
    const row = el("li", `alert-item kind-${kind}`);
    row.dataset.id = String(id);
    row.dataset.kind = kind;
    row.append(
      el(
        "div",
        "line",
        ...spaced(
          el("strong", "alert-label", item.label || "Alert"),
          el("time", "muted", `at ${formatTime(item.at)}`),
          item.conversation_id ? el("span", "chip", `Conversation #${Number(item.conversation_id)}`) : null,
        ),
      ),
    );
    if (item.why) row.append(el("p", "", el("span", "muted", "Why: "), item.why));
    if (kind === "advocate_gone" || kind === "unanswered") {
      const held = Number(item.conversations);
      row.append(
        el(
          "p",
          "",
          el("span", "muted", "Advocate: "),
          item.advocate || "unknown",
          Number.isInteger(held) && item.conversations !== null ? ` · held ${held} ${held === 1 ? "conversation" : "conversations"}` : "",
        ),
      );
    }
    if (kind === "help_requested") {
      row.append(...helpRequestParts(item, { api, say, done: () => attempt(loadAlerts) }));
    }
    if (kind === "opted_out_emergency") {
      row.append(
        el("p", "", el("span", "muted", "Number: "), el("span", "phone", item.phone || "(unknown)")),
        el("p", "muted small", "They texted STOP, so nothing can be sent to them. Decide with your team what to do."),
      );
      const words = el("blockquote", "alert-words");
      words.setAttribute("aria-label", "What they texted");
      if (item.words === null || item.words === undefined) words.append(el("em", "muted", "(the text was erased)"));
      else words.append(document.createTextNode(String(item.words)));
      row.append(words);
    }
    const actions = el("div", "actions");
    const action = (label, name, handler, className = "secondary") => {
      const node = button(label, className, handler);
      node.dataset.alertAction = `${name}-${id}`;
      return node;
    };
    if (item.conversation_id) {
      const view = action(`View conversation #${Number(item.conversation_id)}`, "view", () => openViewer(item.conversation_id));
      actions.append(view);
    }
    if (item.history_conversation_id && item.history_conversation_id !== item.conversation_id) {
      const history = action("Texter's history", "history", () => openViewer(item.history_conversation_id));
      history.setAttribute("aria-label", `Texter's history: their latest conversation, #${Number(item.history_conversation_id)}, and the earlier ones`);
      actions.append(history);
    }
    const acknowledge = action("Acknowledge", "acknowledge", () => acknowledgeAlert(id, acknowledge));
    acknowledge.setAttribute("aria-label", `Acknowledge: ${item.label || "alert"} at ${formatTime(item.at)}`);
    actions.append(acknowledge);
    row.append(actions);
    return row;
  }

  async function acknowledgeAlert(id, control) {
    const done = await act(control, async () => {
      await api("POST", `/supervisor/api/alerts/${Number(id)}/acknowledge`, {});
      say("Alert acknowledged. It is recorded in the audit trail under your name.");
    });
    // Acknowledged by us or, as the error says, by someone else first: either way, look again.
    const rows = [...ui.alertList.querySelectorAll(".alert-item")];
    const index = rows.findIndex((row) => Number(row.dataset.id) === id);
    await attempt(loadAlerts);
    if (done) {
      const left = [...ui.alertList.querySelectorAll('[data-alert-action^="acknowledge-"]')];
      const next = left[Math.min(Math.max(index, 0), left.length - 1)];
      if (next) next.focus();
      else $("alerts-heading").focus();
    }
  }

  // -- the conversation viewer: read-only, live ------------------------------------------------------

  async function openViewer(id, focus) {
    const target = Number(id);
    if (!Number.isInteger(target) || target <= 0) return;
    const changed = state.openId !== target;
    if (changed) {
      state.openId = target;
      state.openVersion = null;
      state.openView = null;
      state.openKey = null;
      ui.noteBody.value = "";
      ui.reassignTo.value = "";
      ui.takenOver.hidden = true;
      hideTakeOverConfirm();
      ui.timeline.replaceChildren();
    }
    ui.viewer.hidden = false;
    markCurrent();
    const loaded = await attempt(() => loadViewer(true));
    attempt(loadStaff);
    if (!loaded || state.openId !== target) return;
    if (focus === "note" && !ui.stepIn.hidden) ui.noteBody.focus();
    else if (focus === "reassign" && !ui.stepIn.hidden) ui.reassignTo.focus();
    else if (focus === "take-over" && !ui.stepIn.hidden && !ui.takeOver.hidden) showTakeOverConfirm();
    else ui.viewerClose.focus();
  }

  function closeViewer() {
    state.openId = null;
    state.openVersion = null;
    state.openView = null;
    state.openKey = null;
    ui.viewer.hidden = true;
    ui.timeline.replaceChildren();
    ui.viewerFacts.replaceChildren();
    ui.noteBody.value = "";
    hideTakeOverConfirm();
    markCurrent();
  }

  ui.viewerClose.addEventListener("click", closeViewer);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !ui.viewer.hidden && !event.defaultPrevented) {
      const target = event.target;
      if (target instanceof HTMLElement && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) return;
      closeViewer();
    }
  });

  function markCurrent() {
    for (const node of document.querySelectorAll(".active-row, #log-rows tr")) {
      if (Number(node.dataset.id) === state.openId) node.setAttribute("aria-current", "true");
      else node.removeAttribute("aria-current");
    }
  }

  async function loadViewer(first) {
    const id = state.openId;
    if (id === null) return;
    let view;
    try {
      view = await api("GET", `/console/api/conversations/${id}`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && state.openId === id) {
        closeViewer();
        say("No such conversation.", "error");
        return;
      }
      throw error;
    }
    if (state.openId !== id) return; // another one was opened meanwhile
    state.openVersion = view.version;
    const key = JSON.stringify({ ...view, version: 0, waiting_seconds: 0 });
    if (!first && key === state.openKey) return;
    state.openKey = key;
    const before = state.openView && state.openView.id === id ? inboundCount(state.openView) : null;
    state.openView = view;
    renderViewer(view, first);
    if (before !== null && inboundCount(view) > before) say(`New text from the texter in conversation #${id}.`);
  }

  function fact(term, value, className = "") {
    return [el("dt", "", term), el("dd", className, value)];
  }

  /** How the viewer's timeline names staff: reassignments and takeovers by email, and a note by
   * anyone but an advocate as a supervisor's. */
  const timelineStaff = {
    staffName: emailOf,
    fromSupervisor(note) {
      const author = [...state.staffById.values()].find((user) => (user.name || user.email) === note.author);
      return Boolean(author && author.role !== "advocate");
    },
  };

  function renderViewer(view, first) {
    ui.viewerId.textContent = `#${view.id}`;
    const known = knownPriority(view.priority);
    ui.viewerPriority.className = `badge priority-${known}`;
    ui.viewerPriority.textContent = PRIORITIES[known];
    ui.viewerState.textContent = view.status === "closed" ? "closed" : stateName(view.state);
    const open = view.status !== "closed";
    ui.viewerLive.hidden = !open;
    const holder = view.holder_id ? emailOf(view.holder_id) : "nobody";
    ui.viewerFacts.replaceChildren(
      ...fact("Texter", view.phone || ""),
      ...fact("Held by", view.mine ? `${holder} (you)` : holder),
      ...fact("Language", languageName(view.language)),
      ...fact("Returning", view.returning ? "yes" : "no"),
      ...fact("In danger", yesNo(view.in_danger), view.in_danger === true ? "alarm" : ""),
      ...fact("Safe to text", yesNo(view.safe_to_text), view.safe_to_text === false ? "alarm" : ""),
      ...(view.emergency_at ? fact("Emergency words", `at ${formatTime(view.emergency_last_at || view.emergency_at)}`, "alarm") : []),
      ...(view.minor ? fact("Minor", "the texter may be under 18", "alarm") : []),
      ...fact("Needs", view.needs || "not given"),
      ...fact("Location", view.location || "not given"),
      ...fact("Tags", (view.tags || []).length ? view.tags.map(String).join(", ") : "none"),
      ...(view.disposition ? fact("Disposition", (state.dispositionLabels && state.dispositionLabels.get(view.disposition)) || view.disposition) : []),
      ...(view.survey_score !== null && view.survey_score !== undefined ? fact("Survey score", `${view.survey_score} of 5`) : []),
      ...((view.earlier || []).length ? fact("Earlier", `${view.earlier.length} earlier conversation(s): ${view.earlier.map((c) => `#${c.id}`).join(", ")}`) : []),
    );
    ui.viewerReasons.replaceChildren();
    if (Array.isArray(view.reasons) && view.reasons.length) {
      ui.viewerReasons.append(el("span", "muted", "Risk: "), view.reasons.map(String).join(", "));
    }
    ui.viewerOptOut.hidden = !view.opted_out;

    const withAdvocate = view.state === "with_advocate" && open;
    ui.stepIn.hidden = !withAdvocate;
    ui.takeOver.hidden = Boolean(view.mine);
    if (view.mine) hideTakeOverConfirm();
    ui.takenOver.hidden = !(withAdvocate && view.mine);
    ui.openInConsole.href = `/console#c=${Number(view.id)}`;
    renderReassignOptions();
    renderTimeline(ui.timeline, view.timeline || [], { first, ...timelineStaff });
  }

  function renderReassignOptions() {
    if (document.activeElement === ui.reassignTo) return; // never rebuild an open dropdown
    const view = state.openView;
    const holder = view ? view.holder_id : null;
    const loads = new Map();
    const connected = new Map();
    for (const a of (state.board && state.board.advocates) || []) {
      loads.set(a.id, (a.active || []).length);
      connected.set(a.id, a.connected === true);
    }
    const chosen = ui.reassignTo.value;
    const options = [new Option("Choose an available advocate…", "")];
    for (const user of state.staff) {
      if (!user.active || user.availability !== "available" || user.id === holder) continue;
      // Only someone whose console is open: the server refuses anyone else anyway.
      if (!(connected.has(user.id) ? connected.get(user.id) : user.connected === true)) continue;
      const load = loads.has(user.id) ? ` – ${loads.get(user.id)} active` : "";
      options.push(new Option(`${user.email}${user.role === "advocate" ? "" : ` (${user.role})`}${load}`, String(user.id)));
    }
    if (options.length === 1) {
      const none = new Option("Nobody else is available", "");
      none.disabled = true;
      options.push(none);
    }
    ui.reassignTo.replaceChildren(...options);
    if ([...ui.reassignTo.options].some((option) => option.value === chosen && chosen)) ui.reassignTo.value = chosen;
  }

  // -- stepping in: note, reassign, take over ----------------------------------------------------

  ui.sendNote.addEventListener("click", () =>
    act(ui.sendNote, async () => {
      const id = state.openId;
      if (id === null) return;
      if (!ui.noteBody.value.trim()) {
        ui.noteBody.setAttribute("aria-invalid", "true");
        ui.noteBody.focus();
        say("Write the note first.", "error");
        return;
      }
      ui.noteBody.removeAttribute("aria-invalid");
      await api("POST", `/supervisor/api/conversations/${id}/note`, { body: ui.noteBody.value });
      ui.noteBody.value = "";
      say(`Note added to conversation #${id}. The advocate sees it in their console; the texter never does.`);
      await loadViewer(false);
    }),
  );
  ui.noteBody.addEventListener("input", () => ui.noteBody.removeAttribute("aria-invalid"));

  ui.reassign.addEventListener("click", () =>
    act(ui.reassign, async () => {
      const id = state.openId;
      const choice = ui.reassignTo.value;
      if (id === null) return;
      if (!choice) {
        ui.reassignTo.setAttribute("aria-invalid", "true");
        ui.reassignTo.focus();
        say("Choose an available advocate to reassign to.", "error");
        return;
      }
      ui.reassignTo.removeAttribute("aria-invalid");
      const target = Number(choice);
      await api("POST", `/supervisor/api/conversations/${id}/reassign`, { to_staff_id: target });
      ui.reassignTo.value = "";
      say(`Conversation #${id} reassigned to ${emailOf(target)}.`);
      await Promise.all([loadViewer(false), loadBoard()]);
    }),
  );
  ui.reassignTo.addEventListener("change", () => ui.reassignTo.removeAttribute("aria-invalid"));

  function showTakeOverConfirm() {
    const view = state.openView;
    const holder = view && view.holder_id ? emailOf(view.holder_id) : "its advocate";
    ui.takeOverConfirm.querySelector("p").textContent = `Take conversation #${state.openId} over from ${holder}? They can no longer reply in it; you can, from the console.`;
    ui.takeOverConfirm.hidden = false;
    ui.takeOver.disabled = true;
    ui.takeOverCancel.focus();
  }

  function hideTakeOverConfirm() {
    ui.takeOverConfirm.hidden = true;
    ui.takeOver.disabled = state.signedOut;
  }

  ui.takeOver.addEventListener("click", () => {
    if (state.openId !== null) showTakeOverConfirm();
  });
  ui.takeOverCancel.addEventListener("click", () => {
    hideTakeOverConfirm();
    ui.takeOver.focus();
  });
  ui.takeOverYes.addEventListener("click", () =>
    act(ui.takeOverYes, async () => {
      const id = state.openId;
      if (id === null) return;
      await api("POST", `/supervisor/api/conversations/${id}/take-over`, {});
      hideTakeOverConfirm();
      say(`You hold conversation #${id} now. Open it in the console to reply.`);
      await Promise.all([loadViewer(false), loadBoard()]);
      if (!ui.takenOver.hidden) ui.openInConsole.focus();
    }),
  );

  // -- 2. logs -----------------------------------------------------------------------------------

  /** The form's fields as API parameters: blanks left out, "to" dates made exclusive. */
  function queryOf(form, exclusiveTo) {
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(form)) {
      const text = String(value).trim();
      if (!text) continue;
      params.set(name, exclusiveTo.includes(name) ? nextDay(text) : text);
    }
    return params;
  }

  const logQuery = () => queryOf(ui.logFilters, ["opened_to"]);

  async function searchLogs() {
    state.logQuery = logQuery();
    state.logBefore = null;
    state.logShown = 0;
    await attempt(() => loadLogs(true));
  }

  async function loadLogs(reset) {
    const params = new URLSearchParams(state.logQuery || "");
    if (!reset && state.logBefore !== null) params.set("before_id", String(state.logBefore));
    const asked = params.toString();
    const answer = await api("GET", `/supervisor/api/logs${asked ? `?${asked}` : ""}`);
    const items = Array.isArray(answer.items) ? answer.items : [];
    const rows = items.map(logRow);
    if (reset) ui.logRows.replaceChildren(...rows);
    else ui.logRows.append(...rows);
    state.logShown = (reset ? 0 : state.logShown) + items.length;
    state.logBefore = answer.next_before_id ?? null;
    ui.logMore.hidden = state.logBefore === null;
    ui.logEmpty.hidden = state.logShown > 0;
    ui.logCount.textContent = state.logShown
      ? `${state.logShown} ${state.logShown === 1 ? "conversation" : "conversations"} shown${state.logBefore === null ? "" : "; more below"}`
      : "";
    markCurrent();
  }

  function logRow(item) {
    const row = el("tr", "clickable");
    row.dataset.id = String(item.id);
    const open = button(`#${item.id}`, "link-button", (event) => {
      event.stopPropagation();
      openViewer(item.id);
    });
    open.setAttribute("aria-label", `Open conversation ${item.id}`);
    const status = item.status === "closed" ? "closed" : `open · ${stateName(item.state)}`;
    row.append(
      el("td", "", open),
      el("td", "", formatTime(item.opened_at)),
      el("td", "", status),
      el("td", "", priorityBadge(item.priority), Array.isArray(item.reasons) && item.reasons.length ? el("div", "reasons small", item.reasons.map(String).join(", ")) : null),
      el("td", "", item.advocate || el("span", "muted", "–")),
      el("td", "", item.disposition_label || item.disposition || el("span", "muted", item.close_reason || "–")),
      el("td", "", (item.tags || []).length ? item.tags.map(String).join(", ") : el("span", "muted", "–")),
      el("td", "", languageName(item.language), item.returning ? el("div", "", el("span", "chip returning", "returning")) : null),
      el("td", "num", item.survey_score ?? el("span", "muted", "–")),
      el("td", "num", item.wait_seconds === null || item.wait_seconds === undefined ? el("span", "muted", "–") : formatDuration(item.wait_seconds)),
    );
    row.addEventListener("click", () => openViewer(item.id));
    return row;
  }

  ui.logFilters.addEventListener("submit", (event) => {
    event.preventDefault();
    searchLogs();
  });
  ui.logClear.addEventListener("click", () => {
    ui.logFilters.reset();
    searchLogs();
  });
  ui.logMore.addEventListener("click", () => act(ui.logMore, () => loadLogs(false)));

  // -- export -------------------------------------------------------------------------------------

  function renderExportWarning() {
    const withText = ui.includeText.checked;
    ui.exportReasonField.hidden = !withText;
    ui.exportWarning.textContent = withText
      ? "Message text will be in the file: texters' own words. Keep it only where it is safe. State why it is needed: the export, with “message text included” and your reason, is recorded in the audit trail under your name."
      : "Every export is recorded in the audit trail, with your name, the filter, and whether message text was included. Phone numbers are never exported.";
    ui.exportWarning.classList.toggle("loud", withText);
  }

  ui.includeText.addEventListener("change", renderExportWarning);
  ui.exportReason.addEventListener("input", () => ui.exportReason.removeAttribute("aria-invalid"));

  async function exportAs(format, control) {
    await act(control, async () => {
      const params = logQuery();
      if (state.logQuery === null || params.toString() !== state.logQuery.toString()) {
        // What is exported is what the table shows: apply the form to the table first.
        state.logQuery = params;
        state.logBefore = null;
        await loadLogs(true);
      }
      const query = new URLSearchParams(params);
      query.set("format", format);
      const withText = ui.includeText.checked;
      let response;
      if (withText) {
        // The texters' words: only with a reason, sent in the body (never in the URL).
        query.set("include_text", "1");
        response = await request("POST", `/supervisor/api/export?${query.toString()}`, { reason: ui.exportReason.value });
      } else {
        response = await request("GET", `/supervisor/api/export?${query.toString()}`);
      }
      if (!response.ok) {
        const error = await failure(response);
        if (withText && response.status === 400) {
          ui.exportReason.setAttribute("aria-invalid", "true");
          ui.exportReason.focus();
        }
        throw error;
      }
      const name = await Staff.download(response, `conversations.${format}`);
      say(`Exported ${name}${withText ? " with message text" : ""}. The export is recorded in the audit trail.`);
    });
  }

  ui.exportCsv.addEventListener("click", () => exportAs("csv", ui.exportCsv));
  ui.exportJson.addEventListener("click", () => exportAs("json", ui.exportJson));

  // -- 3. metrics -----------------------------------------------------------------------------------

  function setRange(days) {
    const to = todayUtc();
    ui.metricTo.value = to;
    ui.metricFrom.value = daysBefore(to, days - 1);
  }

  async function showMetrics() {
    if (!ui.metricFrom.value && !ui.metricTo.value) setRange(7);
    await attempt(loadMetrics);
  }

  async function loadMetrics() {
    const params = queryOf(ui.metricRange, ["opened_to"]);
    const metrics = await api("GET", `/supervisor/api/metrics?${params.toString()}`);
    renderMetrics(metrics, ui.metricFrom.value, ui.metricTo.value);
  }

  ui.metricRange.addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(loadMetrics);
  });
  for (const preset of document.querySelectorAll(".range-preset")) {
    preset.addEventListener("click", () => {
      setRange(Number(preset.dataset.days) || 7);
      attempt(loadMetrics);
    });
  }

  function metricTile(label, value, note, className = "") {
    const tile = el("div", `tile ${className}`, el("span", "tile-label", label), el("strong", "tile-value", value));
    if (note) tile.append(el("span", "tile-note", note));
    return tile;
  }

  const pairs = (list) => (Array.isArray(list) ? list.filter((p) => Array.isArray(p) && p.length === 2) : []);

  function renderMetrics(m, from, to) {
    const total = Number(m.conversations) || 0;
    const rate = m.abandonment_rate;
    const pct = (value) => `${(value * 100).toFixed(value && value < 0.1 ? 1 : 0)}%`;
    ui.metricTiles.replaceChildren(
      metricTile("Conversations", String(total), from || to ? `${from || "start"} to ${to || "today"}` : "all time"),
      metricTile("Wait for an advocate", formatDuration(m.wait_seconds && m.wait_seconds.p50), `median · 90% within ${formatDuration(m.wait_seconds && m.wait_seconds.p90)}`),
      metricTile("First advocate reply", formatDuration(m.first_reply_seconds && m.first_reply_seconds.p50), `median after claiming · p90 ${formatDuration(m.first_reply_seconds && m.first_reply_seconds.p90)}`),
      metricTile("Handle time", formatDuration(m.handle_seconds && m.handle_seconds.p50), `median · p90 ${formatDuration(m.handle_seconds && m.handle_seconds.p90)}`),
      metricTile("Abandoned", rate === null || rate === undefined ? "–" : pct(rate), `${m.abandoned || 0} of ${m.queued || 0} who queued left before an advocate`, rate >= 0.1 ? "long" : ""),
    );

    // Days: every day of the range, with zeroes, so gaps show as gaps.
    const perDay = new Map(pairs(m.per_day).map(([day, count]) => [String(day).slice(0, 10), Number(count)]));
    let days = [...perDay.keys()].sort();
    if (/^\d{4}-\d{2}-\d{2}$/.test(from) && /^\d{4}-\d{2}-\d{2}$/.test(to) && from <= to) {
      const filled = [];
      for (let day = from; day <= to && filled.length <= 92; day = nextDay(day)) filled.push(day);
      if (filled.length <= 92) days = [...new Set([...filled, ...days])].sort();
    }
    const perHour = new Map(pairs(m.per_hour).map(([hour, count]) => [Number(hour), Number(count)]));
    const scores = new Map(pairs(m.survey_scores).map(([score, count]) => [score === null ? null : Number(score), Number(count)]));
    const unanswered = scores.get(null) || 0;
    const priorities = new Map(pairs(m.priorities).map(([p, count]) => [String(p), Number(count)]));
    const labels = m.disposition_labels || {};
    const dispositions = pairs(m.dispositions)
      .map(([code, count]) => [code === null ? "none (open, or ended without one)" : String(labels[code] || code), Number(count)])
      .sort((a, b) => b[1] - a[1]);

    ui.charts.replaceChildren(
      barChart({
        id: "chart-per-day",
        title: "Conversations per day",
        note: "UTC days",
        xTitle: "day",
        yTitle: "conversations",
        data: days.map((day) => [day.slice(5), perDay.get(day) || 0, day]),
      }),
      barChart({
        id: "chart-per-hour",
        title: "Conversations by hour of day",
        note: "UTC, when the first text came in",
        xTitle: "hour of day",
        yTitle: "conversations",
        data: Array.from({ length: 24 }, (_, hour) => [String(hour).padStart(2, "0"), perHour.get(hour) || 0, `${String(hour).padStart(2, "0")}:00–${String(hour).padStart(2, "0")}:59`]),
      }),
      percentileChart({
        id: "chart-times",
        title: "Waiting, first reply and handle times",
        note: "half of conversations within p50, nine in ten within p90",
        rows: [
          ["Wait for an advocate", m.wait_seconds],
          ["First advocate reply", m.first_reply_seconds],
          ["Handle time", m.handle_seconds],
        ],
      }),
      abandonmentChart({ id: "chart-abandonment", abandoned: Number(m.abandoned) || 0, queued: Number(m.queued) || 0 }),
      barChart({
        id: "chart-priorities",
        title: "Risk levels",
        note: "priority given at triage",
        xTitle: "priority",
        yTitle: "conversations",
        data: ["urgent", "high", "normal"].map((p) => [PRIORITIES[p], priorities.get(p) || 0, PRIORITIES[p], `priority-${p}`]),
      }),
      barChart({
        id: "chart-survey",
        title: "Survey scores",
        note: unanswered ? `1 (not at all) to 5 (very); ${unanswered} not answered` : "1 (not at all) to 5 (very)",
        xTitle: "score",
        yTitle: "answers",
        data: [1, 2, 3, 4, 5].map((score) => [String(score), scores.get(score) || 0, `score ${score}`]),
      }),
      hbarChart({ id: "chart-dispositions", title: "Dispositions", note: "how conversations were closed", data: dispositions, wide: true }),
    );

    const advocates = Array.isArray(m.per_advocate) ? m.per_advocate : [];
    ui.perAdvocate.replaceChildren(
      ...advocates.map((row) => el("tr", "", el("td", "", row.advocate), el("td", "num", row.conversations), el("td", "num", row.closed))),
    );
    ui.perAdvocateEmpty.hidden = advocates.length > 0;
  }

  /** A round maximum for an axis, and the step between its gridlines (whole numbers). */
  function niceScale(max) {
    if (max <= 0) return { top: 1, step: 1 };
    const rough = max / 4;
    const power = 10 ** Math.floor(Math.log10(rough));
    const step = Math.max(1, [1, 2, 5, 10].map((f) => f * power).find((s) => s >= rough) || 10 * power);
    return { top: Math.ceil(max / step) * step, step };
  }

  function figure(id, title, note, wide) {
    const fig = el("figure", `chart${wide ? " wide" : ""}`);
    fig.id = id;
    fig.append(el("figcaption", "", title, note ? el("span", "muted", ` · ${note}`) : null));
    return fig;
  }

  function svgRoot(width, height, label) {
    const svg = svgEl("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label, preserveAspectRatio: "xMidYMid meet" });
    svg.append(svgEl("title", {}, label));
    return svg;
  }

  /** Vertical bars with their numbers on top: data is [[label, value, full label, class]]. */
  function barChart({ id, title, note, xTitle, yTitle, data, wide }) {
    const fig = figure(id, title, note, wide);
    const width = wide ? 1260 : 620;
    const height = 230;
    const margin = { top: 20, right: 12, bottom: 44, left: 46 };
    const plotW = width - margin.left - margin.right;
    const plotH = height - margin.top - margin.bottom;
    const total = data.reduce((sum, d) => sum + d[1], 0);
    const svg = svgRoot(width, height, `${title}: ${data.map((d) => `${d[2] || d[0]} ${d[1]}`).join(", ")}`);
    const { top, step } = niceScale(Math.max(0, ...data.map((d) => d[1])));
    const y = (value) => margin.top + plotH - (value / top) * plotH;
    for (let tick = 0; tick <= top; tick += step) {
      svg.append(
        svgEl("line", { class: tick ? "grid" : "axis", x1: margin.left, x2: width - margin.right, y1: y(tick), y2: y(tick) }),
        svgEl("text", { class: "tick-label", x: margin.left - 6, y: y(tick) + 4, "text-anchor": "end" }, tick),
      );
    }
    svg.append(svgEl("text", { class: "axis-title", transform: `translate(12 ${margin.top + plotH / 2}) rotate(-90)`, "text-anchor": "middle" }, yTitle));
    svg.append(svgEl("text", { class: "axis-title", x: margin.left + plotW / 2, y: height - 4, "text-anchor": "middle" }, xTitle));
    const band = data.length ? plotW / data.length : plotW;
    const barW = Math.max(2, Math.min(56, band * 0.72));
    const labelEvery = Math.max(1, Math.ceil(data.length / Math.floor(plotW / 34)));
    data.forEach(([label, value, full, className], index) => {
      const cx = margin.left + band * index + band / 2;
      const bar = svgEl("rect", {
        class: `bar${className ? ` ${className}` : ""}`,
        x: cx - barW / 2,
        y: y(value),
        width: barW,
        height: Math.max(0, margin.top + plotH - y(value)),
        "data-label": full || label,
        "data-value": value,
      });
      bar.append(svgEl("title", {}, `${full || label}: ${value}`));
      svg.append(bar);
      if (value > 0) svg.append(svgEl("text", { class: "value", x: cx, y: y(value) - 4, "text-anchor": "middle" }, value));
      if (index % labelEvery === 0) svg.append(svgEl("text", { class: "tick-label", x: cx, y: margin.top + plotH + 15, "text-anchor": "middle" }, label));
    });
    if (!total) svg.append(svgEl("text", { class: "nodata", x: margin.left + plotW / 2, y: margin.top + plotH / 2, "text-anchor": "middle" }, "No conversations in this range"));
    fig.append(svg);
    return fig;
  }

  /** Horizontal bars, one row each, for labels too long to stand under a bar. */
  function hbarChart({ id, title, note, data, wide }) {
    const fig = figure(id, title, note, wide);
    const width = wide ? 1260 : 620;
    const rowH = 26;
    const margin = { top: 8, right: 56, bottom: 8, left: wide ? 260 : 170 };
    const height = margin.top + margin.bottom + Math.max(1, data.length) * rowH;
    const plotW = width - margin.left - margin.right;
    const svg = svgRoot(width, height, `${title}: ${data.map((d) => `${d[0]} ${d[1]}`).join(", ") || "none"}`);
    const max = Math.max(1, ...data.map((d) => d[1]));
    data.forEach(([label, value], index) => {
      const yTop = margin.top + index * rowH;
      const w = (value / max) * plotW;
      svg.append(svgEl("text", { class: "row-label", x: margin.left - 8, y: yTop + rowH / 2 + 4, "text-anchor": "end" }, label));
      const bar = svgEl("rect", { class: "bar", x: margin.left, y: yTop + 4, width: Math.max(1, w), height: rowH - 8, "data-label": label, "data-value": value });
      bar.append(svgEl("title", {}, `${label}: ${value}`));
      svg.append(bar, svgEl("text", { class: "value", x: margin.left + w + 6, y: yTop + rowH / 2 + 4 }, value));
    });
    svg.append(svgEl("line", { class: "axis", x1: margin.left, x2: margin.left, y1: margin.top, y2: height - margin.bottom }));
    if (!data.length) svg.append(svgEl("text", { class: "nodata", x: width / 2, y: margin.top + rowH / 2 + 4, "text-anchor": "middle" }, "No conversations in this range"));
    fig.append(svg);
    return fig;
  }

  /** p50 and p90 of each duration, as paired horizontal bars on one time axis. */
  function percentileChart({ id, title, note, rows }) {
    const fig = figure(id, title, note, false);
    const width = 620;
    const groupH = 52;
    const margin = { top: 22, right: 86, bottom: 26, left: 150 };
    const height = margin.top + margin.bottom + rows.length * groupH;
    const plotW = width - margin.left - margin.right;
    const values = rows.flatMap(([, p]) => [p && p.p50, p && p.p90]).filter((v) => typeof v === "number");
    const max = Math.max(1, ...values);
    const inMinutes = max >= 120;
    const unit = inMinutes ? 60 : 1;
    const { top, step } = niceScale(max / unit);
    const x = (seconds) => margin.left + (seconds / unit / top) * plotW;
    const svg = svgRoot(width, height, `${title}: ${rows.map(([label, p]) => `${label} p50 ${formatDuration(p && p.p50)}, p90 ${formatDuration(p && p.p90)}`).join("; ")}`);
    for (let tick = 0; tick <= top; tick += step) {
      const tx = margin.left + (tick / top) * plotW;
      svg.append(
        svgEl("line", { class: tick ? "grid" : "axis", x1: tx, x2: tx, y1: margin.top, y2: height - margin.bottom }),
        svgEl("text", { class: "tick-label", x: tx, y: height - margin.bottom + 14, "text-anchor": "middle" }, tick),
      );
    }
    svg.append(svgEl("text", { class: "axis-title", x: margin.left + plotW / 2, y: height - 1, "text-anchor": "middle" }, inMinutes ? "minutes" : "seconds"));
    // Legend.
    svg.append(
      svgEl("rect", { class: "legend-swatch p50", x: margin.left, y: 4, width: 10, height: 10 }),
      svgEl("text", { class: "legend", x: margin.left + 14, y: 13 }, "p50 (median)"),
      svgEl("rect", { class: "legend-swatch p90", x: margin.left + 110, y: 4, width: 10, height: 10 }),
      svgEl("text", { class: "legend", x: margin.left + 124, y: 13 }, "p90"),
    );
    rows.forEach(([label, p], index) => {
      const yTop = margin.top + index * groupH + 6;
      svg.append(svgEl("text", { class: "row-label", x: margin.left - 8, y: yTop + 20, "text-anchor": "end" }, label));
      [["p50", p && p.p50], ["p90", p && p.p90]].forEach(([key, value], j) => {
        const barY = yTop + j * 18;
        if (typeof value !== "number") {
          svg.append(svgEl("text", { class: "tick-label", x: margin.left + 4, y: barY + 12 }, `${key}: no data`));
          return;
        }
        const bar = svgEl("rect", { class: `bar ${key}`, x: margin.left, y: barY, width: Math.max(1, x(value) - margin.left), height: 15, "data-label": `${label} ${key}`, "data-value": value });
        bar.append(svgEl("title", {}, `${label}, ${key}: ${formatDuration(value)}`));
        svg.append(bar, svgEl("text", { class: "value", x: x(value) + 5, y: barY + 12 }, `${key} ${formatDuration(value)}`));
      });
    });
    fig.append(svg);
    return fig;
  }

  /** Of those who queued: reached an advocate (or still waiting) vs left first, as one bar. */
  function abandonmentChart({ id, abandoned, queued }) {
    const rate = queued ? abandoned / queued : null;
    const fig = figure(id, "Abandonment", rate === null ? "nobody queued in this range" : `${(rate * 100).toFixed(1)}% of ${queued} who queued left before an advocate answered`, false);
    const width = 620;
    const height = 110;
    const margin = { left: 12, right: 12, top: 24 };
    const plotW = width - margin.left - margin.right;
    const svg = svgRoot(width, height, rate === null ? "Abandonment: nobody queued" : `Abandonment: ${abandoned} of ${queued} (${(rate * 100).toFixed(1)}%)`);
    if (rate === null) {
      svg.append(svgEl("text", { class: "nodata", x: width / 2, y: 56, "text-anchor": "middle" }, "No conversations in this range"));
    } else {
      const stayed = queued - abandoned;
      const wStayed = (stayed / queued) * plotW;
      const answered = svgEl("rect", { class: "bar answered", x: margin.left, y: margin.top, width: wStayed, height: 30, "data-label": "stayed", "data-value": stayed });
      answered.append(svgEl("title", {}, `Reached an advocate or still waiting: ${stayed}`));
      const left = svgEl("rect", { class: "bar abandoned", x: margin.left + wStayed, y: margin.top, width: plotW - wStayed, height: 30, "data-label": "abandoned", "data-value": abandoned });
      left.append(svgEl("title", {}, `Left before an advocate answered: ${abandoned}`));
      svg.append(answered, left);
      svg.append(
        svgEl("text", { class: "legend", x: margin.left, y: margin.top - 8 }, `Reached an advocate or still waiting: ${stayed}`),
        svgEl("text", { class: "legend", x: width - margin.right, y: margin.top - 8, "text-anchor": "end" }, `Left first (abandoned): ${abandoned}`),
        svgEl("text", { class: "value", x: width / 2, y: margin.top + 56, "text-anchor": "middle" }, `Abandonment rate ${(rate * 100).toFixed(1)}%`),
      );
    }
    fig.append(svg);
    return fig;
  }

  // -- 4. the audit trail ---------------------------------------------------------------------------

  const auditQuery = () => queryOf(ui.auditFilters, ["until"]);

  async function searchAudit() {
    const conversation = ui.auditFilters.elements.namedItem("conversation_id");
    if (conversation && conversation.value.trim() && !/^\d+$/.test(conversation.value.trim())) {
      conversation.setAttribute("aria-invalid", "true");
      say("A conversation number is digits only.", "error");
      return;
    }
    if (conversation) conversation.removeAttribute("aria-invalid");
    state.auditQuery = auditQuery();
    state.auditBefore = null;
    state.auditShown = 0;
    await attempt(() => loadAudit(true));
  }

  async function loadAudit(reset) {
    const params = new URLSearchParams(state.auditQuery || "");
    if (!reset && state.auditBefore !== null) params.set("before_id", String(state.auditBefore));
    const asked = params.toString();
    const answer = await api("GET", `/supervisor/api/audit${asked ? `?${asked}` : ""}`);
    const items = Array.isArray(answer.items) ? answer.items : [];
    const rows = items.map(auditRow);
    if (reset) ui.auditRows.replaceChildren(...rows);
    else ui.auditRows.append(...rows);
    state.auditShown = (reset ? 0 : state.auditShown) + items.length;
    state.auditBefore = answer.next_before_id ?? null;
    ui.auditMore.hidden = state.auditBefore === null;
    ui.auditEmpty.hidden = state.auditShown > 0;
    ui.auditCount.textContent = state.auditShown ? `${state.auditShown} shown${state.auditBefore === null ? "" : "; more below"}` : "";
  }

  function detailText(value) {
    if (value === null || value === undefined) return "";
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  }

  function auditRow(item) {
    const row = el("tr", "");
    row.dataset.id = String(item.id);
    row.dataset.kind = String(item.kind || "");
    const detail = el("td", "detail");
    const entries = Object.entries(item.detail && typeof item.detail === "object" ? item.detail : {});
    entries.forEach(([key, value], index) => {
      if (index) detail.append(" · ");
      const flagged = (key === "include_text" && value === true) || key === "reason";
      detail.append(el("span", flagged ? "flag" : "", `${key}: ${detailText(value)}`));
    });
    const conversation = item.conversation_id
      ? button(`#${item.conversation_id}`, "link-button", () => openViewer(item.conversation_id))
      : el("span", "muted", "–");
    row.append(
      el("td", "", formatWhen(item.at)),
      el("td", "", item.kind),
      el("td", "", item.actor || el("span", "muted", "system")),
      el("td", "", conversation),
      detail,
    );
    return row;
  }

  ui.auditFilters.addEventListener("submit", (event) => {
    event.preventDefault();
    searchAudit();
  });
  ui.auditClear.addEventListener("click", () => {
    ui.auditFilters.reset();
    searchAudit();
  });
  ui.auditMore.addEventListener("click", () => act(ui.auditMore, () => loadAudit(false)));

  // -- live updates -------------------------------------------------------------------------------

  let failures = 0;

  async function poll() {
    if (state.signedOut) return;
    try {
      const id = state.openId;
      const answer = await api("GET", `/console/api/poll?conversations=${id === null ? "" : id}`);
      if (failures >= 3) say("Connected again.");
      failures = 0;
      const work = [];
      if (answer.queue !== state.queueVersion) {
        state.queueVersion = answer.queue;
        if (state.view === "board") work.push(loadBoard());
        work.push(loadAlerts());
      }
      const version = id === null ? undefined : (answer.conversations || {})[String(id)];
      if (version !== undefined && id === state.openId && state.openVersion !== null && version !== state.openVersion) {
        work.push(loadViewer(false));
      }
      await Promise.all(work);
    } catch (error) {
      failures += 1;
      if (error instanceof ApiError && error.status !== 401 && failures === 3) say(error.message || "Live updates are failing; still trying…", "error");
    } finally {
      if (!state.signedOut) setTimeout(poll, POLL_MS);
    }
  }

  async function safetyRefresh() {
    if (state.signedOut) return;
    await attempt(async () => {
      const work = [];
      if (state.view === "board") work.push(loadBoard());
      work.push(loadAlerts()); // the title counts them on every tab
      if (state.openId !== null) work.push(loadViewer(false), loadStaff());
      await Promise.all(work);
    });
    if (!state.signedOut) setTimeout(safetyRefresh, SAFETY_MS);
  }

  setInterval(tickBoard, 1000);

  // -- start -----------------------------------------------------------------------------------------

  async function start() {
    renderExportWarning();
    await attempt(() => Promise.all([loadStaff(), loadDispositions()]));
    show(viewFromHash() || "board", false);
    setTimeout(poll, POLL_MS);
    setTimeout(safetyRefresh, SAFETY_MS);
  }

  start();
})();
