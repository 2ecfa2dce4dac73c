/* Closing safely, for the advocate console (console.js imports it).
 *
 * - Closing asks first when it matters: the server answers 409 "confirm closing: <reasons>"
 *   (no reply was ever sent, the texter's last text has no answer, urgent, a minor); a dialog
 *   lists the reasons, and only "Close anyway" sends the close again, confirmed.
 * - After closing, a bar offers "Reopen" until the reopen window ends (the server says when).
 * - Back to the queue and a transfer ask for confirmation too (confirmAction).
 * - "Ask a supervisor": a short reason, sent as an alert to the supervisors' board.
 *
 * Every string reaches the page through textContent (Staff.el), never as HTML.
 */

const CONFIRM_PREFIX = "confirm closing: ";
const { ApiError, el } = window.Staff;

function button(label, className, onClick) {
  const node = el("button", className, label);
  node.type = "button";
  if (onClick) node.addEventListener("click", onClick);
  return node;
}

/** A modal dialog with a heading, a paragraph, an optional list, and two buttons; resolves true
 * when the person chose the first (`yes`), false otherwise (the other button or Escape).
 * `aside`: an optional element shown above the buttons (it must not close the dialog). */
function ask({ id, heading, text, items = [], yes, no, yesClass = "danger", aside = null }) {
  const old = document.getElementById(id);
  if (old) old.remove();
  const dialog = el("dialog", "sign-out-dialog confirm-dialog");
  dialog.id = id;
  const title = el("h2", "", heading);
  title.id = `${id}-heading`;
  dialog.setAttribute("aria-labelledby", title.id);
  const body = el("p", "", text);
  body.id = `${id}-text`;
  dialog.setAttribute("aria-describedby", body.id);
  dialog.append(title, body);
  if (items.length) dialog.append(el("ul", "confirm-reasons", ...items.map((item) => el("li", "", item))));
  if (aside) dialog.append(aside);
  const yesButton = button(yes, yesClass);
  const noButton = button(no, "secondary");
  dialog.append(el("div", "inline", yesButton, " ", noButton));
  document.body.append(dialog);
  return new Promise((resolve) => {
    const finish = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    yesButton.addEventListener("click", () => finish(true));
    noButton.addEventListener("click", () => finish(false));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(false);
    });
    dialog.showModal();
    noButton.focus(); // the safe choice has the keyboard
  });
}

/** The close confirmation's way to the case record (issue 20): optional, and said so. */
function caseRecordAside(open) {
  const link = button("Case record (optional)…", "secondary", () => open(link));
  link.id = "close-confirm-case-record";
  link.setAttribute("aria-haspopup", "dialog");
  return el("p", "hint", "The case record is never required to close. ", link);
}

/** Close conversation `id` with `body` ({disposition, summary}); asks for confirmation when the
 * server wants it, offering the case record there (`options.caseRecord(opener)` opens it). The
 * server's answer ({ok, reopen_until}), or null when the advocate kept it open. Other refusals
 * are thrown, as api() throws them. */
export async function closeConversation(api, id, body, options = {}) {
  try {
    return await api("POST", `/console/api/conversations/${id}/close`, body);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 409 || !error.message.startsWith(CONFIRM_PREFIX)) throw error;
    const reasons = error.message.slice(CONFIRM_PREFIX.length).split("; ");
    const sure = await ask({
      id: "close-confirm",
      heading: "Close this conversation?",
      text: "Please check before closing:",
      items: reasons.map((reason) => reason.charAt(0).toUpperCase() + reason.slice(1) + "."),
      yes: "Close anyway",
      no: "Keep it open",
      aside: options.caseRecord ? caseRecordAside(options.caseRecord) : null,
    });
    if (!sure) return null;
    return api("POST", `/console/api/conversations/${id}/close`, { ...body, confirmed: true });
  }
}

/** Ask before a transfer or a return to the queue: true to go ahead. */
export function confirmAction(heading, text, yes) {
  return ask({ id: "move-confirm", heading, text, yes, no: "Cancel", yesClass: "" });
}

let reopenTimer = null;

/** Show the "Reopen" bar after `anchor` for conversation `id` until `until` (ISO time);
 * `reopen` is called when the server gave it back. `caseRecord(opener)`, when given, opens the
 * case record of the conversation just closed (issue 20): a button on the bar. */
export function offerReopen({ anchor, id, until, api, say, reopen, caseRecord = null }) {
  const old = document.getElementById("reopen-offer");
  if (old) old.remove();
  clearTimeout(reopenTimer);
  const ends = new Date(until);
  const left = ends.getTime() - Date.now();
  if (!(left > 0)) return;
  const time = ends.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const bar = el("div", "reopen-offer");
  bar.id = "reopen-offer";
  bar.setAttribute("role", "status");
  const action = button("Reopen", "secondary", async () => {
    action.disabled = true;
    try {
      await api("POST", `/console/api/conversations/${Number(id)}/reopen`, {});
      bar.remove();
      clearTimeout(reopenTimer);
      say("Conversation reopened: it is yours again.");
      await reopen(Number(id));
    } catch (error) {
      action.disabled = false;
      if (error instanceof ApiError) {
        say(error.message, "error");
        bar.remove();
      } else throw error;
    }
  });
  action.setAttribute("aria-label", `Reopen the conversation you just closed (until ${time})`);
  bar.append(el("span", "", `Conversation closed. You can reopen it until ${time}. `), action);
  if (caseRecord) {
    const record = button("Case record…", "secondary", () => caseRecord(record));
    record.setAttribute("aria-label", "Case record of the conversation you just closed");
    record.setAttribute("aria-haspopup", "dialog");
    bar.append(" ", record);
  }
  anchor.after(bar);
  reopenTimer = setTimeout(() => bar.remove(), left);
}

/** "Ask a supervisor": a reason (required, at most `max` characters), then the alert. */
export async function askSupervisor({ api, id, say, max = 200 }) {
  const old = document.getElementById("ask-supervisor-dialog");
  if (old) old.remove();
  const dialog = el("dialog", "sign-out-dialog confirm-dialog");
  dialog.id = "ask-supervisor-dialog";
  const title = el("h2", "", "Ask a supervisor");
  title.id = "ask-supervisor-heading";
  dialog.setAttribute("aria-labelledby", title.id);
  const label = el("label", "", "What do you need help with?");
  label.htmlFor = "ask-supervisor-reason";
  const reason = el("textarea", "");
  reason.id = "ask-supervisor-reason";
  reason.rows = 3;
  reason.maxLength = max;
  const hint = el("p", "hint", `A few words (at most ${max} characters). Supervisors see it on their board; their answer comes as a note in this conversation.`);
  const problem = el("p", "error", "");
  problem.id = "ask-supervisor-error";
  problem.hidden = true;
  reason.setAttribute("aria-describedby", problem.id);
  const send = button("Send to supervisors", "");
  const cancel = button("Cancel", "secondary", () => dialog.close());
  dialog.append(title, label, reason, hint, problem, el("div", "inline", send, " ", cancel));
  dialog.addEventListener("close", () => dialog.remove());
  send.addEventListener("click", async () => {
    if (!reason.value.trim()) {
      problem.textContent = "Say in a few words what you need help with.";
      problem.hidden = false;
      reason.setAttribute("aria-invalid", "true");
      reason.focus();
      return;
    }
    send.disabled = true;
    try {
      await api("POST", `/console/api/conversations/${Number(id)}/ask-supervisor`, { reason: reason.value });
      dialog.close();
      say("Supervisors were alerted. Their answer will appear as a note here.");
    } catch (error) {
      send.disabled = false;
      if (!(error instanceof ApiError)) throw error;
      problem.textContent = error.message;
      problem.hidden = false;
    }
  });
  document.body.append(dialog);
  dialog.showModal();
  reason.focus();
}
