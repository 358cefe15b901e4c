// The demo's own page behaviour: starting the client with the transport the switcher chose,
// the transport badge, error toasts, the playground's event log, numbered clicks and ping, and
// clearing the todo form after a successful add. Plain DOM events, no framework.
(() => {
  "use strict";

  const badge = () => document.getElementById("transport-badge");

  function showTransport(state, transport) {
    const el = badge();
    if (!el) return;
    el.dataset.state = state;
    el.textContent = state === "connected" ? transport : state === "disconnected" ? "offline" : "connecting…";
  }

  function onConnected(event) {
    const transport = (event.detail && event.detail.transport) || (window.Sockpuppet && window.Sockpuppet.transport);
    showTransport("connected", transport || "connected");
  }

  function onDisconnected() {
    showTransport("disconnected");
  }

  // Connection events may be dispatched on document or window: listen on both (idempotent).
  for (const target of [document, window]) {
    target.addEventListener("sockpuppet:connected", onConnected);
    target.addEventListener("sockpuppet:reconnected", onConnected);
    target.addEventListener("sockpuppet:disconnected", onDisconnected);
  }

  function toast(message, kind) {
    const box = document.getElementById("toasts");
    if (!box) return;
    const item = document.createElement("div");
    item.className = `toast toast-${kind}`;
    item.setAttribute("role", kind === "error" ? "alert" : "status");
    item.textContent = message;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "✕";
    close.addEventListener("click", () => item.remove());
    item.append(close);
    box.append(item);
    setTimeout(() => item.remove(), 8000);
  }

  const describe = (detail) => (detail && detail.target) || "reflex";
  const errorMessage = (detail) =>
    (detail && (detail.error || detail.message)) || "The reflex failed.";

  document.addEventListener("sockpuppet:error", (event) => {
    toast(errorMessage(event.detail), "error");
  });
  document.addEventListener("sockpuppet:forbidden", (event) => {
    toast(`${describe(event.detail)} was forbidden.`, "warning");
  });

  function logEvent(event) {
    const log = document.getElementById("event-log");
    if (!log) return;
    const name = event.type.replace("sockpuppet:", "");
    const item = document.createElement("li");
    item.className = `event event-${name}`;
    item.textContent = `${name} ${describe(event.detail)}`;
    log.prepend(item);
    while (log.children.length > 12) log.lastElementChild.remove();
  }
  for (const name of ["success", "error", "halted", "forbidden"]) {
    document.addEventListener(`sockpuppet:${name}`, logEvent);
  }

  // Morphs keep the text of the focused field, so a form marked data-demo-reset is cleared
  // after its reflex succeeds, unless the server answered with a validation error.
  document.addEventListener("sockpuppet:success", (event) => {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.hasAttribute("data-demo-reset") && !form.querySelector(".field-error")) {
      form.reset();
    }
  });

  // A button marked data-demo-sequence carries the next number in data-seq: each reflex it
  // starts (the number is already in the message by then) moves it on by one.
  document.addEventListener("sockpuppet:before", (event) => {
    const el = event.target;
    if (el instanceof HTMLElement && el.hasAttribute("data-demo-sequence")) {
      el.dataset.seq = String(Number(el.dataset.seq || "0") + 1);
    }
  });

  // The playground's Ping: the time from a reflex's start to its (empty) answer.
  const pings = new Map();
  document.addEventListener("sockpuppet:before", (event) => {
    if (event.detail && event.detail.target === "PlaygroundReflex#ping") pings.set(event.detail.reflexId, performance.now());
  });
  document.addEventListener("sockpuppet:nothing", (event) => {
    const started = event.detail && pings.get(event.detail.reflexId);
    if (started === undefined) return;
    pings.delete(event.detail.reflexId);
    const output = document.getElementById("round-trip");
    if (output) output.textContent = `${(performance.now() - started).toFixed(1)} ms`;
  });

  // The transport switcher: ?transport=websocket|sse|longpoll forces one transport for this
  // tab (kept in sessionStorage, so it follows the visitor through the demo), ?transport=auto
  // lets the client pick again. base.html renders {% sockpuppet_scripts autostart=False %}:
  // the client connects here, once, with the choice.
  const CHOICE_KEY = "sockpuppet-demo:transport";

  function chosenTransport(allowed) {
    const asked = new URLSearchParams(window.location.search).get("transport");
    let kept = null;
    try {
      if (asked === "auto") sessionStorage.removeItem(CHOICE_KEY);
      else if (allowed.includes(asked)) sessionStorage.setItem(CHOICE_KEY, asked);
      kept = sessionStorage.getItem(CHOICE_KEY);
    } catch {
      kept = asked; // no storage: the choice lasts for this page only
    }
    return allowed.includes(kept) ? kept : null;
  }

  function start() {
    const sp = window.Sockpuppet;
    if (!sp) return;
    const allowed = (sp.config && sp.config.transports) || [];
    const choice = chosenTransport(allowed);
    for (const link of document.querySelectorAll("#transport-switcher [data-transport]")) {
      const name = link.dataset.transport;
      if (name === (choice || "auto")) link.setAttribute("aria-current", "true");
      else link.removeAttribute("aria-current");
      if (name !== "auto" && !allowed.includes(name)) {
        link.setAttribute("aria-disabled", "true");
        link.title = `The server does not allow ${name} (SOCKPUPPET["TRANSPORTS"])`;
      }
    }
    sp.start(choice ? { transports: [choice] } : {});
  }

  function init() {
    const sp = window.Sockpuppet;
    if (sp && sp.connected && sp.transport) showTransport("connected", sp.transport);
  }
  // The client's script comes after this one (both deferred): it is there by DOMContentLoaded.
  if (window.Sockpuppet) start();
  else document.addEventListener("DOMContentLoaded", start, { once: true });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
