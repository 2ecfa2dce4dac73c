/* The weekly quality review: a week's sample, one conversation's timeline, and the rubric.
 * Plain JavaScript, no framework, no build step.
 *
 * Security: every string that comes from the API (texters' words above all, and feedback)
 * reaches the page only through textContent / createTextNode. Nothing here uses innerHTML,
 * insertAdjacentHTML, outerHTML, document.write or eval, and no href is built from data. The
 * CSP forbids inline scripts and styles, so layout lives in supervisor.css and reviews.css.
 *
 * The transcript comes from the console API (/console/api/conversations/<id>), the same one the
 * supervisor's viewer uses, so each reading is recorded in the audit trail the same way, and is
 * shown by the same timeline.js. An ES module: reviews.html loads it with type="module".
 */
import { renderTimeline } from "./timeline.js";

(() => {
  const root = document.getElementById("reviews");
  if (!root) return;
  const { el } = window.Staff;

  const $ = (id) => document.getElementById(id);
  const ui = {
    status: $("status"),
    week: $("week"),
    rows: $("sample-rows"),
    empty: $("sample-empty"),
    count: $("sample-count"),
    viewer: $("viewer"),
    viewerId: $("viewer-id"),
    viewerPriority: $("viewer-priority"),
    viewerClose: $("viewer-close"),
    viewerFacts: $("viewer-facts"),
    viewerErased: $("viewer-erased"),
    timeline: $("viewer-timeline"),
    form: $("rubric-form"),
    criteria: $("rubric-criteria"),
    feedback: $("feedback"),
    submit: $("submit-review"),
    done: $("review-done"),
    reviewBy: $("review-by"),
    reviewScores: $("review-scores"),
    reviewFeedback: $("review-feedback"),
  };

  const state = {
    signedOut: false,
    rubric: null, // { criteria: [...], scale: [...], not_applicable: "n/a" }
    week: null,
    items: [],
    openId: null, // the review open in the viewer
    open: null,
  };

  // -- building the page: elements and text nodes only ---------------------------------------

  const PRIORITIES = { urgent: "Urgent", high: "High", normal: "Normal" };
  const knownPriority = (priority) => (Object.hasOwn(PRIORITIES, priority) ? priority : "normal");
  const LANGUAGES = { en: "English", es: "Spanish" };

  function priorityBadge(priority) {
    const known = knownPriority(priority);
    return el("span", `badge priority-${known}`, PRIORITIES[known]);
  }

  function formatWhen(iso) {
    if (!iso) return "";
    const when = new Date(iso);
    if (Number.isNaN(when.getTime())) return "";
    return `${when.toLocaleDateString()} ${when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`;
  }

  function formatDay(isoDate) {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(isoDate || ""));
    if (!match) return String(isoDate || "");
    const day = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
    return day.toLocaleDateString([], { timeZone: "UTC", weekday: "short", year: "numeric", month: "short", day: "numeric" });
  }

  function scoreText(score) {
    if (score === null || score === undefined) return "–";
    if (state.rubric && score === state.rubric.not_applicable) return "n/a";
    const step = state.rubric ? state.rubric.scale.find((s) => s.score === score) : null;
    return step ? `${score} · ${step.label}` : String(score);
  }

  // -- status line and the API ------------------------------------------------------------------

  const say = Staff.statusLine(ui.status, 6000);
  const signedOut = Staff.signedOutGuard(state, say, () => root.querySelectorAll("button, textarea, input, select"));
  const api = (method, path, body) => Staff.api(method, path, body, { onUnauthorized: signedOut });

  /** Run an action, showing its error in the status line; true when it succeeded. */
  const attempt = Staff.attempter(say);

  // -- the week's sample --------------------------------------------------------------------------

  async function loadSample(week) {
    const answer = await api("GET", `/supervisor/api/reviews${week ? `?week=${encodeURIComponent(week)}` : ""}`);
    state.rubric = answer.rubric;
    state.week = answer.week;
    state.items = Array.isArray(answer.items) ? answer.items : [];
    renderWeeks(answer.weeks || [], answer.week);
    renderSample();
  }

  function renderWeeks(weeks, chosen) {
    if (!weeks.length) {
      ui.week.replaceChildren(new Option("No sample drawn yet", ""));
      ui.week.disabled = true;
      return;
    }
    ui.week.disabled = state.signedOut;
    ui.week.replaceChildren(...weeks.map((week, index) => new Option(`${formatDay(week)}${index === 0 ? " (newest)" : ""}`, week)));
    ui.week.value = chosen || weeks[0];
  }

  function renderSample() {
    ui.rows.replaceChildren(...state.items.map(sampleRow));
    ui.empty.hidden = state.items.length > 0 || state.week === null;
    if (state.week === null) {
      ui.count.textContent = "No sample has been drawn yet. The first is drawn the Monday after conversations are closed (or run: hotline review draw).";
    } else {
      const reviewed = state.items.filter((item) => item.reviewed).length;
      ui.count.textContent = `${reviewed} of ${state.items.length} reviewed`;
    }
    markCurrent();
  }

  function sampleRow(item) {
    const row = el("tr", "clickable");
    row.dataset.id = String(item.id);
    const open = el("button", "link-button", `#${Number(item.conversation_id)}`);
    open.type = "button";
    open.setAttribute("aria-label", `Open conversation ${Number(item.conversation_id)} for review`);
    open.addEventListener("click", (event) => {
      event.stopPropagation();
      openReview(item.id);
    });
    let review;
    if (item.erased) review = el("span", "muted", "texter erased");
    else if (item.reviewed) review = el("span", "reviewed", `reviewed by ${item.reviewer || "a supervisor"}`);
    else review = el("span", "to-review", "to review");
    row.append(
      el("td", "", open),
      el("td", "", formatWhen(item.closed_at)),
      el("td", "", item.advocate || "–"),
      el("td", "", priorityBadge(item.priority)),
      el("td", "", item.disposition || "–"),
      el("td", "", review),
      el("td", "", item.seen_at ? formatWhen(item.seen_at) : item.reviewed ? "not yet" : "–"),
    );
    row.addEventListener("click", () => openReview(item.id));
    return row;
  }

  function markCurrent() {
    for (const row of ui.rows.querySelectorAll("tr")) {
      if (Number(row.dataset.id) === state.openId) row.setAttribute("aria-current", "true");
      else row.removeAttribute("aria-current");
    }
  }

  ui.week.addEventListener("change", () => {
    closeViewer();
    attempt(() => loadSample(ui.week.value));
  });

  // -- one review: the transcript and the rubric ------------------------------------------------

  async function openReview(id) {
    const target = Number(id);
    if (!Number.isInteger(target) || target <= 0) return;
    if (state.openId !== target) {
      state.openId = target;
      state.open = null;
      ui.timeline.replaceChildren();
      ui.viewerFacts.replaceChildren();
      ui.feedback.value = "";
      ui.form.hidden = true;
      ui.done.hidden = true;
    }
    ui.viewer.hidden = false;
    markCurrent();
    const loaded = await attempt(async () => {
      const review = await api("GET", `/supervisor/api/reviews/${target}`);
      if (state.openId !== target) return;
      state.open = review;
      renderReview(review);
      if (review.erased) {
        ui.timeline.replaceChildren(el("li", "item event", "Erased."));
        return;
      }
      const view = await api("GET", `/console/api/conversations/${Number(review.conversation_id)}`);
      if (state.openId !== target) return;
      renderConversation(view);
    });
    if (loaded && state.openId === target) ui.viewerClose.focus();
  }

  function closeViewer() {
    state.openId = null;
    state.open = null;
    ui.viewer.hidden = true;
    ui.timeline.replaceChildren();
    ui.viewerFacts.replaceChildren();
    ui.feedback.value = "";
    markCurrent();
  }

  ui.viewerClose.addEventListener("click", closeViewer);
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || ui.viewer.hidden || event.defaultPrevented) return;
    const target = event.target;
    if (target instanceof HTMLElement && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) return;
    closeViewer();
  });

  function fact(term, value) {
    return [el("dt", "", term), el("dd", "", value)];
  }

  function renderReview(review) {
    ui.viewerId.textContent = `#${Number(review.conversation_id)}`;
    const known = knownPriority(review.priority);
    ui.viewerPriority.className = `badge priority-${known}`;
    ui.viewerPriority.textContent = PRIORITIES[known];
    ui.viewerErased.hidden = !review.erased;
    ui.viewerFacts.replaceChildren(
      ...fact("Advocate", review.advocate || "–"),
      ...fact("Closed", formatWhen(review.closed_at)),
      ...fact("Disposition", review.disposition || "–"),
      ...fact("Language", LANGUAGES[review.language] || String(review.language || "?")),
    );
    if (review.reviewed) {
      ui.form.hidden = true;
      ui.done.hidden = false;
      ui.reviewBy.textContent = `Reviewed by ${review.reviewer || "a supervisor"} on ${formatWhen(review.reviewed_at)}. ${review.seen_at ? `The advocate read it on ${formatWhen(review.seen_at)}.` : "The advocate has not read it yet."}`;
      const scores = review.scores || {};
      ui.reviewScores.replaceChildren(...state.rubric.criteria.flatMap((c) => fact(c.label, scoreText(scores[c.key]))));
      ui.reviewFeedback.textContent = review.feedback || "";
    } else {
      ui.done.hidden = true;
      ui.form.hidden = Boolean(review.erased);
      if (!ui.criteria.childElementCount) buildRubric();
      for (const input of ui.criteria.querySelectorAll("input")) input.checked = false;
    }
  }

  /** The rubric as radio groups, from the API's data: one fieldset per criterion. */
  function buildRubric() {
    const groups = state.rubric.criteria.map((criterion) => {
      const set = el("fieldset", "criterion");
      set.dataset.key = criterion.key;
      set.append(el("legend", "", el("strong", "", criterion.label), el("span", "muted question", criterion.question)));
      const choices = el("div", "choices");
      const options = state.rubric.scale.map((step) => [String(step.score), `${step.score} ${step.label}`]);
      if (criterion.allows_na) options.push([state.rubric.not_applicable, "n/a"]);
      for (const [value, text] of options) {
        const input = document.createElement("input");
        input.type = "radio";
        input.name = criterion.key;
        input.value = value;
        choices.append(el("label", "choice", input, ` ${text}`));
      }
      set.append(choices);
      return set;
    });
    ui.criteria.replaceChildren(...groups);
  }

  function renderConversation(view) {
    const extra = [];
    if (view.needs) extra.push(...fact("Needs", view.needs));
    if (view.location) extra.push(...fact("Location", view.location));
    if ((view.tags || []).length) extra.push(...fact("Tags", view.tags.map(String).join(", ")));
    ui.viewerFacts.append(...extra);
    const items = Array.isArray(view.timeline) ? view.timeline : [];
    renderTimeline(ui.timeline, items, { readFrom: "start", empty: "Nothing in this conversation." });
  }

  // -- submitting a review ---------------------------------------------------------------------

  ui.form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const id = state.openId;
    if (id === null || ui.submit.disabled || !state.rubric) return;
    const scores = {};
    for (const criterion of state.rubric.criteria) {
      const set = ui.criteria.querySelector(`fieldset[data-key="${criterion.key}"]`);
      const chosen = set ? set.querySelector("input:checked") : null;
      if (set) set.removeAttribute("aria-invalid");
      if (!chosen) {
        if (set) {
          set.setAttribute("aria-invalid", "true");
          set.querySelector("input").focus();
        }
        say(`Score "${criterion.label}" first.`, "error");
        return;
      }
      scores[criterion.key] = chosen.value === state.rubric.not_applicable ? chosen.value : Number(chosen.value);
    }
    ui.feedback.removeAttribute("aria-invalid");
    if (!ui.feedback.value.trim()) {
      ui.feedback.setAttribute("aria-invalid", "true");
      ui.feedback.focus();
      say("Write some feedback for the advocate.", "error");
      return;
    }
    ui.submit.disabled = true;
    try {
      const ok = await attempt(async () => {
        const review = await api("POST", `/supervisor/api/reviews/${id}`, { scores, feedback: ui.feedback.value });
        if (state.openId === id) {
          state.open = review;
          renderReview(review);
        }
      });
      if (ok) {
        say("Review submitted. The advocate will see it in their console.");
        await attempt(() => loadSample(state.week));
      }
    } finally {
      ui.submit.disabled = state.signedOut;
    }
  });

  attempt(() => loadSample(null));
})();
