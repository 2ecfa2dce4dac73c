/* The case record panel of the console (issue 20; console.js imports it): what the advocate
 * records of a conversation's situation for the hotline's reports, in codes from fixed lists.
 *
 * - Optional, always: reachable during the conversation (the "Case record" button) and from
 *   closing (the Close tool and the close confirmation), never required to close.
 * - A modal <dialog>: Escape closes it, the keyboard starts on its first field and goes back
 *   to the button that opened it.
 * - Suggestions from the triage's risk reasons ("took my passport" → documents taken) are
 *   marked "Suggested", with the reasons as text, and are NOT saved until Save is pressed. On a
 *   record never saved they start ticked (Save accepts them, any can be unticked); once the
 *   advocate has saved, later suggestions start unticked (they decided once) and "Accept all
 *   suggestions" ticks them.
 * - "Unknown" is exclusive in a list of several; "report made" needs "wanted contact" (consent).
 * - No free text anywhere: codes, and referrals from the directory.
 *
 * Labels and reasons reach the page through textContent only (Staff.el), never as HTML.
 */

const { ApiError, el } = window.Staff;

const UNKNOWN = "unknown";
// The lists a record holds several of, in the order the form shows them.
const MULTI = [
  ["type", "Type (typology of modern slavery)"],
  ["venue", "Industry or venue"],
  ["recruitment", "Recruitment"],
  ["control", "Means of control"],
];
const SINGLE = ["kind", "age_group", "state", "police_wanted", "police_report"];
// How a refusal that starts with a field's key ("type: ...") names it to the advocate.
const FIELD_NAMES = {
  kind: "Kind of situation",
  type: "Type",
  venue: "Industry or venue",
  recruitment: "Recruitment",
  control: "Means of control",
  age_group: "Age group",
  state: "State",
  police_wanted: "Wanted contact with law enforcement",
  police_report: "A report was made",
  referrals: "Referrals made",
};

function button(label, className, onClick) {
  const node = el("button", className, label);
  node.type = "button";
  if (onClick) node.addEventListener("click", onClick);
  return node;
}

const time = (iso) =>
  new Date(iso).toLocaleString([], { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });

/** A <select> with "Not recorded" first, then `options` ([{code, label}]). */
function select(id, options) {
  const node = el("select", "");
  node.id = id;
  node.append(new Option("Not recorded", ""));
  for (const option of options) node.append(new Option(option.label, option.code));
  return node;
}

/** A labelled field: the label above its control. */
function field(id, label, control, ...after) {
  const caption = el("label", "", label);
  caption.htmlFor = id;
  return el("div", "case-record-field", caption, control, ...after);
}

/**
 * Wire the case record to the console page.
 *
 * `deps`: `api(method, path, body)`, `say(message, kind)` (the page's status line),
 * `openId()` (the open conversation's id, or null). Returns `{ open(opener, id), shown(view,
 * first), hide() }`: `open` shows the panel (focus goes back to `opener`),
 * `shown` is called as a conversation is rendered (first: newly opened), `hide` as it goes.
 */
export function setUpCaseRecord({ api, say, openId }) {
  const $ = (id) => document.getElementById(id);
  const openButton = $("case-record-open");
  const summary = $("case-record-summary");
  const fromClose = $("case-record-from-close");

  let lists = null; // GET /console/api/case-lists
  let answer = null; // the last GET/PUT answer for `shownFor`
  let shownFor = null; // the conversation the panel shows
  let returnFocus = null;
  let dirty = false;
  let peeked = 0; // the newest summary request: older answers are dropped

  // -- the dialog, built once ---------------------------------------------------------------

  const dialog = el("dialog", "case-record-dialog");
  dialog.id = "case-record-dialog";
  const heading = el("h2", "", "Case record");
  heading.id = "case-record-heading";
  dialog.setAttribute("aria-labelledby", heading.id);
  const intro = el(
    "p",
    "case-record-intro",
    "Optional: never required to close. For the hotline's reports: choices from lists only, no names, numbers or words of the texter. Anything not known can stay “Not recorded” or be “Unknown”.",
  );
  intro.id = "case-record-intro";
  dialog.setAttribute("aria-describedby", intro.id);
  const suggestedNote = el("p", "case-record-suggested-note", "");
  suggestedNote.id = "case-record-suggested-note";
  suggestedNote.hidden = true;
  const acceptAll = button("Accept all suggestions", "secondary", () => {
    acceptSuggestions();
    changed();
  });
  acceptAll.id = "case-record-accept";
  const form = el("form", "case-record-form");
  form.id = "case-record-form";
  form.noValidate = true;
  const fields = el("div", "case-record-fields");
  const problem = el("p", "case-record-error", "");
  problem.id = "case-record-error";
  problem.setAttribute("role", "alert");
  const saved = el("p", "case-record-saved", "");
  saved.id = "case-record-saved";
  saved.setAttribute("role", "status");
  const save = el("button", "", "Save case record");
  save.type = "submit";
  save.id = "case-record-save";
  const done = button("Close case record", "secondary", () => dialog.close());
  done.id = "case-record-done";
  form.append(fields, problem, el("div", "case-record-actions", saved, save, done));
  dialog.append(el("div", "case-record-head", heading), intro, el("div", "case-record-suggested", suggestedNote, acceptAll), form);
  document.body.append(dialog);

  dialog.addEventListener("close", () => {
    if (dirty) say("The case record was not saved.");
    dirty = false;
    const back = returnFocus;
    returnFocus = null;
    if (back instanceof HTMLElement && back.isConnected && !back.disabled) back.focus();
  });
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });

  function changed() {
    dirty = true;
    problem.textContent = "";
    for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  }

  // -- building the form from the lists and the record ------------------------------------------

  function because(key) {
    const reasons = (answer && answer.because && answer.because[key]) || [];
    return reasons.map(String);
  }

  /** The "Suggested" mark after a choice, with the reasons as text and on hover. */
  function suggestedMark(key, id, what = "") {
    const reasons = because(key);
    const from = reasons.length ? `: from “${reasons.join("”, “")}”` : "";
    const mark = el("span", "case-record-suggestion", `Suggested${what}${from}`);
    mark.id = id;
    mark.title = reasons.length ? `Risk reasons: ${reasons.join(", ")}` : "From the risk reasons";
    return mark;
  }

  /** The options of `list` to show: active entries (the server puts "Unknown" last), plus any
   * retired code the record still holds, under its old label. */
  function optionsOf(list, held) {
    const options = [...((lists.lists && lists.lists[list]) || [])];
    const known = new Set(options.map((option) => option.code));
    for (const code of held) {
      if (known.has(code)) continue;
      const label = (answer.labels && answer.labels[`${list}:${code}`]) || code;
      options.push({ code, label: `${label} (retired)` });
    }
    if (!options.some((option) => option.code === UNKNOWN)) options.push({ code: UNKNOWN, label: "Unknown" });
    return options;
  }

  function checkboxGroup(list, legendText, options, held, suggested, tick) {
    const group = el("fieldset", `case-record-group case-record-${list}`);
    group.id = `case-record-${list}`;
    group.append(el("legend", "", legendText));
    const grid = el("div", "case-record-choices");
    for (const option of options) {
      const box = el("input", "");
      box.type = "checkbox";
      box.name = list;
      box.value = option.code;
      box.id = `case-record-${list}-${option.code}`;
      box.checked = held.includes(option.code) || (tick && suggested.includes(option.code));
      const label = el("label", "case-record-choice", box, " ", option.label);
      const row = el("div", "case-record-option", label);
      if (suggested.includes(option.code)) {
        const markId = `${box.id}-suggested`;
        row.classList.add("suggested");
        row.dataset.suggested = "true";
        box.setAttribute("aria-describedby", markId);
        row.append(suggestedMark(`${list}:${option.code}`, markId));
      }
      grid.append(row);
    }
    group.append(grid);
    // "Unknown" is exclusive: choosing it clears the others, choosing another clears it.
    group.addEventListener("change", (event) => {
      const box = event.target;
      if (!(box instanceof HTMLInputElement) || !box.checked) return;
      for (const other of group.querySelectorAll("input[type=checkbox]")) {
        if (other !== box && (box.value === UNKNOWN || other.value === UNKNOWN)) other.checked = false;
      }
    });
    return group;
  }

  function singleField(key, label, options, held, suggested, tick, hint) {
    const id = `case-record-${key.replace("_", "-")}`;
    const control = select(id, options);
    if (held && !options.some((option) => option.code === held)) {
      const old = (answer.labels && answer.labels[`${key}:${held}`]) || held;
      control.append(new Option(`${old} (retired)`, held));
    }
    control.value = held || (tick && suggested ? suggested : "");
    const after = [];
    if (hint) after.push(hint);
    if (suggested) {
      const markId = `${id}-suggested`;
      const chosen = options.find((option) => option.code === suggested);
      const mark = suggestedMark(`${key}:${suggested}`, markId, ` “${chosen ? chosen.label : suggested}”`);
      control.setAttribute("aria-describedby", [hint ? hint.id : "", markId].filter(Boolean).join(" "));
      control.dataset.suggested = suggested;
      control.classList.toggle("suggested", control.value === suggested);
      control.addEventListener("change", () => control.classList.toggle("suggested", control.value === suggested));
      after.push(mark);
    } else if (hint) {
      control.setAttribute("aria-describedby", hint.id);
    }
    return field(id, label, control, ...after);
  }

  function render() {
    const record = answer.record || {};
    const suggested = answer.suggested || {};
    // Never saved: the suggestions start ticked (Save accepts them). Saved once: the advocate
    // decided, so what is suggested since starts unticked.
    const tick = !answer.updated_at && answer.editable !== false;
    const children = [
      singleField("kind", "Kind of situation", optionsOf("kind", record.kind ? [record.kind] : []), record.kind, suggested.kind, tick),
    ];
    for (const [list, legend] of MULTI) {
      const held = Array.isArray(record[list]) ? record[list].map(String) : [];
      const wanted = Array.isArray(suggested[list]) ? suggested[list].map(String) : [];
      children.push(checkboxGroup(list, legend, optionsOf(list, held), held, wanted, tick));
    }
    const consentHint = el("p", "case-record-hint", "Only when the texter wanted contact with law enforcement: a report is made with their consent.");
    consentHint.id = "case-record-consent-hint";
    children.push(
      el(
        "div",
        "case-record-row",
        singleField("age_group", "Age group", lists.age_groups || [], record.age_group, suggested.age_group, tick),
        singleField("state", "State", lists.states || [], record.state, suggested.state, tick),
      ),
      el(
        "fieldset",
        "case-record-group case-record-police",
        el("legend", "", "Law enforcement"),
        el(
          "div",
          "case-record-row",
          singleField("police_wanted", "The texter wanted contact with law enforcement", lists.answers || [], record.police_wanted, suggested.police_wanted, tick),
          singleField("police_report", "A report was made", lists.answers || [], record.police_report, suggested.police_report, tick, consentHint),
        ),
      ),
      referralGroup(record.referrals || [], suggested.referrals || [], tick),
    );
    fields.replaceChildren(...children);
    $("case-record-police-wanted").addEventListener("change", consent);
    consent();

    const editable = answer.editable !== false;
    for (const control of form.querySelectorAll("input, select")) control.disabled = control.disabled || !editable;
    save.hidden = !editable;
    const marked = [...form.querySelectorAll("[data-suggested]")];
    const count = marked.length;
    suggestedNote.replaceChildren(
      tick
        ? "Marked “Suggested”, from the risk words found in the texter's messages, and ticked for you to check. Nothing is saved until you press Save: untick any that does not fit."
        : "Marked “Suggested”: found in the texter's messages since the record was saved. Nothing changes until you tick them and press Save.",
      el("span", "case-record-suggested-list", ` Suggested: ${marked.map(suggestionName).join("; ")}.`),
    );
    suggestedNote.hidden = count === 0;
    acceptAll.hidden = count === 0 || !editable;
    renderSaved();
  }

  /** "Means of control: Took or holds documents", for the list of suggestions at the top. */
  function suggestionName(node) {
    if (node instanceof HTMLSelectElement) {
      const option = [...node.options].find((item) => item.value === node.dataset.suggested);
      const caption = form.querySelector(`label[for="${node.id}"]`);
      return `${caption ? caption.textContent : ""}: ${option ? option.textContent : node.dataset.suggested}`;
    }
    const legend = node.closest("fieldset")?.querySelector("legend");
    const label = node.querySelector("label");
    return `${legend ? legend.textContent : ""}: ${label ? label.textContent.trim() : ""}`;
  }

  function referralGroup(held, suggested, tick) {
    const group = el("fieldset", "case-record-group case-record-referrals");
    group.id = "case-record-referrals";
    group.append(el("legend", "", "Referrals made"));
    const directory = [...(lists.referrals || [])];
    const known = new Set(directory.map((item) => Number(item.id)));
    for (const id of held) if (!known.has(Number(id))) directory.push({ id, name: `Referral #${Number(id)} (no longer listed)` });
    if (!directory.length) group.append(el("p", "case-record-hint", "The referral directory is empty."));
    const grid = el("div", "case-record-choices");
    for (const item of directory) {
      const box = el("input", "");
      box.type = "checkbox";
      box.name = "referrals";
      box.value = String(Number(item.id));
      box.id = `case-record-referral-${Number(item.id)}`;
      const isSuggested = suggested.map(Number).includes(Number(item.id));
      box.checked = held.map(Number).includes(Number(item.id)) || (tick && isSuggested);
      const row = el("div", "case-record-option", el("label", "case-record-choice", box, " ", item.name));
      if (isSuggested) {
        row.classList.add("suggested");
        row.dataset.suggested = "true";
        box.setAttribute("aria-describedby", `${box.id}-suggested`);
        row.append(suggestedMark(`referrals:${Number(item.id)}`, `${box.id}-suggested`));
      }
      grid.append(row);
    }
    group.append(grid);
    return group;
  }

  /** A report can be recorded only when the texter wanted contact (their consent). */
  function consent() {
    const wanted = $("case-record-police-wanted");
    const report = $("case-record-police-report");
    if (!wanted || !report) return;
    const allowed = wanted.value === "yes" && answer.editable !== false;
    if (!allowed && wanted.value !== "yes") report.value = "";
    report.disabled = !allowed;
  }

  function acceptSuggestions() {
    for (const row of form.querySelectorAll(".case-record-option.suggested")) {
      const box = row.querySelector("input[type=checkbox]");
      if (box && !box.checked) {
        box.checked = true;
        box.dispatchEvent(new Event("change", { bubbles: true })); // "Unknown" stays exclusive
      }
    }
    for (const control of form.querySelectorAll("select[data-suggested]")) {
      if (!control.value) {
        control.value = control.dataset.suggested;
        control.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }
    consent();
  }

  function renderSaved() {
    if (answer.updated_at) {
      const who = answer.updated_by ? ` by ${answer.updated_by}` : "";
      saved.textContent = `Last saved${who} at ${time(answer.updated_at)}.`;
    } else {
      saved.textContent = answer.editable === false ? "Nothing recorded." : "Not saved yet.";
    }
  }

  /** The record as the form holds it: only what is recorded (a missing key is "not recorded"). */
  function collect() {
    const record = {};
    for (const key of SINGLE) {
      const control = $(`case-record-${key.replace("_", "-")}`);
      if (control && control.value && !control.disabled) record[key] = control.value;
    }
    for (const [list] of MULTI) {
      const codes = [...form.querySelectorAll(`input[name="${list}"]:checked`)].map((box) => box.value);
      if (codes.length) record[list] = codes;
    }
    const referrals = [...form.querySelectorAll('input[name="referrals"]:checked')].map((box) => Number(box.value));
    if (referrals.length) record.referrals = referrals;
    return record;
  }

  async function submit() {
    const id = shownFor;
    if (id === null || save.disabled) return;
    save.disabled = true;
    problem.textContent = "";
    try {
      const fresh = await api("PUT", `/console/api/conversations/${Number(id)}/case-record`, { record: collect() });
      if (shownFor !== id) return;
      answer = fresh;
      dirty = false;
      render();
      saved.textContent = `Saved. ${saved.textContent}`;
      say("Case record saved.");
      showSummary(fresh);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      // What was entered stays as it is: the advocate corrects it.
      problem.textContent = error.status === 400 ? refusal(error.message) : error.message;
    } finally {
      save.disabled = false;
    }
  }

  /** A 400's message, the field it starts with ("type: ...") named as the form names it, and
   * that field marked: a list's checked boxes, or its select. */
  function refusal(message) {
    const found = /^([a-z_]+): /.exec(message);
    if (!found || !Object.hasOwn(FIELD_NAMES, found[1])) return message;
    const key = found[1];
    const target = key === "referrals" ? $("case-record-referrals") : $(`case-record-${key.replace("_", "-")}`);
    if (target instanceof HTMLSelectElement) target.setAttribute("aria-invalid", "true");
    else if (target) for (const box of target.querySelectorAll("input:checked")) box.setAttribute("aria-invalid", "true");
    return `${FIELD_NAMES[key]}: ${message.slice(found[0].length)}`;
  }

  // -- opening -----------------------------------------------------------------------------------

  let opening = 0; // the newest open(): an older one's answers are dropped

  /** Show the panel for conversation `id` (the open one by default; the one just closed, from
   * the Reopen bar); the keyboard goes back to `opener` when it closes. */
  async function open(opener, id = openId()) {
    if (id === null) return;
    const asked = ++opening;
    returnFocus = opener || document.activeElement;
    try {
      const [freshLists, record] = await Promise.all([
        api("GET", "/console/api/case-lists"),
        api("GET", `/console/api/conversations/${Number(id)}/case-record`),
      ]);
      if (asked !== opening) return; // another conversation was opened meanwhile
      lists = freshLists;
      answer = record;
      shownFor = id;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      say(error.status === 404 ? "No case record can be kept for this conversation." : error.message, "error");
      return;
    }
    dirty = false;
    problem.textContent = "";
    render();
    if (!dialog.open) dialog.showModal();
    const first = form.querySelector("select:not(:disabled), input:not(:disabled)") || done;
    first.focus();
  }

  /** The line beside the button: saved or not, and how many suggestions wait. */
  function showSummary(view) {
    if (!summary) return;
    const suggested = view.suggested || {};
    const count = Object.values(suggested).reduce((sum, value) => sum + (Array.isArray(value) ? value.length : value ? 1 : 0), 0);
    const parts = [view.updated_at ? "Recorded" : "Not recorded"];
    if (count && view.editable !== false) parts.push(`${count} suggested`);
    summary.textContent = parts.join(" · ");
  }

  async function peek(id) {
    const asked = ++peeked;
    try {
      const view = await api("GET", `/console/api/conversations/${Number(id)}/case-record`);
      if (asked === peeked && openId() === id) showSummary(view);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (asked === peeked && summary) summary.textContent = "";
    }
  }

  openButton.addEventListener("click", () => open(openButton));
  if (fromClose) fromClose.addEventListener("click", () => open(fromClose));

  /** The conversation went (closed, moved, another opened): drop the panel and the summary. */
  function hide() {
    peeked += 1;
    opening += 1;
    shownFor = null;
    if (summary) summary.textContent = "";
    if (dialog.open) {
      dirty = false;
      returnFocus = null;
      dialog.close();
    }
  }

  /** A conversation was rendered (`first`: newly opened): the summary beside the button. */
  function shown(view, first) {
    // Erased means erased: the record went with everything else, and none can be kept.
    const erased = view.phone === "(erased)";
    openButton.disabled = erased;
    if (fromClose) fromClose.disabled = erased;
    if (erased) hide();
    else if (first) {
      if (summary) summary.textContent = "";
      peek(view.id);
    }
  }

  return { open, shown, hide };
}
