// Fantooo operator console: the waiting room's live queue and chat list,
// and the chat console's templates, notes and idle warnings.
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  // Toasts come from app.js, which every page loads first.
  function toast(text, kind) { if (window.fantoooToast) window.fantoooToast(text, kind); }

  // Seconds as a clock reads them: 2:30.
  function clock(s) {
    s = Math.max(0, s | 0);
    var h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, sec = s % 60;
    return (h ? h + ":" + ("0" + m).slice(-2) : m) + ":" + ("0" + sec).slice(-2);
  }

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
        li.appendChild(el("span", "op-timer", "waiting " + clock(q.waiting_secs)));
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
        var waiting = h.waiting_secs !== null && h.waiting_secs !== undefined;
        if (waiting) li.dataset.waiting = h.waiting_secs;
        var a = el("a"); a.href = "/operator/chat/" + h.chat_id;
        a.appendChild(el("strong", null, h.user_name));
        a.appendChild(document.createTextNode(" with " + h.profile_name));
        li.appendChild(a);
        if (h.user_waiting_secs !== null && h.user_waiting_secs !== undefined) {
          li.dataset.userWaiting = h.user_waiting_secs;
          var w = el("span", "op-wait", "waiting ");
          w.appendChild(el("span", null, clock(h.user_waiting_secs))).setAttribute("data-user-timer", "");
          li.appendChild(w);
        }
        li.appendChild(el("span", "op-timer", waiting ? "reply clock " + clock(h.waiting_secs) + " / " + clock(reassignAt) : "answered"));
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

    // Timers tick locally between refreshes; the colours follow the idle
    // check's thresholds (warning, then taken away).
    var warnAt = parseInt(room.dataset.warning, 10) || 150;
    var reassignAt = parseInt(room.dataset.reassign, 10) || 180;
    setInterval(function () {
      document.querySelectorAll(".op-item[data-waiting]").forEach(function (li) {
        var s = (parseInt(li.dataset.waiting, 10) || 0) + 1;
        li.dataset.waiting = s;
        var t = li.querySelector(".op-timer");
        var held = !!li.closest("#held-list");
        if (t) t.textContent = held ? "reply clock " + clock(s) + " / " + clock(reassignAt) : "waiting " + clock(s);
        if (held) {
          li.classList.toggle("state-warning", s >= warnAt && s < reassignAt);
          li.classList.toggle("state-idle", s >= reassignAt);
          li.classList.toggle("state-active", s < warnAt);
        }
      });
      document.querySelectorAll(".op-item[data-user-waiting]").forEach(function (li) {
        var s = (parseInt(li.dataset.userWaiting, 10) || 0) + 1;
        li.dataset.userWaiting = s;
        var t = li.querySelector("[data-user-timer]");
        if (t) t.textContent = clock(s);
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
    // The reply clock: the idle check's own rule, ticking here. It runs
    // from the user's last message (or the assignment), warns at the
    // warning threshold and reads "reassigned" at the limit.
    var rc = document.getElementById("reply-clock");
    var rcWaiting = rc && rc.dataset.waiting !== undefined ? parseInt(rc.dataset.waiting, 10) : null;
    var rcUser = rc && rc.dataset.userWaiting !== undefined ? parseInt(rc.dataset.userWaiting, 10) : null;
    var userName = (document.querySelector(".console-side h2") || {}).textContent || "The user";
    function drawClock() {
      if (!rc) return;
      var warn = parseInt(rc.dataset.warning, 10) || 150, limit = parseInt(rc.dataset.reassign, 10) || 180;
      var state = rcWaiting === null ? "answered" : rcWaiting >= limit ? "overdue" : rcWaiting >= warn ? "warning" : "running";
      rc.dataset.clock = state;
      rc.querySelector("[data-clock-time]").textContent = rcWaiting === null ? "–" : clock(rcWaiting);
      rc.querySelector("[data-clock-label]").textContent =
        state === "answered" ? "Answered. The clock starts when " + userName + " writes." :
        state === "running" ? userName + " is waiting for your reply" :
        state === "warning" ? "Reply now: reassigned in " + clock(limit - rcWaiting) : "Reply now: this chat is being reassigned";
      var bar = rc.querySelector("progress");
      if (bar) bar.value = rcWaiting === null ? 0 : Math.min(rcWaiting, limit);
      var u = rc.querySelector("[data-user-timer]");
      if (u && rcUser !== null) u.textContent = clock(rcUser);
      var uw = rc.querySelector("[data-user-wait]");
      if (uw) uw.hidden = rcUser === null;
    }
    if (rc) {
      setInterval(function () {
        if (rcWaiting !== null) rcWaiting += 1;
        if (rcUser !== null) rcUser += 1;
        drawClock();
      }, 1000);
    }
    document.addEventListener("fantooo:ws", function (e) {
      var ev = e.detail;
      // Messages carry their chat inside; other events beside.
      if ((ev.chat_id || (ev.message && ev.message.chat_id)) !== chatId) return;
      if (ev.t === "idle_warning" && banner) {
        banner.hidden = false;
        banner.textContent = "The user is waiting: reply within " + ev.seconds_left + " s or this chat is reassigned.";
        if (rc) { rcWaiting = (parseInt(rc.dataset.reassign, 10) || 180) - ev.seconds_left; drawClock(); }
      }
      if (ev.t === "message" && ev.message && rc) {
        // A user message restarts the clock (as the idle check counts);
        // the profile's reply stops it.
        if (ev.message.sender_type === "fictional") { rcWaiting = null; rcUser = null; }
        else { rcWaiting = 0; if (rcUser === null) rcUser = 0; }
        drawClock();
      }
      if (ev.t === "message" && ev.message && ev.message.sender_type === "fictional" && banner) banner.hidden = true;
      if (ev.t === "taken_away") {
        location.href = "/operator/waiting?error=" + encodeURIComponent("This chat was reassigned (" + ev.reason + ").");
      }
    });
  }
})();
