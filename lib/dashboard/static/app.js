// The dashboard page: one EventSource for the state (the server sends all of it first, then on
// each change; the browser reconnects by itself), one render per state, buttons that POST to the
// JSON API. Each section is re-rendered only when its HTML changed, and focus is put back on the
// same button, so the page stays usable from the keyboard while it updates.

const $ = (id) => document.getElementById(id);
const esc = (text) => String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const time = (ms) => {
  const d = new Date(ms);
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  const seconds = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  // Lines read back from a log written before the dashboard started carry whole seconds only.
  return ms % 1000 === 0 ? `${seconds}    ` : `${seconds}.${pad(d.getMilliseconds(), 3)}`;
};
const ACTIONS = {
  master: ["stop", "kill", "pause", "resume", "start"],
  worker: ["stop", "kill", "pause", "resume", "start"],
  zookeeper: ["stop", "start"],
};
const cap = (word) => word[0].toUpperCase() + word.slice(1);

/** Replaces a section's HTML when it changed, keeping the keyboard focus where it was. */
function put(id, html) {
  putInto($(id), html);
}

function putInto(element, html) {
  if (element.dataset.html === html) return;
  const focused = document.activeElement?.getAttribute("aria-label");
  element.innerHTML = html;
  element.dataset.html = html;
  if (focused) element.querySelector(`[aria-label="${CSS.escape(focused)}"]`)?.focus();
}

function buttons(service) {
  const enabled = {
    stop: service.process !== "stopped",
    kill: service.process !== "stopped",
    pause: service.process === "running",
    resume: service.process === "paused",
    start: service.process === "stopped" || service.process === "unknown",
  };
  return ACTIONS[service.kind].map((action) =>
    `<button type="button" class="act ${action}" data-action="${action}" data-target="${
      esc(service.name)
    }" aria-label="${cap(action)} ${esc(service.name)}"${enabled[action] ? "" : " disabled"}>${
      cap(action)
    }</button>`
  ).join("");
}

function fact(label, value, cls = "") {
  return value === undefined || value === ""
    ? ""
    : `<dt>${label}</dt><dd class="${cls}">${esc(value)}</dd>`;
}

function card(service, state) {
  const health = service.health;
  const healthText = health ? `${health.ok ? "ok" : "DOWN"}: ${health.detail}` : "…";
  const processText = service.process === "paused" ? "PAUSED (SIGSTOP)" : service.process;
  let badge, body;
  if (service.kind === "master") {
    const role = service.role ?? "none";
    badge = role === "leader" ? "★ LEADER" : role === "follower" ? "follower" : "not in election";
    // A stopped process has no session: its last log line about one is history.
    const session = service.process === "stopped" ? undefined : service.session;
    body = fact("epoch", service.epoch) + fact("why", service.reason) +
      fact("session", session) +
      fact("lease", role === "leader" ? lease(service) : undefined);
  } else {
    const ok = health?.ok ? "ok" : "down";
    badge = ok === "ok" ? "✓ up" : "✗ down";
    if (service.kind === "zookeeper") {
      body = fact("mode", service.mode) + fact("last zxid", service.zxid);
    } else {
      const tasks = (service.tasks ?? []).map((t) => t.id).join(", ");
      const refusals = (service.refusals ?? []).map((r) =>
        `<li class="refusal">✗ ${time(r.at)} ${esc(r.text)}</li>`
      ).join("");
      body = fact("accepts epoch ≥", service.acceptedEpoch) + fact("recent tasks", tasks) +
        (refusals ? `<dt>refused</dt><dd><ul class="refusals">${refusals}</ul></dd>` : "");
    }
  }
  const stale = !state.zookeeper.connected && service.kind === "master" ? " stale" : "";
  const role = service.kind === "master" ? service.role ?? "none" : health?.ok ? "ok" : "down";
  return {
    className: `card ${service.kind} is-${role} process-${service.process}${stale}`,
    attribute: service.kind === "master" ? ["data-role", role] : ["data-health", role],
    info: `<h3>${esc(service.name)} <span class="badge">${badge}</span></h3>
    <dl>${fact("address", service.address)}${fact("process", processText)}${
      fact("health", healthText, health?.ok ? "" : "bad")
    }${body}</dl>`,
    buttons: buttons(service),
  };
}

/**
 * One card per service, made once and then updated in place: its buttons are replaced only when
 * their state changes, so a click is never lost to a re-render.
 */
function renderServices(state) {
  const container = $("services");
  const names = state.services.map((service) => service.name);
  for (const element of [...container.children]) {
    if (!names.includes(element.dataset.service)) element.remove();
  }
  for (const service of state.services) {
    let element = container.querySelector(`[data-service="${CSS.escape(service.name)}"]`);
    if (!element) {
      element = document.createElement("article");
      element.dataset.service = service.name;
      element.setAttribute("aria-label", service.name);
      element.innerHTML = `<div class="info"></div><div class="buttons"></div>`;
      container.append(element);
    }
    const view = card(service, state);
    element.className = view.className;
    element.setAttribute(...view.attribute);
    putInto(element.querySelector(".info"), view.info);
    putInto(element.querySelector(".buttons"), view.buttons);
  }
}

function lease(service) {
  if (service.process === "paused") return "in doubt: paused, its session is timing out";
  if (service.session === "disconnected") return "lapsing: disconnected from ZooKeeper";
  return "holds (connected, leading)";
}

function chain(state) {
  if (state.chain.length === 0 && state.ignored.length === 0) {
    return `<p class="empty">No node under ${esc(state.electionPath ?? "the election path")}${
      state.zookeeper.connected ? "" : " (as last seen: ZooKeeper is down)"
    }</p>`;
  }
  const nodes = state.chain.map((node, index) => {
    const arrow = index === 0
      ? ""
      : `<div class="arrow" aria-label="${esc(node.name)} watches ${
        esc(state.chain[index - 1].name)
      }">◀ watches</div>`;
    return `${arrow}<div class="node ${index === 0 ? "lead" : ""}" data-node="${esc(node.node)}">
      <strong>#${index + 1} ${esc(node.name)} ${index === 0 ? "★ leader" : "follower"}</strong>
      <code>${esc(node.node)}</code>
      <span>epoch (czxid) ${esc(node.epoch)}</span><span>session ${esc(node.owner)}</span>
    </div>`;
  }).join("");
  const ignored = state.ignored.map((name) =>
    `<div class="node junk" data-junk="${esc(name)}"><code>${esc(name)}</code>
      <span>ignored: not a master's node</span></div>`
  ).join("");
  const stale = state.zookeeper.connected
    ? ""
    : `<p class="bad">As last seen: ZooKeeper is down</p>`;
  return `${stale}<div class="chain">${nodes}</div>${
    ignored ? `<div class="chain">${ignored}</div>` : ""
  }`;
}

function timeline(failover) {
  if (!failover) return `<p class="empty">No leader change seen yet: try Stop on the leader.</p>`;
  const steps = failover.steps;
  const end = Math.max(1, failover.totalMs ?? steps.at(-1).offsetMs);
  const width = 900, left = 10, right = 14, row = 24;
  const scale = (ms) => left + (ms / end) * (width - left - right);
  const rows = steps.map((step, index) => {
    const y = 18 + index * row;
    const x = scale(step.offsetMs);
    return `<g class="step ${step.kind}" data-step="${step.kind}" data-offset="${step.offsetMs}">
      <line x1="${left}" y1="${y}" x2="${x.toFixed(1)}" y2="${y}"/>
      <circle cx="${x.toFixed(1)}" cy="${y}" r="5"/>
      <text x="${(x > width * 0.55 ? x - 10 : x + 10).toFixed(1)}" y="${y + 4}" text-anchor="${
      x > width * 0.55 ? "end" : "start"
    }">+${step.offsetMs} ms  ${esc(step.label)}</text>
    </g>`;
  }).join("");
  const height = 24 + steps.length * row;
  const total = failover.totalMs === undefined
    ? `under way: ${esc(failover.from)} → ${esc(failover.to ?? "?")}`
    : `${failover.totalMs} ms from the fault to the worker accepting ${esc(failover.to)}`;
  return `<p class="total">${total}</p>
    <svg viewBox="0 0 ${width} ${height}" width="100%" role="img"
      aria-label="Failover timeline: ${
    esc(steps.map((s) => `${s.label} at ${s.offsetMs} ms`).join("; "))
  }">
      <line class="axis" x1="${left}" y1="4" x2="${left}" y2="${height - 4}"/>${rows}</svg>
    <ol class="steps">${
    steps.map((s) => `<li data-step="${s.kind}">+${s.offsetMs} ms: ${esc(s.label)}</li>`).join("")
  }</ol>`;
}

function history(items) {
  if (items.length === 0) return "";
  const longest = Math.max(...items.map((item) => item.totalMs), 1);
  return `<h3>Earlier failovers</h3><ul class="strip">${
    items.map((item) =>
      `<li><span class="bar" style="width:${Math.max(2, (item.totalMs / longest) * 100)}%"></span>
      ${item.totalMs} ms · ${esc(item.from)} → ${esc(item.to)} (${esc(item.cause)}) at ${
        time(item.at)
      }</li>`
    ).join("")
  }</ul>`;
}

function events(list) {
  return list.slice(0, 80).map((event) =>
    `<li class="${event.level}"><time>${time(event.at)}</time> <b>${esc(event.service)}</b> ${
      event.level === "info" ? "" : `<span class="level">${event.level.toUpperCase()}</span> `
    }${esc(event.text)}</li>`
  ).join("");
}

function render(state) {
  globalThis.dashboardState = state;
  $("lab-line").textContent = state.lab.message;
  const banner = !state.lab.up
    ? state.lab.message
    : state.zookeeper.connected
    ? ""
    : `${state.zookeeper.message}. The page keeps trying and catches up by itself.`;
  $("banner").hidden = banner === "";
  $("banner").textContent = banner;
  $("banner").className = state.lab.up ? "zk-down" : "no-lab";
  renderServices(state);
  put("chain", chain(state));
  put("timeline", timeline(state.failover));
  put("history", history(state.history));
  put("events", events(state.events));
}

async function post(path, body) {
  $("result").textContent = `${path.split("/").slice(-2).join(" ")}: sent…`;
  try {
    const response = await fetch(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body ?? {}),
    });
    const answer = await response.json();
    $("result").textContent = answer.message ?? `Error ${response.status}: ${answer.error}`;
    $("result").className = response.ok ? "" : "bad";
  } catch (error) {
    $("result").textContent = `The dashboard did not answer: ${error.message}`;
    $("result").className = "bad";
  }
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  post(`/api/services/${encodeURIComponent(button.dataset.target)}/${button.dataset.action}`);
});
$("submit-form").addEventListener("submit", (event) => {
  event.preventDefault();
  post("/api/lab/submit", { message: $("task-message").value });
});
$("failover-button").addEventListener("click", () => post("/api/lab/failover"));

const source = new EventSource("/api/events");
source.addEventListener("state", (event) => {
  $("connection").textContent = "● live";
  $("connection").className = "pill ok";
  render(JSON.parse(event.data));
});
source.addEventListener("error", () => {
  $("connection").textContent = "○ reconnecting to the dashboard…";
  $("connection").className = "pill bad";
});
