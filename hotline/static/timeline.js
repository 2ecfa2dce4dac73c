/* A conversation's timeline, written once: the delivery status labels and the message, note and
 * event items that the advocate console, the supervisor's viewer (opened from the board or the
 * logs) and the quality review show. An ES module served as it is, no build step: each of those
 * pages loads its own script with <script type="module">, and that script imports from here.
 *
 * Security: every string that comes from the API (texters' words above all) reaches the page
 * only through textContent / createTextNode (Staff.el). Nothing here uses innerHTML,
 * insertAdjacentHTML, outerHTML, document.write or eval.
 */

// staff.js, a classic script every staff page loads before its own module, sets window.Staff.
// It is read when an item is built, so the order the scripts are evaluated in cannot matter.
const el = (tag, className, ...children) => window.Staff.el(tag, className, ...children);

/** The words staff read for each hotline.domain.delivery.DeliveryStatus: one entry per member
 * and no other. tests/web/test_static_timeline.py reads this table as text and checks it against
 * the enum, so keep it one `status: "label",` a line. */
export const STATUS_LABELS = Object.freeze({
  received: "received",
  pending: "waiting to send",
  submitting: "sending",
  accepted: "accepted",
  scheduled: "scheduled",
  queued: "queued",
  sending: "sending",
  sent: "sent",
  delivered: "delivered",
  undelivered: "not delivered",
  failed: "failed",
  read: "read",
  canceled: "not sent",
});

/** The word a table has for `key`, or the key itself when it has none. */
const wordFor = (table, key) => (Object.hasOwn(table, key) ? table[key] : key);

/** A time as the timeline shows it: the clock alone for today, the date too before then. */
export function formatTime(iso) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return "";
  const sameDay = when.toDateString() === new Date().toDateString();
  const time = when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return sameDay ? time : `${when.toLocaleDateString()} ${time}`;
}

/** How many texts from the texter a conversation view holds: more than before means a new one. */
export function inboundCount(view) {
  return (view.timeline || []).filter((item) => item.type === "message" && item.direction === "inbound").length;
}

function messageItem(item) {
  const inbound = item.direction === "inbound";
  const node = el("li", `item message ${inbound ? "inbound" : "outbound"}`);
  node.dataset.kind = "message";
  const status = Object.hasOwn(STATUS_LABELS, item.status) ? item.status : "unknown";
  node.dataset.status = status;
  const who = inbound ? "Texter" : item.automatic ? "Automatic" : item.author || "Staff";
  const meta = el("div", "meta", el("span", "who", who), " · ", el("time", "", formatTime(item.at)));
  // A text from the texter is always "received": only what the hotline sent has a delivery to tell.
  if (!inbound) {
    meta.append(" · ", el("span", `delivery status-${status}`, STATUS_LABELS[status] || String(item.status)));
    if (item.error_code) meta.append(el("span", "delivery status-failed", ` (error ${item.error_code})`));
  }
  const bubble = el("div", "bubble");
  bubble.append(item.body === null || item.body === undefined ? el("em", "muted", "(erased)") : document.createTextNode(item.body));
  if (Array.isArray(item.media) && item.media.length) {
    bubble.append(el("div", "media muted", `Attachment: ${item.media.map(String).join(", ")} (not shown)`));
  }
  node.append(meta, bubble);
  return node;
}

function noteItem(item, { fromSupervisor }) {
  const node = el("li", "item note");
  node.dataset.kind = "note";
  const who = fromSupervisor && fromSupervisor(item) ? "Note from a supervisor" : "Private note";
  node.append(
    el("div", "meta", el("span", "who", who), " · ", item.author || "staff", " · ", el("time", "", formatTime(item.at))),
    el("div", "bubble", item.body === null || item.body === undefined ? "(erased)" : item.body),
  );
  return node;
}

const QUESTIONS = { danger: "in danger", safety: "safe to text", needs: "needs", location: "location", survey: "survey" };
const ANSWERS = {
  free_text: "answered",
  location: "answered",
  skip: "skipped",
  emergency: "emergency words",
  distress: "asked for help",
  score: "scored",
  blank: "no answer",
  yes: "yes",
  no: "no",
};
const HELD_WHY = { urgent: "may be in danger", minor: "may be a minor", not_safe: "not safe to text" };
const ALERT_WORDS = {
  emergency: "emergency words",
  urgent: "emergency words",
  held: "kept open for a person",
  minor: "may be under 18",
  opted_out_emergency: "emergency words after STOP",
  advocate_gone: "advocate's session ended",
  help_requested: "an advocate asks for a supervisor",
  urgent_waiting: "urgent texter waiting too long",
  unanswered: "texts unanswered too long",
};
// Events shown as alarming: something to act on, not just something that happened.
const ALARMS = new Set(["alert", "send_failed", "delivery_failed"]);

function eventDetail(item, { staffName }) {
  const detail = item.detail && typeof item.detail === "object" ? item.detail : {};
  const parts = [];
  const add = (value) => {
    if (value !== undefined && value !== null && value !== "") parts.push(Array.isArray(value) ? value.map(String).join(", ") : String(value));
  };
  switch (item.kind) {
    case "answer":
      add(wordFor(QUESTIONS, detail.question));
      add(wordFor(ANSWERS, detail.answer));
      break;
    case "risk_assessed":
      add(detail.priority);
      add(detail.reasons);
      break;
    case "transferred":
      add(detail.to === "queue" ? "back to the queue" : detail.to ? `to ${detail.to}` : null);
      break;
    case "reassigned":
    case "taken_over":
      // Staff ids: named only where the page knows its staff.
      if (staffName) {
        add(detail.from_staff ? `from ${staffName(detail.from_staff)}` : null);
        add(detail.to_staff ? `to ${staffName(detail.to_staff)}` : null);
      }
      break;
    case "tagged":
      add(detail.tag);
      break;
    case "closed_by_advocate":
      add(detail.disposition);
      break;
    case "conversation_closed":
      add(detail.reason);
      break;
    case "alert":
      add(wordFor(ALERT_WORDS, detail.alert));
      if (detail.alert === "held") add(wordFor(HELD_WHY, detail.why));
      break;
    case "send_failed":
    case "delivery_failed":
      add(detail.error_code ? `error ${detail.error_code}` : null);
      break;
    default:
      break;
  }
  return parts.join(": ");
}

function eventItem(item, options) {
  const detail = eventDetail(item, options);
  const node = el(
    "li",
    `item event${ALARMS.has(item.kind) ? " alarm" : ""}`,
    el("span", "label", item.label || item.kind || "Event"),
    detail ? el("span", "detail", ` — ${detail}`) : null,
    item.author ? el("span", "muted", ` · ${item.author}`) : null,
    el("time", "muted", ` · ${formatTime(item.at)}`),
  );
  node.dataset.kind = "event";
  node.dataset.event = String(item.kind || "");
  return node;
}

function timelineItem(item, options) {
  if (item.type === "message") return messageItem(item);
  if (item.type === "note") return noteItem(item, options);
  return eventItem(item, options);
}

/** Show a conversation's timeline `items` (the API's `timeline`) in the list `box`, replacing
 * what was there. Options, all optional:
 * - `readFrom`: "end" (the default) for a live conversation: it opens at the newest item and
 *   follows new ones while the reader is near the bottom; "start" for one read from the top.
 * - `first`: the conversation was just opened (with "end": go to the newest item).
 * - `empty`: the line shown when there is nothing yet.
 * - `staffName(id)`: a staff member's name, for reassignments and takeovers; without it those
 *   events show no names.
 * - `fromSupervisor(note)`: true for a note a supervisor wrote; without it every note is a
 *   private note. */
export function renderTimeline(box, items, options = {}) {
  const { readFrom = "end", first = false, empty = "Nothing yet." } = options;
  const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  box.replaceChildren(...items.map((item) => timelineItem(item, options)));
  if (!items.length) box.append(el("li", "item event", empty));
  if (readFrom === "start") box.scrollTop = 0;
  else if (first || nearBottom) box.scrollTop = box.scrollHeight;
}
