/* Warm transfers at the console (console.js imports it): offers to this advocate, shown with
 * the handover note first, to accept or decline; their own offers still waiting, to withdraw;
 * and a notice when one comes back (declined, or not accepted in time).
 *
 * Strings reach the page through textContent only (Staff.el), never as HTML. */

const { ApiError, el } = window.Staff;
const POLL_MS = 2000;

function button(label, className, onClick) {
  const node = el("button", className, label);
  node.type = "button";
  node.addEventListener("click", onClick);
  return node;
}

const time = (iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

/** Start watching offers. `anchor`: the panel goes after it; `opened(id)`: called once an
 * accepted conversation is ours; `say(message, kind)`: the status line; `offered(received)`:
 * the offers made to this advocate, after each look (the alerts are mine.js's). */
export function watchTransfers({ anchor, api, say, opened, offered = () => {} }) {
  const panel = el("section", "transfer-offers");
  panel.id = "transfer-offers";
  panel.setAttribute("aria-label", "Transfers");
  panel.hidden = true;
  anchor.after(panel);
  const told = new Set(); // notices already shown
  let key = null;
  let first = true;

  async function act(path, done) {
    try {
      await api("POST", path, {});
      await done();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      say(error.message, "error");
    }
    key = null;
    await look();
  }

  function render(answer) {
    const rows = [];
    for (const offer of answer.received || []) {
      const id = Number(offer.conversation_id);
      const row = el("div", `transfer-offer received priority-${offer.priority}`);
      row.dataset.id = String(id);
      row.append(
        el("strong", "", `${offer.from_advocate} offers you a texter`),
        offer.priority === "urgent" ? el("span", "badge urgent", " Urgent") : "",
        el("p", "transfer-note", el("span", "muted", "Handover note: "), offer.note === null ? el("em", "muted", "(none)") : String(offer.note)),
        el("p", "muted small", `Until you accept it stays with ${offer.from_advocate}; the offer ends at ${time(offer.expires_at)}.`),
        button("Accept", "", () => act(`/console/api/conversations/${id}/transfer/accept`, async () => {
          say("Accepted: the texter is yours now.");
          await opened(id);
        })),
        " ",
        button("Decline", "secondary", () => act(`/console/api/conversations/${id}/transfer/decline`, async () => say("Declined: it stays with your colleague."))),
      );
      rows.push(row);
    }
    for (const offer of answer.sent || []) {
      const id = Number(offer.conversation_id);
      const row = el("div", "transfer-offer sent");
      row.dataset.id = String(id);
      row.append(
        el("span", "", `Waiting for ${offer.to_advocate} to accept (until ${time(offer.expires_at)}); the texter is still yours. `),
        button("Withdraw", "secondary", () => act(`/console/api/conversations/${id}/transfer/withdraw`, async () => say("Offer withdrawn."))),
      );
      rows.push(row);
    }
    panel.replaceChildren(...rows);
    panel.hidden = rows.length === 0;
  }

  async function look() {
    try {
      const answer = await api("GET", "/console/api/transfer-offers");
      for (const notice of answer.returned || []) {
        if (told.has(notice.id)) continue;
        told.add(notice.id);
        if (first) continue; // from before this page was opened
        const why = notice.outcome === "declined" ? "declined" : "did not accept in time";
        say(`${notice.to_advocate} ${why}: the texter (conversation #${Number(notice.conversation_id)}) is still with you.`, "error");
      }
      first = false;
      offered(answer.received || []);
      const now = JSON.stringify([answer.received, answer.sent]);
      if (now !== key) {
        key = now;
        render(answer);
      }
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
    }
  }

  look();
  const timer = setInterval(look, POLL_MS);
  return { look, stop: () => clearInterval(timer) };
}
