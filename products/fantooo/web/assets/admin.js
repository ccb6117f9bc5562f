// Back office live layer: one WebSocket per tab. Admin connections get
// {"t":"alert"} for every admin notification (toast + unread badge) and
// {"t":"queue"} whenever the queue changes (the live grid reloads its
// rows). Grid timers tick locally between updates. Pages work without it.
(function () {
  "use strict";
  var badge = document.querySelector("[data-unread-badge]");
  var grid = document.getElementById("live-grid");
  var unread = 0;

  function setUnread(n) {
    unread = n;
    if (!badge) return;
    badge.textContent = String(n);
    badge.hidden = n === 0;
    var count = document.querySelector("[data-unread-count]");
    if (count) count.textContent = String(n);
  }

  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); });
  }

  getJSON("/api/admin/notifications?unread=true").then(function (d) { setUnread(d.unread || 0); }).catch(function () {});

  function fmt(s) { return Math.floor(s / 60) + "m " + (s % 60) + "s"; }

  function classify(row, secs) {
    if (!grid) return;
    var state = row.getAttribute("data-state");
    if (state === "waiting" || state === "escalated" || secs === null) return;
    var warn = parseInt(grid.getAttribute("data-warning"), 10), idle = parseInt(grid.getAttribute("data-idle"), 10);
    var next = secs >= idle ? "idle" : secs >= warn ? "warning" : "active";
    if (next !== state) {
      row.setAttribute("data-state", next);
      row.className = "live-" + next;
      var pill = row.querySelector(".live-pill");
      if (pill) pill.textContent = next;
    }
  }

  function renderGrid(data) {
    var body = grid.querySelector("tbody");
    body.textContent = "";
    data.chats.forEach(function (c) {
      var tr = document.createElement("tr");
      tr.className = "live-" + c.state;
      tr.setAttribute("data-state", c.state);
      tr.setAttribute("data-chat", c.id);
      if (c.waiting_secs !== null && c.waiting_secs !== undefined) tr.setAttribute("data-waiting", String(c.waiting_secs));
      var a = document.createElement("a");
      a.href = "/admin/chats/" + c.id;
      a.textContent = c.username + " ↔ " + c.profile_name;
      var cells = [a, document.createTextNode(c.operator_name || "queue")];
      var pill = document.createElement("span");
      pill.className = "status-pill live-pill";
      pill.textContent = c.state;
      cells.push(pill);
      cells.push(document.createTextNode(c.waiting_secs == null ? "—" : fmt(c.waiting_secs)));
      cells.forEach(function (node, i) {
        var td = document.createElement("td");
        if (i === 3) { td.className = "mono"; td.setAttribute("data-timer", ""); }
        td.appendChild(node);
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    var q = document.querySelector("[data-live-queue]");
    if (q) q.textContent = String(data.queue_length);
    var n = document.querySelector("[data-live-count]");
    if (n) n.textContent = String(data.chats.length);
  }

  var refreshing = false;
  function refreshGrid() {
    if (!grid || refreshing) return;
    refreshing = true;
    getJSON(grid.getAttribute("data-live-api")).then(renderGrid).catch(function () {}).then(function () { refreshing = false; });
  }

  if (grid) {
    setInterval(function () {
      grid.querySelectorAll("tr[data-waiting]").forEach(function (row) {
        var s = parseInt(row.getAttribute("data-waiting"), 10) + 1;
        row.setAttribute("data-waiting", String(s));
        var t = row.querySelector("[data-timer]");
        if (t) t.textContent = fmt(s);
        classify(row, s);
      });
    }, 1000);
    // Activity notes keep it fresh; a slow re-read covers a lost connection.
    setInterval(refreshGrid, 15000);
  }

  var delay = 1000;
  var pendingGrid = null;
  function connect() {
    var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
    var ping;
    ws.onopen = function () {
      delay = 1000;
      ping = setInterval(function () { ws.send(JSON.stringify({ t: "ping" })); }, 15000);
    };
    ws.onmessage = function (e) {
      var m;
      try { m = JSON.parse(e.data); } catch (err) { return; }
      if (m.t === "alert") {
        setUnread(unread + 1);
        if (window.fantoooToast) window.fantoooToast(m.message, "error");
      } else if (m.t === "queue") {
        refreshGrid();
      } else if (m.t === "chat_activity") {
        // Busy sites send many of these: re-read the grid at most every 2 s.
        if (!pendingGrid) { pendingGrid = setTimeout(function () { pendingGrid = null; refreshGrid(); }, 2000); }
      }
    };
    ws.onclose = function () {
      clearInterval(ping);
      setTimeout(connect, delay + Math.random() * 500);
      delay = Math.min(delay * 2, 30000);
    };
  }
  if (window.WebSocket && document.querySelector("[data-admin-live]")) connect();

  // After an action (a form posts and the page comes back with its
  // notice), the reader stays where they were: the page's scroll and the
  // inspector's conversation are put back. Without a saved place the
  // conversation opens at its newest message.
  var KEY = "fantooo:admin-scroll";
  var convo = document.querySelector(".inspector .messages");
  document.addEventListener("submit", function (e) {
    var f = e.target;
    if (e.defaultPrevented || !f.closest || !f.closest(".admin-content") || (f.method || "").toLowerCase() !== "post") return;
    try {
      sessionStorage.setItem(KEY, JSON.stringify({ path: location.pathname, y: window.scrollY, convo: convo ? convo.scrollTop : null }));
    } catch (err) { /* storage off: nothing to restore */ }
  });
  var saved = null;
  try { saved = JSON.parse(sessionStorage.getItem(KEY) || "null"); sessionStorage.removeItem(KEY); } catch (err) { saved = null; }
  if (saved && saved.path === location.pathname) {
    if (convo && saved.convo !== null) convo.scrollTop = saved.convo;
    window.scrollTo(0, saved.y);
    document.documentElement.setAttribute("data-scroll-restored", String(saved.y));
  } else if (convo) {
    convo.scrollTop = convo.scrollHeight;
  }
})();
