/* The console's "Feedback" button and panel: supervisors' reviews of this advocate's own closed
 * conversations (GET /console/api/feedback), each marked read with a button. Kept apart from
 * console.js: it shares nothing with the live conversation work.
 *
 * Security: the feedback and every other string from the API reach the page only through
 * textContent / createTextNode; nothing here uses innerHTML or builds an href from data.
 */
(() => {
  "use strict";

  const REFRESH_MS = 60000; // reviews come a few a week: once a minute is plenty
  const $ = (id) => document.getElementById(id);
  const toggle = $("feedback-toggle");
  const count = $("feedback-count");
  const panel = $("feedback");
  const list = $("feedback-list");
  const closeButton = $("feedback-close");
  if (!toggle || !panel || !list) return;
  const { el } = window.Staff;
  let stopped = false;
  let rubric = null;

  function formatWhen(iso) {
    if (!iso) return "";
    const when = new Date(iso);
    if (Number.isNaN(when.getTime())) return "";
    return `${when.toLocaleDateString()} ${when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`;
  }

  function scoreText(score) {
    if (score === null || score === undefined) return "–";
    if (rubric && score === rubric.not_applicable) return "n/a";
    const step = rubric ? rubric.scale.find((s) => s.score === score) : null;
    return step ? `${score} of 4 · ${step.label}` : String(score);
  }

  async function call(method, path) {
    const response = await Staff.request(method, path);
    if (response.status === 401) stopped = true; // console.js tells the advocate to sign in again
    if (!response.ok) throw new Error(`feedback: the server answered ${response.status}`);
    return response.json();
  }

  function render(answer) {
    rubric = answer.rubric || null;
    const items = Array.isArray(answer.items) ? answer.items : [];
    toggle.hidden = items.length === 0 && panel.hidden;
    const unseen = Number(answer.unseen) || 0;
    count.hidden = unseen === 0;
    count.textContent = `${unseen} new`;
    toggle.setAttribute("aria-label", unseen ? `Feedback: ${unseen} new` : "Feedback");
    list.replaceChildren(...items.map(item));
    if (!items.length) list.append(el("li", "empty", "No reviews of your conversations yet."));
  }

  function item(review) {
    const node = el("li", `feedback-item${review.seen ? "" : " unseen"}`);
    node.dataset.id = String(review.id);
    const head = el(
      "p",
      "feedback-meta",
      el("strong", "", `Conversation #${Number(review.conversation_id)}`),
      review.closed_at ? ` · closed ${formatWhen(review.closed_at)}` : "",
      ` · reviewed by ${review.reviewer || "a supervisor"}`,
      review.reviewed_at ? ` on ${formatWhen(review.reviewed_at)}` : "",
    );
    const scores = el("dl", "feedback-scores");
    for (const score of review.scores || []) scores.append(el("dt", "", score.label), el("dd", "", scoreText(score.score)));
    node.append(head, scores, el("p", "feedback-text", review.feedback || ""));
    if (!review.seen) {
      const read = el("button", "secondary", "Mark as read");
      read.type = "button";
      read.addEventListener("click", async () => {
        read.disabled = true;
        try {
          await call("POST", `/console/api/feedback/${Number(review.id)}/seen`);
          await refresh();
          panel.focus(); // the button is gone: keep the keyboard in the panel
        } catch (error) {
          read.disabled = false;
          console.error(error);
        }
      });
      node.append(read);
    }
    return node;
  }

  async function refresh() {
    if (stopped) return;
    render(await call("GET", "/console/api/feedback"));
  }

  function show(open) {
    panel.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    if (open) {
      panel.focus();
      refresh().catch((error) => console.error(error));
    } else {
      toggle.focus();
    }
  }

  toggle.addEventListener("click", () => show(panel.hidden));
  closeButton.addEventListener("click", () => show(false));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden && !event.defaultPrevented) {
      event.preventDefault();
      show(false);
    }
  });

  refresh().catch((error) => console.error(error));
  setInterval(() => refresh().catch((error) => console.error(error)), REFRESH_MS);
})();
