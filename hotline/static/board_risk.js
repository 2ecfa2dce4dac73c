/* The board's risk signs (issue 18): for each conversation with an advocate, "No reply yet",
 * how long the texter's texts have waited for an answer and how many, and "Overdue" past the
 * supervisors' alert threshold; for each urgent texter in the queue, "Overdue" past its own.
 *
 * Plain DOM through the `el` and `tickNode` the board passes in: every string is text, never
 * HTML. The unanswered clock is a board tick like the others ("unanswered:<id>"), so it moves
 * on between fetches and is rebased on each.
 */

/** The risk chips and clock of one conversation an advocate holds. */
export function heldRiskNodes(conversation, el, tickNode) {
  const id = Number(conversation.id);
  const nodes = [];
  if (conversation.no_reply_yet) nodes.push(el("span", "chip risk no-reply", "No reply yet"));
  const texts = Number(conversation.unanswered_texts) || 0;
  if (texts > 0) {
    const tick = tickNode("unanswered", conversation.unanswered_seconds, id, `${texts} ${texts === 1 ? "text" : "texts"} unanswered`);
    tick.classList.add("risk");
    nodes.push(tick);
  }
  if (conversation.overdue) nodes.push(overdueChip("Unanswered past the alert threshold"));
  return nodes;
}

/** "Overdue" on an urgent texter in the queue waiting past the threshold, else nothing. */
export function waitingRiskNodes(item, board) {
  const overdue = Array.isArray(board.overdue_waiting) && board.overdue_waiting.includes(Number(item.id));
  return overdue ? [overdueChip("Urgent and waiting past the alert threshold")] : [];
}

/** The conversation with its ticking seconds set aside, for the board's "has it changed?". */
export function stillHeld(conversation) {
  return { ...conversation, unanswered_seconds: 0 };
}

/** The unanswered clock's base, for the board's rebase of its ticks. */
export function heldTickBases(conversation) {
  return [[`unanswered:${conversation.id}`, conversation.unanswered_seconds]];
}

function overdueChip(title) {
  const chip = document.createElement("span");
  chip.className = "chip risk overdue";
  chip.textContent = "Overdue";
  chip.title = title;
  return chip;
}
