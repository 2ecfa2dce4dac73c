// Narrow screens (a tablet, or a laptop at 200% zoom): below 900 CSS pixels the console's three
// panes no longer fit side by side, so they become three tabs, Queue / Conversation / Details,
// one showing at a time and each filling the screen, so the reply box stays in view without
// scrolling the page. A WAI-ARIA tablist: arrow keys, Home and End move between the tabs.
// Opening a conversation shows its tab. Wider than that, the tabs go and all three panes show.

const NARROW = window.matchMedia("(max-width: 900px)");

const console_ = document.getElementById("console");
const panes = console_
  ? [
      { id: "queue", label: "Queue", pane: console_.querySelector(".queue-pane") },
      { id: "conversation", label: "Conversation", pane: console_.querySelector(".conversation-pane") },
      { id: "details", label: "Details", pane: console_.querySelector(".tools-pane") },
    ].filter((entry) => entry.pane)
  : [];

let selected = "queue";
let tablist = null;

function build() {
  tablist = document.createElement("div");
  tablist.className = "pane-tabs";
  tablist.id = "pane-tabs";
  tablist.setAttribute("role", "tablist");
  tablist.setAttribute("aria-label", "Console panes");
  tablist.hidden = true;
  for (const entry of panes) {
    const tab = document.createElement("button");
    tab.type = "button";
    tab.id = `pane-tab-${entry.id}`;
    tab.className = "pane-tab";
    tab.textContent = entry.label;
    tab.dataset.pane = entry.id;
    tab.addEventListener("click", () => select(entry.id, true));
    tablist.append(tab);
    if (!entry.pane.id) entry.pane.id = `pane-${entry.id}`;
  }
  tablist.addEventListener("keydown", onKey);
  console_.before(tablist);
}

/** The tabs a person can choose now: Details only with a conversation open. */
function available() {
  return panes.filter((entry) => entry.id !== "details" || !entry.pane.hidden);
}

function select(id, focus) {
  if (!available().some((entry) => entry.id === id)) id = "queue";
  selected = id;
  render();
  if (focus) document.getElementById(`pane-tab-${id}`)?.focus();
}

function onKey(event) {
  const ids = available().map((entry) => entry.id);
  const at = ids.indexOf(selected);
  let next = null;
  if (event.key === "ArrowRight") next = ids[(at + 1) % ids.length];
  else if (event.key === "ArrowLeft") next = ids[(at - 1 + ids.length) % ids.length];
  else if (event.key === "Home") next = ids[0];
  else if (event.key === "End") next = ids[ids.length - 1];
  if (next === null) return;
  event.preventDefault();
  select(next, true);
}

function render() {
  const narrow = NARROW.matches;
  tablist.hidden = !narrow;
  console_.classList.toggle("tabbed", narrow);
  const open = available().map((entry) => entry.id);
  if (!open.includes(selected)) selected = "queue";
  for (const entry of panes) {
    const tab = document.getElementById(`pane-tab-${entry.id}`);
    const isSelected = entry.id === selected;
    tab.setAttribute("role", "tab");
    tab.setAttribute("aria-controls", entry.pane.id);
    tab.setAttribute("aria-selected", String(isSelected));
    tab.tabIndex = isSelected ? 0 : -1;
    tab.hidden = !open.includes(entry.id);
    if (narrow) {
      entry.pane.setAttribute("role", "tabpanel");
      entry.pane.setAttribute("aria-labelledby", tab.id);
      entry.pane.classList.toggle("pane-off", !isSelected);
    } else {
      // Side by side again: the panes are what they were, regions with their own names.
      if (entry.pane.getAttribute("role") === "tabpanel") entry.pane.removeAttribute("role");
      entry.pane.removeAttribute("aria-labelledby");
      entry.pane.classList.remove("pane-off");
    }
  }
}

if (console_ && panes.length) {
  build();
  render();
  NARROW.addEventListener("change", render);
  // A conversation opening (a claim, a click in "My conversations", a link) shows its tab; the
  // Details pane coming and going updates the tabs.
  const conversation = document.getElementById("conversation");
  let wasOpen = conversation ? !conversation.hidden : false;
  const watch = new MutationObserver(() => {
    const isOpen = conversation ? !conversation.hidden : false;
    if (isOpen && !wasOpen) select("conversation", false);
    else render();
    wasOpen = isOpen;
  });
  if (conversation) watch.observe(conversation, { attributes: true, attributeFilter: ["hidden"] });
  const details = panes.find((entry) => entry.id === "details");
  if (details) watch.observe(details.pane, { attributes: true, attributeFilter: ["hidden"] });
  window.addEventListener("hashchange", () => {
    if (/^#c=\d/.test(window.location.hash)) select("conversation", false);
  });
  // Choosing one of my conversations that is open already changes nothing above: show it.
  panes[0].pane.addEventListener("click", (event) => {
    if (event.target instanceof Element && event.target.closest(".mine-open")) select("conversation", false);
  });
  if (wasOpen) select("conversation", false);
}
