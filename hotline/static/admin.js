/* The administration page: staff accounts, quick replies, the referral directory.
 * Plain JavaScript, no framework, no build step; the same habits as supervisor.js.
 *
 * Security: every string from the API reaches the page only through textContent /
 * createTextNode. Nothing here uses innerHTML, insertAdjacentHTML, document.write or eval. The
 * CSP forbids inline scripts and styles, so state shows as classes and `hidden`.
 *
 * A generated password arrives once, in the answer to the request that made it; it is shown in
 * one box until "Done" and kept nowhere else (not in the URL, storage or the status line).
 * Destructive changes ask for confirmation in the page itself, in a row under the account.
 */
(() => {
  "use strict";

  const root = document.getElementById("admin");
  if (!root) return;
  const { ApiError, el } = window.Staff;
  const myId = Number(root.dataset.myId);
  const myRole = root.dataset.myRole || "";
  const VIEWS = ["staff", "quick-replies", "referrals"];
  const ROLES = ["advocate", "supervisor", "admin"];
  const ROLE_NAMES = { advocate: "an advocate", supervisor: "a supervisor", admin: "an admin" };

  const $ = (id) => document.getElementById(id);
  const ui = {
    status: $("status"),
    newAccount: $("new-account"),
    createAccount: $("create-account"),
    once: $("password-once"),
    onceEmail: $("password-once-email"),
    onceValue: $("password-once-value"),
    onceDone: $("password-once-done"),
    accountRows: $("account-rows"),
    accountEmpty: $("account-empty"),
  };

  const state = {
    view: "staff",
    signedOut: false,
    accounts: [],
    // the confirmation open under one account: {id, action, role?}
    pending: null,
    loaded: new Set(),
  };

  // -- building the page: elements and text nodes only ---------------------------------------

  function button(label, className, onClick, ariaLabel) {
    const node = el("button", className, label);
    node.type = "button";
    if (ariaLabel) node.setAttribute("aria-label", ariaLabel);
    node.addEventListener("click", () => onClick(node));
    return node;
  }

  function when(iso) {
    if (!iso) return "never";
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? "" : date.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  }

  // -- status line -----------------------------------------------------------------------------

  const say = Staff.statusLine(ui.status, 8000);

  // -- the API ----------------------------------------------------------------------------------

  const signedOut = Staff.signedOutGuard(state, say, () => root.querySelectorAll("button, textarea, input, select"));
  const api = (method, path, body) => Staff.api(method, path, body, { onUnauthorized: signedOut });

  /** Run an action, showing its error in the status line; true when it succeeded. */
  const attempt = Staff.attempter(say);

  /** Run `action` with `control` disabled meanwhile; true if it worked. */
  async function act(control, action, onError) {
    if (control.disabled) return false;
    control.disabled = true;
    try {
      return await attempt(action, onError);
    } finally {
      control.disabled = state.signedOut;
    }
  }

  // -- marking the field an error is about -------------------------------------------------------

  function clearInvalid(container) {
    for (const field of container.querySelectorAll('[aria-invalid="true"]')) field.removeAttribute("aria-invalid");
  }

  // Typing in a field marked wrong clears the mark: the next answer decides again.
  root.addEventListener("input", (event) => {
    if (event.target instanceof Element) event.target.removeAttribute("aria-invalid");
  });

  /** Errors name their field first ("title must be text"): mark that field and focus it. */
  function markInvalid(container, error) {
    const name = String(error.message || "").split(/[\s:]/)[0];
    const field = container.querySelector(`[name="${CSS.escape(name)}"]`);
    if (!field) return;
    field.setAttribute("aria-invalid", "true");
    field.focus();
  }

  // -- tabs ---------------------------------------------------------------------------------------

  const tabs = VIEWS.map((view) => $(`tab-${view}`));

  function viewFromHash() {
    const name = window.location.hash.replace(/^#/, "");
    return VIEWS.includes(name) ? name : null;
  }

  function show(view, setHash) {
    if (!VIEWS.includes(view)) view = "staff";
    state.view = view;
    for (const tab of tabs) {
      const selected = tab.dataset.view === view;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
      $(tab.dataset.view).hidden = !selected;
    }
    if (setHash && window.location.hash !== `#${view}`) history.replaceState(null, "", `#${view}`);
    if (!ui.status.classList.contains("error")) say.clear();
    if (!state.loaded.has(view)) {
      state.loaded.add(view);
      if (view === "staff") attempt(loadAccounts);
      else attempt(() => DIRECTORY[view].load());
    }
  }

  for (const tab of tabs) {
    tab.addEventListener("click", () => show(tab.dataset.view, true));
    tab.addEventListener("keydown", (event) => {
      const index = tabs.indexOf(tab);
      let next = null;
      if (event.key === "ArrowRight") next = tabs[(index + 1) % tabs.length];
      else if (event.key === "ArrowLeft") next = tabs[(index + tabs.length - 1) % tabs.length];
      else if (event.key === "Home") next = tabs[0];
      else if (event.key === "End") next = tabs[tabs.length - 1];
      if (next) {
        event.preventDefault();
        next.focus();
        show(next.dataset.view, true);
      }
    });
  }

  window.addEventListener("hashchange", () => {
    const view = viewFromHash();
    if (view && view !== state.view) show(view, false);
  });

  // -- staff accounts -------------------------------------------------------------------------------

  const ACCOUNTS = "/supervisor/api/staff-accounts";

  async function loadAccounts() {
    const answer = await api("GET", ACCOUNTS);
    state.accounts = Array.isArray(answer.items) ? answer.items : [];
    if (state.pending && !state.accounts.some((a) => a.id === state.pending.id)) state.pending = null;
    renderAccounts();
  }

  /** Why this page will not let me change `account` (the server checks the same), or null. */
  function lockedReason(account) {
    if (account.id === myId) return "This is your own account.";
    if (account.role === "admin" && myRole !== "admin") return "Only an admin may change an admin's account.";
    return null;
  }

  /** Only an admin resets a supervisor's password or two-factor or changes their role (the
   * server refuses it anyway): for a supervisor those controls are not shown at all. */
  function adminOnly(account) {
    return account.role !== "advocate" && myRole !== "admin";
  }

  function renderAccounts() {
    const rows = [];
    for (const account of state.accounts) {
      rows.push(accountRow(account));
      if (state.pending && state.pending.id === account.id) rows.push(confirmRow(account, state.pending));
    }
    ui.accountRows.replaceChildren(...rows);
    ui.accountEmpty.hidden = state.accounts.length > 0;
  }

  function accountRow(account) {
    const locked = lockedReason(account);
    const row = el("tr", account.active ? "" : "inactive");
    row.dataset.id = String(account.id);

    const email = el("td", "email", el("span", "staff-name", account.name || account.email), " ", el("span", "muted", account.email));
    if (account.id === myId) email.append(" ", el("span", "chip", "you"));

    const role = document.createElement("select");
    role.setAttribute("aria-label", `Role of ${account.email}`);
    for (const name of ROLES) {
      const option = new Option(name[0].toUpperCase() + name.slice(1), name);
      option.disabled = name === "admin" && myRole !== "admin" && account.role !== "admin";
      role.append(option);
    }
    role.value = account.role;
    role.disabled = Boolean(locked) || adminOnly(account) || state.signedOut;
    if (locked) role.title = locked;
    else if (adminOnly(account)) role.title = "Only an admin may change a supervisor's role.";
    role.addEventListener("change", () => {
      if (role.value === account.role) return;
      state.pending = { id: account.id, action: "role", role: role.value };
      renderAccounts();
      focusConfirm();
    });

    const status = el("span", account.active ? "chip available" : "chip away", account.active ? "Active" : "Deactivated");
    const twoFactor = account.two_factor ? "On" : "Off";

    const actions = el("div", "row-actions");
    const open = (action) => () => {
      state.pending = { id: account.id, action };
      renderAccounts();
      focusConfirm();
    };
    const name = account.email;
    if (account.id === myId || account.role === "advocate" || myRole === "admin") actions.append(button("Rename…", "secondary", open("rename"), `Rename ${name}`));
    if (!adminOnly(account)) actions.append(button("Reset password…", "secondary", open("reset-password"), `Reset password of ${name}`));
    if (account.two_factor && !adminOnly(account)) actions.append(button("Reset two-factor…", "secondary", open("reset-two-factor"), `Reset two-factor of ${name}`));
    if (account.active) actions.append(button("Deactivate…", "danger", open("deactivate"), `Deactivate ${name}`));
    else actions.append(button("Reactivate", "secondary", (control) => reactivate(account, control), `Reactivate ${name}`));
    for (const control of actions.querySelectorAll("button")) {
      control.disabled = Boolean(locked) || state.signedOut;
      if (locked) control.title = locked;
    }

    row.append(
      email,
      el("td", "", role),
      el("td", "", status, account.must_change_password && " ", account.must_change_password && el("span", "chip", "New password due")),
      el("td", "", twoFactor),
      el("td", "", when(account.last_sign_in_at)),
      el("td", "", actions),
    );
    return row;
  }

  function focusConfirm() {
    const first = ui.accountRows.querySelector(".action-row input, .action-row button");
    if (first) first.focus();
  }

  function closeConfirm() {
    state.pending = null;
    renderAccounts();
  }

  /** The confirmation under an account, for the action chosen. */
  function confirmRow(account, pending) {
    const name = account.email;
    const box = el("div", "confirm");
    box.setAttribute("role", "group");
    const cancel = button("Cancel", "secondary", closeConfirm);
    const line = el("div", "line");
    if (pending.action === "deactivate") {
      box.setAttribute("aria-label", `Deactivate ${name}`);
      box.append(el("p", "", `Deactivate ${name}? They are signed out at once and cannot sign in; texters they hold go back to the queue, keeping their place.`));
      line.append(button("Yes, deactivate", "danger", (control) => deactivate(account, control)), cancel);
    } else if (pending.action === "reset-password") {
      box.setAttribute("aria-label", `Reset password of ${name}`);
      box.append(el("p", "", `Reset ${name}'s password? They are signed out at once; only the new password works.`));
      const field = el("input", "");
      field.type = "text";
      field.name = "password";
      field.maxLength = 1024;
      field.autocomplete = "new-password";
      field.spellcheck = false;
      field.placeholder = "leave empty to generate one";
      const label = el("label", "inline-label", "New temporary password (optional) ", field);
      box.append(label);
      line.append(button("Reset password", "danger", (control) => resetPassword(account, field, box, control)), cancel);
    } else if (pending.action === "reset-two-factor") {
      box.setAttribute("aria-label", `Reset two-factor of ${name}`);
      box.append(el("p", "", `Switch off ${name}'s two-factor sign-in (a lost or new phone)? They are signed out at once and set it up again when they next sign in.`));
      line.append(button("Yes, reset two-factor", "danger", (control) => resetTwoFactor(account, control)), cancel);
    } else if (pending.action === "rename") {
      box.setAttribute("aria-label", `Rename ${name}`);
      box.append(el("p", "", `The name colleagues see for ${name}; its first word is what a texter may be told. Empty: shown as ${name.split("@")[0]}.`));
      const field = el("input", "");
      field.type = "text";
      field.name = "name";
      field.maxLength = 80;
      field.value = account.display_name || "";
      field.autocomplete = "off";
      box.append(el("label", "inline-label", "Display name ", field));
      line.append(button("Save name", "", (control) => rename(account, field, box, control)), cancel);
    } else if (pending.action === "role") {
      box.setAttribute("aria-label", `Change role of ${name}`);
      box.append(el("p", "", `Make ${name} ${ROLE_NAMES[pending.role]} (now ${ROLE_NAMES[account.role]})? It takes effect on their next click.`));
      line.append(button("Change role", "", (control) => changeRole(account, pending.role, control)), cancel);
    }
    box.append(line);
    const cell = el("td", "", box);
    cell.colSpan = 6;
    const row = el("tr", "action-row", cell);
    row.addEventListener("keydown", (event) => {
      if (event.key === "Escape") closeConfirm();
    });
    return row;
  }

  function showOnce(email, password) {
    ui.onceEmail.textContent = email;
    ui.onceValue.textContent = password;
    ui.once.hidden = false;
    ui.onceDone.focus();
  }

  ui.onceDone.addEventListener("click", () => {
    ui.onceValue.textContent = "";
    ui.onceEmail.textContent = "";
    ui.once.hidden = true;
  });

  ui.newAccount.addEventListener("submit", (event) => {
    event.preventDefault();
    const form = ui.newAccount;
    clearInvalid(form);
    const email = form.elements.email.value.trim();
    const password = form.elements.password.value;
    const body = { email, role: form.elements.role.value };
    if (password) body.password = password;
    act(
      ui.createAccount,
      async () => {
        const answer = await api("POST", ACCOUNTS, body);
        form.reset();
        if (answer.password) {
          showOnce(answer.email, answer.password);
          say(`Account created for ${answer.email}.`);
        } else {
          say(`Account created for ${answer.email}, with the password you typed.`);
        }
        await loadAccounts();
      },
      (error) => {
        if (error.status === 409) form.elements.email.setAttribute("aria-invalid", "true");
        else if (/^that is not an email/.test(error.message)) {
          form.elements.email.setAttribute("aria-invalid", "true");
          form.elements.email.focus();
        } else markInvalid(form, error);
      },
    );
  });

  function change(control, path, body, done) {
    return act(control, async () => {
      const answer = await api("POST", path, body);
      state.pending = null;
      renderAccounts();
      await done(answer);
      await loadAccounts();
    });
  }

  function deactivate(account, control) {
    return change(control, `${ACCOUNTS}/${account.id}/deactivate`, {}, () => say(`${account.email} is deactivated and signed out.`));
  }

  function reactivate(account, control) {
    return change(control, `${ACCOUNTS}/${account.id}/reactivate`, {}, () => say(`${account.email} can sign in again.`));
  }

  function resetPassword(account, field, box, control) {
    clearInvalid(box);
    const body = field.value ? { password: field.value } : {};
    return act(
      control,
      async () => {
        const answer = await api("POST", `${ACCOUNTS}/${account.id}/reset-password`, body);
        state.pending = null;
        renderAccounts();
        if (answer.password) showOnce(account.email, answer.password);
        say(`${account.email}'s password is reset and they are signed out.${answer.password ? "" : " The password you typed is the new one."}`);
        await loadAccounts();
      },
      (error) => markInvalid(box, error),
    );
  }

  function resetTwoFactor(account, control) {
    return change(control, `${ACCOUNTS}/${account.id}/reset-two-factor`, {}, () => say(`${account.email}'s two-factor sign-in is off and they are signed out.`));
  }

  function rename(account, field, box, control) {
    clearInvalid(box);
    return act(
      control,
      async () => {
        const answer = await api("POST", `${ACCOUNTS}/${account.id}/name`, { name: field.value });
        state.pending = null;
        renderAccounts();
        say(`${account.email} is now shown as ${answer.name}.`);
        await loadAccounts();
      },
      (error) => markInvalid(box, error),
    );
  }

  function changeRole(account, role, control) {
    return change(control, `${ACCOUNTS}/${account.id}/role`, { role }, () => say(`${account.email} is now ${ROLE_NAMES[role]}.`));
  }

  // -- quick replies and referrals: one list-and-edit for both ---------------------------------------

  const languageNames = new Map(
    [...document.querySelectorAll('#new-quick-reply select[name="language"] option')].map((option) => [option.value, option.textContent]),
  );

  const DIRECTORY = {
    "quick-replies": directory({
      path: "/supervisor/api/quick-replies",
      noun: "quick reply",
      form: $("new-quick-reply"),
      submit: $("add-quick-reply"),
      rows: $("quick-reply-rows"),
      empty: $("quick-reply-empty"),
      title: (item) => item.title,
      fields: [
        { name: "language", label: "Language", choices: languageNames, show: (value) => languageNames.get(value) || value },
        { name: "title", label: "Title", max: 80 },
        { name: "body", label: "Text", max: 640, multiline: true },
      ],
    }),
    referrals: directory({
      path: "/supervisor/api/referrals",
      noun: "referral",
      form: $("new-referral"),
      submit: $("add-referral"),
      rows: $("referral-rows"),
      empty: $("referral-empty"),
      title: (item) => item.name,
      fields: [
        { name: "name", label: "Name", max: 120 },
        { name: "services", label: "Services", max: 400, multiline: true },
        { name: "area", label: "Area", max: 120 },
        { name: "phone", label: "Phone", max: 40 },
        { name: "hours", label: "Hours", max: 120 },
        { name: "language", label: "Languages", max: 40 },
      ],
    }),
  };

  /** The list, the add form and in-place editing of one kind of directory entry. */
  function directory(kind) {
    const local = { items: [], editing: null };
    const columns = kind.fields.length + 2;

    async function load() {
      const answer = await api("GET", kind.path);
      local.items = Array.isArray(answer.items) ? answer.items : [];
      if (local.editing !== null && !local.items.some((item) => item.id === local.editing)) local.editing = null;
      render();
    }

    function render() {
      kind.rows.replaceChildren(...local.items.map((item) => (item.id === local.editing ? editRow(item) : row(item))));
      kind.empty.hidden = local.items.length > 0;
    }

    function row(item) {
      const tr = el("tr", item.active ? "" : "inactive");
      tr.dataset.id = String(item.id);
      for (const field of kind.fields) {
        const value = field.show ? field.show(item[field.name]) : item[field.name];
        tr.append(el("td", field.multiline ? "long-text" : "", value));
      }
      tr.append(el("td", "", el("span", item.active ? "chip available" : "chip away", item.active ? "In use" : "Retired")));
      const title = kind.title(item);
      const actions = el(
        "div",
        "row-actions",
        button("Edit", "secondary", () => {
          local.editing = item.id;
          render();
          const first = kind.rows.querySelector(".edit-row [name]");
          if (first) first.focus();
        }, `Edit ${kind.noun} ${title}`),
        item.active
          ? button("Retire", "danger", (control) => save(control, item, { active: false }, `Retired “${title}”: advocates no longer see it.`), `Retire ${kind.noun} ${title}`)
          : button("Restore", "secondary", (control) => save(control, item, { active: true }, `Restored “${title}”: advocates see it again.`), `Restore ${kind.noun} ${title}`),
      );
      for (const control of actions.querySelectorAll("button")) control.disabled = state.signedOut;
      tr.append(el("td", "", actions));
      return tr;
    }

    function input(field, value) {
      let node;
      if (field.choices) {
        node = document.createElement("select");
        for (const [code, label] of field.choices) node.append(new Option(label, code));
      } else if (field.multiline) {
        node = el("textarea", "");
        node.rows = 3;
      } else {
        node = el("input", "");
        node.type = "text";
      }
      if (field.max) node.maxLength = field.max;
      node.name = field.name;
      node.value = value;
      return node;
    }

    function editRow(item) {
      const box = el("div", "edit-box");
      box.setAttribute("role", "group");
      box.setAttribute("aria-label", `Edit ${kind.noun} ${kind.title(item)}`);
      const fields = el("div", "fields");
      const inputs = kind.fields.map((field) => {
        const node = input(field, item[field.name]);
        fields.append(el("label", field.multiline ? "wide" : "", `${field.label} `, node));
        return node;
      });
      const saveButton = button("Save", "", (control) => {
        const body = {};
        for (const node of inputs) body[node.name] = node.value.trim();
        clearInvalid(box);
        save(control, item, body, `Saved “${kind.title(body)}”.`, box);
      });
      const cancel = button("Cancel", "secondary", () => {
        local.editing = null;
        render();
      });
      box.append(fields, el("div", "line", saveButton, cancel));
      box.addEventListener("keydown", (event) => {
        if (event.key === "Escape") {
          local.editing = null;
          render();
        }
      });
      const cell = el("td", "", box);
      cell.colSpan = columns;
      const tr = el("tr", "edit-row", cell);
      tr.dataset.id = String(item.id);
      return tr;
    }

    function save(control, item, body, message, box) {
      return act(
        control,
        async () => {
          try {
            await api("POST", `${kind.path}/${item.id}`, body);
          } catch (error) {
            if (error instanceof ApiError && error.status === 404) {
              local.editing = null;
              await load();
              throw new ApiError(`That ${kind.noun} no longer exists; the list is reloaded.`, 404);
            }
            throw error;
          }
          local.editing = null;
          say(message);
          await load();
        },
        (error) => {
          if (box) markInvalid(box, error);
        },
      );
    }

    kind.form.addEventListener("submit", (event) => {
      event.preventDefault();
      clearInvalid(kind.form);
      const body = {};
      for (const field of kind.fields) body[field.name] = kind.form.elements[field.name].value.trim();
      act(
        kind.submit,
        async () => {
          await api("POST", kind.path, body);
          const first = kind.form.elements[kind.fields[0].name];
          const keep = first.tagName === "SELECT" ? first.value : null;
          kind.form.reset();
          if (keep !== null) first.value = keep;
          say(`Added ${kind.noun} “${kind.title(body)}”. Advocates see it now.`);
          await load();
        },
        (error) => markInvalid(kind.form, error),
      );
    });

    return { load };
  }

  // -- start -------------------------------------------------------------------------------------------

  show(viewFromHash() || "staff", false);
})();
