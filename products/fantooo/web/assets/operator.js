// Fantooo operator console: the waiting room's live queue and chat list,
// and the chat console's templates, notes and idle warnings.
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  // Toasts come from app.js, which every page loads first.
  function toast(text, kind) { if (window.fantoooToast) window.fantoooToast(text, kind); }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  // ---------------------------------------------------------------- waiting room
  var room = document.getElementById("op-room");
  if (room) {
    var queueList = document.getElementById("queue-list");
    var heldList = document.getElementById("held-list");

    var hiddenInput = function (name, value) {
      var i = document.createElement("input");
      i.type = "hidden"; i.name = name; i.value = value;
      return i;
    };

    var renderQueue = function (rows) {
      queueList.textContent = "";
      if (!rows.length) { queueList.appendChild(el("li", "empty-state", "Nobody is waiting.")); return; }
      rows.forEach(function (q) {
        var li = el("li", "op-item");
        li.dataset.chatId = q.chat_id; li.dataset.waiting = q.waiting_secs;
        li.appendChild(el("span", "badge priority-" + q.priority, q.priority));
        var main = el("span", "op-item-main");
        main.appendChild(el("strong", null, q.user_name));
        main.appendChild(document.createTextNode(" with " + q.profile_name));
        main.appendChild(el("span", "muted op-preview", q.last_message || ""));
        li.appendChild(main);
        li.appendChild(el("span", "op-timer", q.waiting_secs + " s"));
        if (q.may_take) {
          var f = el("form", "inline");
          f.method = "post"; f.action = "/operator/accept";
          f.appendChild(hiddenInput("csrf_token", csrf));
          f.appendChild(hiddenInput("chat_id", q.chat_id));
          var b = el("button", "btn btn-secondary btn-sm", "Take"); b.type = "submit";
          f.appendChild(b);
          li.appendChild(f);
        }
        queueList.appendChild(li);
      });
    };

    var renderHeld = function (rows) {
      heldList.textContent = "";
      if (!rows.length) { heldList.appendChild(el("li", "empty-state", "No chats yet. Go online and they will come to you.")); return; }
      rows.forEach(function (h) {
        var li = el("li", "op-item state-" + h.state);
        li.dataset.chatId = h.chat_id;
        if (h.waiting_secs !== null && h.waiting_secs !== undefined) li.dataset.waiting = h.waiting_secs;
        var a = el("a"); a.href = "/operator/chat/" + h.chat_id;
        a.appendChild(el("strong", null, h.user_name));
        a.appendChild(document.createTextNode(" with " + h.profile_name));
        li.appendChild(a);
        li.appendChild(el("span", "op-timer", h.waiting_secs === null || h.waiting_secs === undefined ? "answered" : "waiting " + h.waiting_secs + " s"));
        heldList.appendChild(li);
      });
    };

    var refresh = function () {
      fetch("/api/operator/queue", { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (d) {
          renderQueue(d.queue);
          renderHeld(d.chats);
          var s = document.getElementById("stat-queue"); if (s) s.textContent = d.queue_total;
          var c = document.getElementById("stat-chats"); if (c) c.textContent = d.operator.current_chats + " / " + d.operator.max_chats;
        })
        .catch(function () {});
    };

    // Timers tick locally between refreshes.
    setInterval(function () {
      document.querySelectorAll(".op-item[data-waiting]").forEach(function (li) {
        var s = (parseInt(li.dataset.waiting, 10) || 0) + 1;
        li.dataset.waiting = s;
        var t = li.querySelector(".op-timer");
        if (t) t.textContent = (li.closest("#held-list") ? "waiting " : "") + s + " s";
        if (li.closest("#held-list")) {
          var warn = parseInt(room.dataset.warning, 10) || 150;
          li.classList.toggle("state-warning", s >= warn / 2 && s < warn);
          li.classList.toggle("state-idle", s >= warn);
        }
      });
    }, 1000);

    var backoff = 1000;
    var connect = function () {
      var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
      var ping = null;
      ws.onopen = function () {
        backoff = 1000; room.dataset.live = "1"; refresh();
        ping = setInterval(function () { if (ws.readyState === 1) ws.send('{"t":"ping"}'); }, 15000);
      };
      ws.onmessage = function (e) {
        var ev; try { ev = JSON.parse(e.data); } catch (_) { return; }
        if (ev.t === "queue") refresh();
        if (ev.t === "assigned") { toast("A new chat is yours.", "success"); refresh(); }
        if (ev.t === "taken_away") { toast("A chat was reassigned (" + ev.reason + ").", "error"); refresh(); }
        if (ev.t === "idle_warning") { toast("Reply now: a chat will be reassigned in " + ev.seconds_left + " s.", "error"); refresh(); }
      };
      ws.onclose = function () {
        room.dataset.live = ""; clearInterval(ping);
        setTimeout(connect, Math.min(backoff, 30000) * (0.75 + Math.random() * 0.5));
        backoff = Math.min(backoff * 2, 30000);
      };
    };
    connect();
  }

  // ---------------------------------------------------------------- console
  var consoleEl = document.getElementById("console");
  if (consoleEl) {
    var chatId = consoleEl.dataset.chatId;
    var input = document.getElementById("content");
    document.querySelectorAll(".template-btn").forEach(function (b) {
      b.addEventListener("click", function () {
        if (!input) return;
        var start = input.selectionStart || input.value.length;
        input.value = input.value.slice(0, start) + b.dataset.template + input.value.slice(input.selectionEnd || start);
        input.focus();
        input.dispatchEvent(new Event("input"));
      });
    });
    document.querySelectorAll("[data-clear]").forEach(function (b) {
      b.addEventListener("click", function () { var t = document.getElementById(b.dataset.clear); if (t) { t.value = ""; t.focus(); } });
    });
    document.querySelectorAll("form.notes-form").forEach(function (f) {
      f.addEventListener("submit", function (e) {
        e.preventDefault();
        var field = f.dataset.notes;
        var body = {}; body[field] = document.getElementById(field).value;
        var state = f.querySelector(".notes-state");
        fetch("/api/operator/chats/" + chatId + "/notes", {
          method: "PUT", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept": "application/json" },
          body: JSON.stringify(body)
        }).then(function (r) {
          if (state) state.textContent = r.ok ? "Saved" : "Not saved";
        }).catch(function () { if (state) state.textContent = "Not saved"; });
      });
    });
    var banner = document.getElementById("idle-warning");
    document.addEventListener("fantooo:ws", function (e) {
      var ev = e.detail;
      if (ev.chat_id !== chatId) return;
      if (ev.t === "idle_warning" && banner) {
        banner.hidden = false;
        banner.textContent = "The user is waiting: reply within " + ev.seconds_left + " s or this chat is reassigned.";
      }
      if (ev.t === "message" && ev.message && ev.message.sender_type === "fictional" && banner) banner.hidden = true;
      if (ev.t === "taken_away") {
        location.href = "/operator/waiting?error=" + encodeURIComponent("This chat was reassigned (" + ev.reason + ").");
      }
    });
  }
})();
