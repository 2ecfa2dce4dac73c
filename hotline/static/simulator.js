// The texting simulator: simulated phones that text the hotline through its real webhook.
// Every text is put on the page with textContent, never as HTML. Phones are named by the
// server's id in URLs; their numbers travel only in JSON bodies.
"use strict";

(() => {
  const POLL_MS = 1000;
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrfToken = csrfMeta ? csrfMeta.getAttribute("content") : "";
  const phonesEl = document.getElementById("phones");
  const template = document.getElementById("phone-template");
  const statusEl = document.getElementById("sim-status");
  const addButton = document.getElementById("add-phone");
  const maxBody = Number(phonesEl.dataset.maxBody) || 1600;
  const phones = new Map(); // phone id -> its view
  let pollTimer = null;

  function say(message, kind) {
    statusEl.textContent = message;
    statusEl.classList.toggle("error", kind === "error");
  }

  async function api(method, path, body) {
    const options = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (method !== "GET") {
      options.headers["X-CSRF-Token"] = csrfToken;
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body || {});
    }
    const response = await fetch(path, options);
    let payload = null;
    try {
      payload = await response.json();
    } catch (_error) {
      payload = null;
    }
    if (!response.ok) {
      throw new Error((payload && payload.error) || `the simulator answered HTTP ${response.status}`);
    }
    return payload;
  }

  function spaced(number) {
    // +15550123456 -> +1 555 012 3456
    const match = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(number);
    return match ? `+1 ${match[1]} ${match[2]} ${match[3]}` : number;
  }

  function clock(iso) {
    const at = new Date(iso);
    return Number.isNaN(at.getTime()) ? "" : at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  // A hotline reply shows up on the phone once the carrier reports it delivered.
  function visible(message) {
    return message.author === "texter" || message.status === "delivered" || message.status === "read";
  }

  function metaText(message) {
    const at = clock(message.at);
    if (message.author === "hotline") return `Delivered ${at}`;
    const answers = message.answers || [];
    if (message.status !== "received") {
      return `Not taken: ${answers[answers.length - 1] || "no answer"} · ${at}`;
    }
    if (answers.length > 1) return `Sent ${at} · delivered ${answers.length}× (same MessageSid)`;
    return `Sent ${at}`;
  }

  function bubble(message) {
    const item = document.createElement("li");
    item.className = `bubble ${message.author === "hotline" ? "from-hotline" : "from-texter"}`;
    item.dataset.id = message.id;
    const body = document.createElement("p");
    body.className = "bubble-body";
    body.textContent = message.body;
    const meta = document.createElement("span");
    meta.className = "bubble-meta";
    item.append(body, meta);
    return item;
  }

  function render(view, messages) {
    let added = false;
    let position = 0;
    for (const message of messages) {
      if (!visible(message)) continue;
      let item = view.bubbles.get(message.id);
      if (!item) {
        item = bubble(message);
        view.bubbles.set(message.id, item);
        added = true;
      }
      const meta = item.querySelector(".bubble-meta");
      const text = metaText(message);
      if (meta.textContent !== text) meta.textContent = text;
      item.classList.toggle("refused", message.author === "texter" && message.status !== "received");
      const current = view.thread.children[position];
      if (current !== item) view.thread.insertBefore(item, current || null);
      position += 1;
    }
    view.empty.hidden = position > 0;
    view.replay.disabled = !messages.some((m) => m.author === "texter");
    if (added) view.thread.scrollTop = view.thread.scrollHeight;
  }

  async function refresh(view) {
    const answer = await api("GET", `/simulator/api/phones/${view.id}/messages`);
    render(view, answer.messages);
  }

  async function act(view, action) {
    view.root.classList.add("busy");
    try {
      await action();
      await refresh(view);
      say("");
    } catch (error) {
      say(error.message, "error");
    } finally {
      view.root.classList.remove("busy");
    }
  }

  // The carrier reports a reply delivered about half a second after the hotline sends it: look
  // once more just after that, rather than leave it to the next poll.
  const SOON_AFTER_SENDING_MS = 700;

  async function sendText(view, text) {
    await act(view, () => api("POST", `/simulator/api/phones/${view.id}/texts`, { body: text }));
    window.setTimeout(() => refresh(view).catch(() => {}), SOON_AFTER_SENDING_MS);
  }

  function mount(phone) {
    if (phones.has(phone.id)) return phones.get(phone.id);
    const root = template.content.firstElementChild.cloneNode(true);
    const view = {
      id: phone.id,
      root,
      thread: root.querySelector(".thread"),
      empty: root.querySelector(".thread-empty"),
      replay: root.querySelector(".replay"),
      bubbles: new Map(),
    };
    root.dataset.phoneId = String(phone.id);
    root.setAttribute("aria-label", `Phone ${spaced(phone.number)}`);
    root.querySelector(".phone-number").textContent = spaced(phone.number);
    const input = root.querySelector(".compose-text");
    input.maxLength = maxBody;
    root.querySelector(".compose").addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = input.value;
      if (!text.trim()) {
        input.focus();
        return;
      }
      input.value = "";
      await sendText(view, text);
      input.focus();
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        root.querySelector(".compose").requestSubmit();
      }
    });
    for (const key of root.querySelectorAll(".key")) {
      key.addEventListener("click", () => sendText(view, key.dataset.text));
    }
    view.replay.addEventListener("click", () =>
      act(view, () => api("POST", `/simulator/api/phones/${view.id}/replay`)),
    );
    root.querySelector(".phone-remove").addEventListener("click", async () => {
      try {
        await api("DELETE", `/simulator/api/phones/${view.id}`);
        phones.delete(view.id);
        root.remove();
      } catch (error) {
        say(error.message, "error");
      }
    });
    phones.set(phone.id, view);
    phonesEl.append(root);
    return view;
  }

  async function addPhone() {
    try {
      const phone = await api("POST", "/simulator/api/phones", {});
      const view = mount(phone);
      view.root.querySelector(".compose-text").focus();
      say("");
    } catch (error) {
      say(error.message, "error");
    }
  }

  async function poll() {
    try {
      const answer = await api("GET", "/simulator/api/phones");
      const known = new Set(answer.phones.map((p) => p.id));
      for (const phone of answer.phones) mount(phone);
      for (const [id, view] of phones) {
        if (!known.has(id)) {
          view.root.remove();
          phones.delete(id);
          continue;
        }
        await refresh(view);
      }
      if (statusEl.classList.contains("offline")) {
        statusEl.classList.remove("offline");
        say("");
      }
    } catch (error) {
      statusEl.classList.add("offline");
      say(`Cannot reach the hotline: ${error.message}`, "error");
    }
    pollTimer = window.setTimeout(poll, POLL_MS);
  }

  async function start() {
    addButton.addEventListener("click", addPhone);
    try {
      const answer = await api("GET", "/simulator/api/phones");
      for (const phone of answer.phones) mount(phone);
      if (answer.phones.length === 0) await addPhone();
    } catch (error) {
      say(error.message, "error");
    }
    if (pollTimer === null) poll();
  }

  start();
})();
