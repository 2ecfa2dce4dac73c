/* A returning texter's earlier conversations, and the advocate's search of their own recent
 * cases, in the console's tools pane.
 *
 * An earlier conversation opens in place: its summary, disposition, tags and notes (not its
 * transcript), while the hotline still keeps it. Every opening is recorded in the audit trail
 * by the server. The case search is a POST: what an advocate searches for may be a texter's
 * words and never goes in a URL. Everything from the API reaches the page through textContent.
 */

/**
 * Wire the earlier conversations and the case search to the console page.
 *
 * `deps`: `api(method, path, body)`, `el(tag, className, ...children)`, `attempt(action)`,
 * `formatTime(iso)`, `priorityBadge(priority)`, `openConversation(id)` (opens a conversation the
 * advocate holds in the middle pane). Returns `{ renderEarlier(earlier) }`.
 */
export function setUpPastConversations({ api, el, attempt, formatTime, priorityBadge, openConversation }) {
  const $ = (id) => document.getElementById(id);
  const earlierList = $("earlier");
  const earlierEmpty = $("earlier-empty");
  const caseForm = $("case-search");
  const caseQuery = $("case-query");
  const caseList = $("cases");
  const caseEmpty = $("cases-empty");
  let searched = 0;

  function button(label, className, onClick) {
    const node = el("button", className, label);
    node.type = "button";
    node.addEventListener("click", onClick);
    return node;
  }

  function span(start, end) {
    return end ? `${formatTime(start)} – ${formatTime(end)}` : `${formatTime(start)} (open)`;
  }

  /** The details of one earlier conversation, as a block under its line. */
  function details(past) {
    const block = el("div", "past-details");
    const facts = el("dl", "past-facts");
    const fact = (term, value) => facts.append(el("div", "", el("dt", "", `${term}:`), " ", el("dd", "", value)));
    fact("Disposition", past.disposition_label || past.disposition || "none");
    fact("Summary", past.summary || "none written");
    fact("Tags", past.tags.length ? past.tags.join(", ") : "none");
    block.append(facts);
    if (past.notes.length) {
      block.append(
        el("p", "past-notes-heading", "Notes"),
        el(
          "ul",
          "past-notes",
          ...past.notes.map((note) => el("li", "", el("span", "muted", `${note.author}, ${formatTime(note.created_at)}: `), note.body)),
        ),
      );
    } else {
      block.append(el("p", "muted", "No notes."));
    }
    return block;
  }

  /** A "Show details" toggle that loads an earlier conversation into `slot` the first time. */
  function detailsToggle(id, slot) {
    const toggle = button("Show details", "secondary past-open", async () => {
      const showing = toggle.getAttribute("aria-expanded") === "true";
      if (showing) {
        slot.hidden = true;
        toggle.setAttribute("aria-expanded", "false");
        toggle.textContent = "Show details";
        return;
      }
      if (!slot.childElementCount) {
        try {
          slot.replaceChildren(details(await api("GET", `/console/api/past-conversations/${id}`)));
        } catch (error) {
          // Past retention, erased, or not the caller's: say so where they looked.
          slot.replaceChildren(el("p", "past-unavailable", error.message || "This conversation cannot be opened."));
        }
      }
      slot.hidden = false;
      toggle.setAttribute("aria-expanded", "true");
      toggle.textContent = "Hide details";
    });
    toggle.setAttribute("aria-expanded", "false");
    toggle.setAttribute("aria-controls", slot.id);
    return toggle;
  }

  function renderEarlier(earlier) {
    earlierList.replaceChildren(
      ...earlier.map((c) => {
        const slot = el("div", "past-slot");
        slot.id = `earlier-details-${c.id}`;
        slot.hidden = true;
        const line = el(
          "div",
          "past-line",
          priorityBadge(c.priority),
          " ",
          span(c.opened_at, c.closed_at),
          c.disposition ? el("span", "muted", ` · ${c.disposition}`) : null,
          " ",
          c.closed_at ? detailsToggle(c.id, slot) : null,
        );
        return el("li", "", line, slot);
      }),
    );
    earlierEmpty.hidden = earlier.length > 0;
  }

  function renderCases(cases) {
    caseList.replaceChildren(
      ...cases.map((c) => {
        const slot = el("div", "past-slot");
        slot.id = `case-details-${c.id}`;
        slot.hidden = true;
        const action = c.open ? button("Open", "secondary case-open", () => openConversation(c.id)) : detailsToggle(c.id, slot);
        const line = el(
          "div",
          "past-line",
          span(c.opened_at, c.closed_at),
          c.disposition_label || c.disposition ? el("span", "muted", ` · ${c.disposition_label || c.disposition}`) : null,
          " ",
          action,
        );
        const summary = c.summary ? el("p", "case-summary", c.summary) : null;
        return el("li", "", line, summary, slot);
      }),
    );
    caseEmpty.hidden = cases.length > 0;
  }

  caseForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const asked = ++searched;
    await attempt(async () => {
      const answer = await api("POST", "/console/api/cases", { query: caseQuery.value.trim() });
      if (asked === searched) renderCases((answer && answer.items) || []);
    });
  });

  return { renderEarlier };
}
