/* An advocate's "Ask a supervisor" on the supervisors' board (supervisor.js imports it): who
 * asks and why, and a form whose answer goes to the conversation as a note (and acknowledges the
 * alert). Strings reach the page through textContent only (Staff.el). */

const { ApiError, el } = window.Staff;

/** The parts of an alert row for a help request: append them to `row`. `done` is called after
 * the answer was saved (the board reloads its alerts). */
export function helpRequestParts(item, { api, say, done }) {
  const id = Number(item.id);
  const who = el("p", "", el("span", "muted", "Advocate: "), item.advocate || "unknown");
  const why = el("p", "help-reason", el("span", "muted", "Needs: "), item.reason === null || item.reason === undefined ? el("em", "muted", "(the reason was erased)") : String(item.reason));
  const label = el("label", "", "Your answer (added as a note in the conversation)");
  const box = el("textarea", "help-answer");
  box.id = `help-answer-${id}`;
  box.rows = 2;
  box.maxLength = 4000;
  label.htmlFor = box.id;
  const send = el("button", "", "Send answer");
  send.type = "button";
  send.dataset.alertAction = `answer-${id}`;
  send.addEventListener("click", async () => {
    if (!box.value.trim()) {
      box.setAttribute("aria-invalid", "true");
      box.focus();
      say("Write an answer first.", "error");
      return;
    }
    send.disabled = true;
    try {
      await api("POST", `/supervisor/api/alerts/${id}/answer`, { answer: box.value });
      say("Answer added as a note in the conversation; the request is acknowledged.");
      await done();
    } catch (error) {
      send.disabled = false;
      if (!(error instanceof ApiError)) throw error;
      say(error.message, "error");
    }
  });
  return [who, why, el("div", "help-answer-form", label, box, send)];
}
