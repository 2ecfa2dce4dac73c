/* The settings page: timers, discreet mode, capacity, opening hours and what waiting texters
 * are told, dispositions, tags, the case record's lists, risk lexicons (and trying a text
 * against one before saving).
 * Plain JavaScript, no framework, no build step.
 *
 * The server checks every value and says what is wrong; this page only shapes what was typed
 * into the API's JSON and shows the server's answer next to the form it concerns (and in the
 * status line). Strings from the API reach the page through textContent only, never as markup.
 * The CSP forbids inline scripts and styles: layout lives in supervisor.css and settings.css.
 */
(() => {
  "use strict";

  const root = document.getElementById("settings");
  if (!root) return;
  const { ApiError, el } = window.Staff;
  const $ = (id) => document.getElementById(id);
  const ui = {
    status: $("status"),
    scalars: $("scalar-settings"),
    lexicons: $("lexicons"),
    dispositionRows: $("disposition-rows"),
    addDisposition: $("add-disposition"),
    newDispositionCode: $("new-disposition-code"),
    newDispositionLabel: $("new-disposition-label"),
    caseListChoice: $("case-list-choice"),
    caseOptionRows: $("case-option-rows"),
    addCaseOption: $("add-case-option"),
    newCaseOptionCode: $("new-case-option-code"),
    newCaseOptionLabel: $("new-case-option-label"),
    tagList: $("tag-list"),
    addTag: $("add-tag"),
    newTag: $("new-tag"),
    historyRows: $("history-rows"),
    historyEmpty: $("history-empty"),
  };
  const LANGUAGES = { en: "English", es: "Spanish" };
  const labels = new Map(); // setting key -> label, for the history

  // -- building the page: elements and text nodes only ---------------------------------------

  function button(label, className, onClick, type = "button") {
    const node = el("button", className, label);
    node.type = type;
    if (onClick) node.addEventListener("click", onClick);
    return node;
  }

  /** Words a screen reader says after a button's own (so that "Save" says which setting) but
   * that the page does not show; not an aria-label, which would name the button as a field's
   * label would. */
  function hiddenWords(words) {
    return el("span", "visually-hidden", `: ${words}`);
  }

  function labelledButton(node, words) {
    node.append(hiddenWords(words));
    return node;
  }

  function formatWhen(iso) {
    const when = new Date(iso);
    if (Number.isNaN(when.getTime())) return "";
    return `${when.toLocaleDateString()} ${when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`;
  }

  function formatValue(item, value) {
    if (item.kind === "lexicon") return "the lexicon the server was started with";
    if (item.kind === "flag") return value ? "on" : "off";
    if (item.kind === "minutes") return `${value} min`;
    if (item.kind === "text") return value ? `\u201c${value}\u201d` : item.key === "operating_hours" ? "always open" : "none";
    return String(value);
  }

  // -- status line and form errors -----------------------------------------------------------

  const say = Staff.statusLine(ui.status, 6000);

  /** Show `message` under `form` (its `.form-error`), mark `field` invalid, and say it. */
  function showError(form, message, field) {
    const line = form.querySelector(".form-error");
    if (line) {
      line.textContent = message;
      line.hidden = false;
    }
    if (field) {
      field.setAttribute("aria-invalid", "true");
      field.focus();
    }
    say(message, "error");
  }

  function clearError(form) {
    const line = form.querySelector(".form-error");
    if (line) {
      line.textContent = "";
      line.hidden = true;
    }
    for (const field of form.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
  }

  // -- the API ---------------------------------------------------------------------------------

  /** Staff.api, but a 401 disables nothing here: it is an error like any other, said under
   * the form it concerns. */
  async function api(method, path, body) {
    try {
      return await Staff.api(method, path, body);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) throw new ApiError(Staff.SIGNED_OUT, 401);
      throw error;
    }
  }

  /** Run `action` for `form` with its buttons disabled; errors go under the form. */
  async function submit(form, field, action) {
    if (form.dataset.busy) return false;
    form.dataset.busy = "yes";
    const buttons = [...form.querySelectorAll("button")].filter((b) => !b.disabled);
    clearError(form);
    for (const b of buttons) b.disabled = true;
    try {
      await action();
      return true;
    } catch (error) {
      if (error instanceof ApiError) {
        showError(form, error.message, field);
      } else {
        showError(form, "Something went wrong in the page. Reload it if this keeps happening.");
        console.error(error);
      }
      return false;
    } finally {
      for (const b of buttons) b.disabled = false;
      delete form.dataset.busy;
    }
  }

  // -- timers, discreet mode, capacity ---------------------------------------------------------

  function meta(item) {
    const text = item.overridden
      ? `Changed by ${item.updated_by || "someone"} on ${formatWhen(item.updated_at)}. Default: ${formatValue(item, item.default)}.`
      : `Default in force: ${formatValue(item, item.default)} (from the server's settings).`;
    return el("p", "setting-meta muted small", text);
  }

  function settingForm(item) {
    const id = `setting-${item.key}`;
    const form = el("form", "setting");
    form.noValidate = true;
    form.dataset.key = item.key;
    let field;
    let read;
    if (item.kind === "flag") {
      field = el("input");
      field.type = "checkbox";
      field.id = id;
      field.checked = Boolean(item.value);
      read = () => field.checked;
      form.append(el("label", "check", field, ` ${item.label}`));
    } else if (item.kind === "text") {
      field = el("input");
      field.type = "text";
      field.id = id;
      field.maxLength = 500;
      field.autocomplete = "off";
      field.spellcheck = false;
      field.value = String(item.value ?? "");
      if (item.example) field.placeholder = item.example;
      read = () => field.value;
      const label = el("label", "", item.label);
      label.htmlFor = id;
      form.append(label, el("div", "inline wide", field));
    } else {
      field = el("input");
      field.type = "number";
      field.id = id;
      field.min = String(item.min);
      field.max = String(item.max);
      field.step = item.kind === "count" ? "1" : "any";
      field.value = String(item.value);
      field.inputMode = item.kind === "count" ? "numeric" : "decimal";
      read = () => {
        const raw = field.value.trim();
        if (raw === "") return null;
        const number = Number(raw);
        return Number.isNaN(number) ? raw : number;
      };
      const label = el("label", "", item.label);
      label.htmlFor = id;
      form.append(label);
      form.append(
        el("div", "inline", field, item.kind === "minutes" ? el("span", "unit muted", "minutes") : null),
      );
    }
    field.setAttribute("aria-describedby", `${id}-help ${id}-error`);
    const help = el("p", "muted small", item.help);
    help.id = `${id}-help`;
    const error = el("p", "form-error");
    error.id = `${id}-error`;
    error.setAttribute("role", "alert");
    error.hidden = true;
    const reset = button("Reset to default", "secondary", () =>
      submit(form, null, async () => {
        const answer = await api("DELETE", `/supervisor/api/settings/${encodeURIComponent(item.key)}`);
        applySettings(answer, item.key);
        say(`${item.label}: back to the default (${formatValue(item, item.default)}).`);
      }),
    );
    reset.disabled = !item.overridden;
    // Each form's buttons say which setting they act on (unique names, WCAG 2.4.6), starting
    // with the words they show (2.5.3).
    reset.append(hiddenWords(item.label));
    const save = button("Save", "", null, "submit");
    save.append(hiddenWords(item.label));
    form.append(help, el("div", "actions", save, reset), meta(item), error);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submit(form, field, async () => {
        const answer = await api("PUT", `/supervisor/api/settings/${encodeURIComponent(item.key)}`, { value: read() });
        const saved = applySettings(answer, item.key);
        say(`Saved: ${item.label} is now ${formatValue(saved, saved.value)}.`);
      });
    });
    return form;
  }

  // -- risk lexicons -----------------------------------------------------------------------------

  function weightLines(weights) {
    return Object.entries(weights)
      .map(([phrase, weight]) => `${phrase} = ${weight}`)
      .join("\n");
  }

  /** The weighted-phrases box as {phrase: weight}; throws a message naming the line at fault. */
  function parseWeights(text) {
    const weights = {};
    const seen = new Set();
    text.split("\n").forEach((line, index) => {
      if (!line.trim()) return;
      const match = /^(.*)=(.*)$/.exec(line);
      if (!match || !match[1].trim()) {
        throw new Error(`Weighted phrases, line ${index + 1}: write the phrase, then = and its weight (e.g. locked in = 40).`);
      }
      const phrase = match[1].trim();
      const folded = phrase.toLowerCase().replace(/\s+/g, " ");
      if (seen.has(folded)) throw new Error(`Weighted phrases, line ${index + 1}: \u201c${phrase}\u201d is listed twice.`);
      seen.add(folded);
      const raw = match[2].trim();
      weights[phrase] = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
    });
    return weights;
  }

  function numberField(id, label, value) {
    const field = el("input");
    field.type = "number";
    field.id = id;
    field.step = "1";
    field.min = "1";
    field.max = "1000";
    field.value = String(value);
    field.setAttribute("aria-label", label);
    return field;
  }

  const PRIORITY_WORDS = { urgent: "Urgent", high: "High", normal: "Normal" };

  /** The answer of /supervisor/api/settings/lexicon/try as nodes. The reasons and emergency
   * phrases echo the text tried (a texter's words, maybe): text nodes only. */
  function trialResult(answer) {
    const priority = PRIORITY_WORDS[answer.priority] ? answer.priority : "normal";
    const nodes = [
      el("p", "try-summary",
        "Would be ", el("span", `badge priority-${priority}`, PRIORITY_WORDS[priority]),
        ` with a score of ${Number(answer.score) || 0}.`),
    ];
    if (answer.minor) nodes.push(el("p", "try-minor", el("span", "chip gone", "May be a minor"), " (always urgent)"));
    const emergency = answer.emergency || [];
    if (emergency.length) nodes.push(el("p", "try-emergency", `Emergency words: ${emergency.join(", ")}`));
    const language = answer.language || {};
    nodes.push(el("p", "try-language", language.code
      ? `Read as ${Staff.languageName(language.code)}${language.confident ? "" : " (a guess)"}.`
      : "Language: can't tell (the welcome offers English and Spanish)."));
    const found = answer.found || [];
    if (found.length) {
      // Each reason with the words of the text that earned it (shown here, never stored).
      const line = (item) => el("li", "",
        item.weight === null ? `emergency: ${item.phrase}` : `${item.phrase} (+${item.weight})`,
        el("span", "muted", ` \u2190 \u201c${item.words}\u201d`));
      nodes.push(el("p", "try-heading", "Reasons:"), el("ul", "try-reasons", ...found.map(line)));
    } else {
      nodes.push(el("p", "muted", "No phrase matched."));
    }
    return nodes;
  }

  function lexiconForm(item) {
    const language = item.key.replace(/^lexicon_/, "");
    const name = LANGUAGES[language] || language;
    const id = `setting-${item.key}`;
    const value = item.value;
    const form = el("form", "setting lexicon");
    form.noValidate = true;
    form.dataset.key = item.key;
    const urgentAt = numberField(`${id}-urgent`, `Urgent at score, ${name}`, value.urgent_at);
    const highAt = numberField(`${id}-high`, `High at score, ${name}`, value.high_at);
    const emergency = el("textarea");
    emergency.id = `${id}-emergency`;
    emergency.rows = 8;
    emergency.spellcheck = false;
    emergency.value = value.emergency.join("\n");
    emergency.setAttribute("aria-label", `Emergency phrases, ${name}, one per line`);
    const weights = el("textarea");
    weights.id = `${id}-weights`;
    weights.rows = 12;
    weights.spellcheck = false;
    weights.value = weightLines(value.weights);
    weights.setAttribute("aria-label", `Weighted phrases, ${name}, one per line: phrase = weight`);
    const error = el("p", "form-error");
    error.setAttribute("role", "alert");
    error.hidden = true;
    const labelled = (text, field) => el("label", "", text, field);
    const reset = button("Reset to default", "secondary", () =>
      submit(form, null, async () => {
        const answer = await api("DELETE", `/supervisor/api/settings/${encodeURIComponent(item.key)}`);
        applySettings(answer, item.key);
        say(`${item.label}: back to the default.`);
      }),
    );
    reset.disabled = !item.overridden;
    reset.append(hiddenWords(item.label));
    const asNumber = (field) => (field.value.trim() === "" ? null : Number(field.value));
    /** The lexicon as typed, unsaved; throws the weights box's parse error as saving does. */
    const draft = () => ({
      urgent_at: asNumber(urgentAt),
      high_at: asNumber(highAt),
      emergency: emergency.value.split("\n").map((line) => line.trim()).filter(Boolean),
      weights: parseWeights(weights.value),
    });

    // Try a text: scored with the form as it stands, saved or not. Nothing is stored.
    const trialText = el("textarea");
    trialText.id = `${id}-try`;
    trialText.rows = 3;
    trialText.maxLength = 1000;
    trialText.spellcheck = false;
    trialText.setAttribute("aria-label", `Try a text, ${name}`);
    trialText.setAttribute("aria-describedby", `${id}-try-help`);
    trialText.addEventListener("input", () => trialText.removeAttribute("aria-invalid"));
    const trialHelp = el("p", "muted small", "See the score and reasons a texter's first text would get with the phrases and thresholds above, before you save. Nothing is saved and the text is not kept.");
    trialHelp.id = `${id}-try-help`;
    const trialOutput = el("div", "try-result");
    trialOutput.id = `${id}-try-result`;
    trialOutput.setAttribute("aria-live", "polite");
    trialOutput.setAttribute("aria-label", `Result of the try, ${name}`);
    trialOutput.setAttribute("role", "region");
    /** The form's lexicon as typed, or null after showing why it cannot be read. */
    const readDraft = () => {
      try {
        return draft();
      } catch (problem) {
        clearError(form);
        showError(form, problem.message, weights);
        return null;
      }
    };
    const tryButton = button("Try", "secondary", () => {
      const value = readDraft();
      if (value === null) return;
      submit(form, null, async () => {
        let answer;
        try {
          answer = await api("POST", "/supervisor/api/settings/lexicon/try", { text: trialText.value, language, draft: value });
        } catch (error) {
          if (error instanceof ApiError && /^text\b/.test(error.message)) {
            trialText.setAttribute("aria-invalid", "true");
            trialText.focus();
          }
          throw error;
        }
        trialOutput.replaceChildren(...trialResult(answer));
        say.clear(); // the result region says it; an earlier error no longer holds
      });
    });
    tryButton.setAttribute("aria-describedby", `${id}-try-help`);
    tryButton.append(hiddenWords(`a text, ${name}`));

    form.append(
      el("h3", "", item.label),
      el("div", "thresholds", labelled("Urgent at score", urgentAt), labelled("High at score", highAt)),
      el("div", "phrases",
        labelled("Emergency phrases (one per line)", emergency),
        labelled("Weighted phrases (one per line: phrase = weight, 1 to 100)", weights)),
      el("p", "muted phrase-help",
        "A phrase matches whole words by their stem (\u201chit me\u201d also finds \u201chits me\u201d), "
        + "with shorthand spelled out and one-letter misspellings; \u201c...\u201d stands for up to four "
        + "words (\u201ctook ... papers\u201d), \u201cword*\u201d for any ending (\u201camenaz*\u201d). "
        + "Emergency phrases match the words as written: \u201cis hitting me\u201d, not \u201chit me\u201d."),
      el("div", "actions", labelledButton(button("Save lexicon", "", null, "submit"), item.label), reset),
      meta(item),
      error,
      el("div", "try-text",
        el("label", "", "Try a text", trialText),
        trialHelp,
        el("div", "actions", tryButton),
        trialOutput),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = readDraft();
      if (value === null) return;
      submit(form, null, async () => {
        const answer = await api("PUT", `/supervisor/api/settings/${encodeURIComponent(item.key)}`, { value });
        applySettings(answer, item.key);
        say(`Saved: ${item.label}.`);
      });
    });
    return form;
  }

  // -- settings: render, and re-render what changed ----------------------------------------

  /** Render the answer of /supervisor/api/settings. With `only`, replace just that setting's
   * form (so what is typed in the others stays); returns that setting's item. */
  function applySettings(answer, only) {
    const items = answer.items || [];
    for (const item of items) labels.set(item.key, item.label);
    renderHistory(answer.history || []);
    if (only) {
      const item = items.find((candidate) => candidate.key === only);
      const old = root.querySelector(`form[data-key="${CSS.escape(only)}"]`);
      if (item && old) old.replaceWith(item.kind === "lexicon" ? lexiconForm(item) : settingForm(item));
      return item;
    }
    ui.scalars.replaceChildren(...items.filter((i) => i.kind !== "lexicon").map(settingForm));
    ui.lexicons.replaceChildren(...items.filter((i) => i.kind === "lexicon").map(lexiconForm));
    return null;
  }

  async function loadSettings() {
    applySettings(await api("GET", "/supervisor/api/settings"));
  }

  // -- dispositions --------------------------------------------------------------------------------

  /** A row of a list supervisors keep by stable code (dispositions, the case record's lists):
   * the code, its label to edit, active or retired, how often used, and Save / Retire /
   * Restore. `named` names the entry to assistive technology; `change(payload)` sends a change
   * and answers the list afresh; `retired` is what retiring it means. */
  function labelledEntryRow(item, { named, change, retired }) {
    const label = el("input");
    label.type = "text";
    label.maxLength = 120;
    label.value = item.label;
    label.setAttribute("aria-label", `Label of ${named}`);
    const error = el("p", "form-error");
    error.setAttribute("role", "alert");
    error.hidden = true;
    const row = el(
      "tr",
      item.active ? "" : "retired",
      el("td", "", el("code", "", item.code)),
      el("td", "", label, error),
      el("td", "", el("span", item.active ? "chip available" : "chip away", item.active ? "Active" : "Retired")),
      el("td", "num", String(item.uses)),
    );
    const send = (payload, done) =>
      submit(row, label, async () => {
        await change(payload);
        say(done);
        await loadHistory();
      });
    const save = button("Save label", "secondary", () => send({ label: label.value }, `Relabelled ${item.code}.`));
    save.setAttribute("aria-label", `Save label of ${named}`);
    const toggle = item.active
      ? button("Retire", "secondary", () => send({ active: false }, `Retired ${item.code}: ${retired}`))
      : button("Restore", "secondary", () => send({ active: true }, `Restored ${item.code}.`));
    toggle.setAttribute("aria-label", `${item.active ? "Retire" : "Restore"} ${named}`);
    label.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        save.click();
      }
    });
    row.append(el("td", "row-actions", save, toggle));
    return row;
  }

  function dispositionRow(item) {
    return labelledEntryRow(item, {
      named: item.code,
      retired: "advocates no longer see it.",
      change: async (payload) => {
        const answer = await api("POST", `/supervisor/api/dispositions/${encodeURIComponent(item.code)}`, payload);
        renderDispositions(answer.items || []);
      },
    });
  }

  function renderDispositions(items) {
    ui.dispositionRows.replaceChildren(...items.map(dispositionRow));
  }

  ui.addDisposition.addEventListener("submit", (event) => {
    event.preventDefault();
    const code = ui.newDispositionCode.value;
    submit(ui.addDisposition, null, async () => {
      try {
        const answer = await api("POST", "/supervisor/api/dispositions", { code, label: ui.newDispositionLabel.value });
        renderDispositions(answer.items || []);
      } catch (error) {
        if (error instanceof ApiError) {
          const culprit = /^label/.test(error.message) ? ui.newDispositionLabel : ui.newDispositionCode;
          culprit.setAttribute("aria-invalid", "true");
        }
        throw error;
      }
      ui.newDispositionCode.value = "";
      ui.newDispositionLabel.value = "";
      say(`Added the disposition ${code.trim()}: advocates can choose it now.`);
      await loadHistory();
    });
  });

  // -- the case record's lists ----------------------------------------------------------------------

  let caseOptions = []; // every entry of every list, as the API lists them

  function caseListName() {
    const chosen = ui.caseListChoice.selectedOptions[0];
    return chosen ? chosen.textContent : ui.caseListChoice.value;
  }

  function caseOptionRow(item) {
    const path = `/supervisor/api/case-options/${encodeURIComponent(item.list)}/${encodeURIComponent(item.code)}`;
    return labelledEntryRow(item, {
      // Named with their list: a disposition may have the same code ("not_trafficking").
      named: `${item.list} ${item.code}`,
      retired: "advocates no longer see it; records keep it.",
      change: async (payload) => {
        const answer = await api("PATCH", path, payload);
        renderCaseOptions(answer.items || []);
      },
    });
  }

  function renderCaseOptions(items) {
    caseOptions = items;
    const shown = items.filter((item) => item.list === ui.caseListChoice.value);
    ui.caseOptionRows.replaceChildren(...shown.map(caseOptionRow));
  }

  ui.caseListChoice.addEventListener("change", () => renderCaseOptions(caseOptions));

  ui.addCaseOption.addEventListener("submit", (event) => {
    event.preventDefault();
    const code = ui.newCaseOptionCode.value;
    const list = ui.caseListChoice.value;
    submit(ui.addCaseOption, null, async () => {
      try {
        const answer = await api("POST", "/supervisor/api/case-options", { list, code, label: ui.newCaseOptionLabel.value });
        renderCaseOptions(answer.items || []);
      } catch (error) {
        if (error instanceof ApiError) {
          const culprit = /^label/.test(error.message) ? ui.newCaseOptionLabel : ui.newCaseOptionCode;
          culprit.setAttribute("aria-invalid", "true");
        }
        throw error;
      }
      ui.newCaseOptionCode.value = "";
      ui.newCaseOptionLabel.value = "";
      say(`Added ${code.trim()} to ${caseListName()}: advocates can choose it now.`);
      await loadHistory();
    });
  });

  // -- tags -----------------------------------------------------------------------------------------

  function tagItem(item) {
    const error = el("p", "form-error");
    error.setAttribute("role", "alert");
    error.hidden = true;
    const entry = el(
      "li",
      item.active ? "tag-admin" : "tag-admin retired",
      el("span", "chip tag", item.name),
      el("span", "muted small", `${item.active ? "active" : "retired"} · ${item.uses} conversation${item.uses === 1 ? "" : "s"}`),
    );
    const toggle = button(item.active ? "Retire" : "Restore", "secondary", () =>
      submit(entry, null, async () => {
        const answer = await api("POST", `/supervisor/api/tags/${encodeURIComponent(item.name)}`, { active: !item.active });
        renderTags(answer.items || []);
        say(item.active ? `Retired the tag \u201c${item.name}\u201d.` : `Restored the tag \u201c${item.name}\u201d.`);
        await loadHistory();
      }),
    );
    toggle.setAttribute("aria-label", `${item.active ? "Retire" : "Restore"} the tag ${item.name}`);
    entry.append(toggle, error);
    return entry;
  }

  function renderTags(items) {
    ui.tagList.replaceChildren(...items.map(tagItem));
    if (!items.length) ui.tagList.append(el("li", "empty", "No tags yet: advocates cannot tag until you add one."));
  }

  ui.addTag.addEventListener("submit", (event) => {
    event.preventDefault();
    submit(ui.addTag, ui.newTag, async () => {
      const answer = await api("POST", "/supervisor/api/tags", { name: ui.newTag.value });
      renderTags(answer.items || []);
      ui.newTag.value = "";
      say(`Added the tag \u201c${answer.name}\u201d: advocates can use it now.`);
      await loadHistory();
    });
  });

  // -- history ----------------------------------------------------------------------------------------

  function list(values) {
    const shown = values.slice(0, 5).map((v) => `\u201c${v}\u201d`).join(", ");
    return values.length > 5 ? `${shown} and ${values.length - 5} more` : shown;
  }

  function plain(value) {
    if (typeof value === "boolean") return value ? "on" : "off";
    if (value === null || value === undefined || value === "") return "–";
    return String(value);
  }

  function lexiconChange(detail) {
    const parts = [];
    if (detail.emergency_added) parts.push(`emergency added: ${list(detail.emergency_added)}`);
    if (detail.emergency_removed) parts.push(`emergency removed: ${list(detail.emergency_removed)}`);
    if (detail.weights_added) {
      parts.push(`weighted added: ${list(Object.entries(detail.weights_added).map(([p, w]) => `${p} ${w}`))}`);
    }
    if (detail.weights_removed) parts.push(`weighted removed: ${list(detail.weights_removed)}`);
    if (detail.weights_changed) {
      parts.push(`reweighted: ${list(Object.entries(detail.weights_changed).map(([p, [a, b]]) => `${p} ${a} → ${b}`))}`);
    }
    for (const name of ["urgent_at", "high_at"]) {
      if (detail[name]) parts.push(`${name.replace("_at", " at")} ${detail[name][0]} → ${detail[name][1]}`);
    }
    return parts.join("; ") || "no phrase changed";
  }

  function describe(event) {
    const d = event.detail || {};
    switch (event.kind) {
      case "setting_changed":
      case "setting_reset": {
        const what = `${labels.get(d.key) || d.key}${event.kind === "setting_reset" ? " (reset to default)" : ""}`;
        const change = /^lexicon_/.test(d.key) ? lexiconChange(d) : `${plain(d.old)} → ${plain(d.new)}`;
        return [what, change];
      }
      case "disposition_added":
        return [`Disposition added: ${d.code}`, d.label];
      case "disposition_changed": {
        const parts = [];
        if (d.label) parts.push(`label \u201c${d.label.old}\u201d → \u201c${d.label.new}\u201d`);
        if (d.active) parts.push(d.active.new ? "restored" : "retired");
        return [`Disposition ${d.code}`, parts.join("; ")];
      }
      case "case_option_added":
        return [`Case record ${d.list} added: ${d.code}`, d.label];
      case "case_option_changed": {
        const parts = [];
        if (d.label) parts.push(`label \u201c${d.label.old}\u201d → \u201c${d.label.new}\u201d`);
        if (d.active) parts.push(d.active.new ? "restored" : "retired");
        return [`Case record ${d.list} ${d.code}`, parts.join("; ")];
      }
      case "tag_added":
        return [`Tag added: ${d.tag}`, ""];
      case "tag_changed":
        return [`Tag ${d.tag}`, d.active && d.active.new ? "restored" : "retired"];
      default:
        return [event.kind, ""];
    }
  }

  function renderHistory(history) {
    ui.historyRows.replaceChildren(
      ...history.map((event) => {
        const [what, change] = describe(event);
        return el("tr", "", el("td", "", formatWhen(event.at)), el("td", "", event.actor || "–"), el("td", "", what), el("td", "detail", change));
      }),
    );
    ui.historyEmpty.hidden = history.length > 0;
  }

  async function loadHistory() {
    const answer = await api("GET", "/supervisor/api/settings");
    renderHistory(answer.history || []);
  }

  // -- start ------------------------------------------------------------------------------------------

  for (const field of [ui.newDispositionCode, ui.newDispositionLabel, ui.newCaseOptionCode, ui.newCaseOptionLabel, ui.newTag]) {
    field.addEventListener("input", () => field.removeAttribute("aria-invalid"));
  }

  async function start() {
    try {
      const [dispositions, tags, options] = await Promise.all([
        api("GET", "/supervisor/api/dispositions"),
        api("GET", "/supervisor/api/tags"),
        api("GET", "/supervisor/api/case-options"),
        loadSettings(),
      ]);
      renderDispositions(dispositions.items || []);
      renderCaseOptions(options.items || []);
      renderTags(tags.items || []);
    } catch (error) {
      say(error instanceof ApiError ? error.message : "The settings could not be loaded. Reload the page.", "error");
      if (!(error instanceof ApiError)) console.error(error);
    }
  }

  start();
})();
