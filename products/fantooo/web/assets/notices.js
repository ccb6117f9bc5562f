// Replies that arrive while the user is elsewhere: the unread count on the
// Chats tab and in the tab title, the chat list kept current, a toast, an
// optional sound and, once allowed, a browser notification. Pages are
// complete without this script (the server renders the counts).
(function () {
  "use strict";
  var body = document.body;
  if (!body || !body.classList.contains("has-tabs")) return;
  var total = parseInt(body.getAttribute("data-unread") || "0", 10) || 0;
  var chatRoot = document.getElementById("chat");
  var openChat = chatRoot ? chatRoot.getAttribute("data-chat-id") : null;

  function setTotal(n) {
    total = Math.max(0, n | 0);
    document.querySelectorAll("[data-unread-total]").forEach(function (el) {
      el.textContent = total;
      el.setAttribute("aria-label", total + " unread");
      el.hidden = total === 0;
    });
    var bare = document.title.replace(/^\(\d+\) /, "");
    document.title = total > 0 ? "(" + total + ") " + bare : bare;
  }

  function row(chatId) { return document.querySelector('[data-chat-row="' + chatId + '"]'); }

  function setRowCount(li, n) {
    var badge = li.querySelector("[data-unread-count]");
    if (badge) {
      badge.textContent = n;
      badge.setAttribute("aria-label", n + " unread");
      badge.hidden = n === 0;
    }
    li.classList.toggle("unread", n > 0);
  }

  // The chat list: the replied chat moves to the top with its new preview.
  function updateList(ev) {
    var li = row(ev.chat_id);
    if (!li) {
      if (document.querySelector("[data-chat-list]")) location.reload();
      return;
    }
    var preview = li.querySelector("[data-preview]");
    if (preview) preview.textContent = ev.preview || "";
    var old = li.querySelector("time");
    if (old && ev.at) {
      var t = document.createElement("time");
      t.className = "muted";
      t.setAttribute("datetime", ev.at);
      t.textContent = ev.at;
      old.replaceWith(t);
    }
    setRowCount(li, ev.unread);
    var list = li.parentNode;
    if (list && list.firstElementChild !== li) list.insertBefore(li, list.firstElementChild);
  }

  // A short two-note chime made on the spot (no sound file to fetch).
  var audio = null;
  function chime() {
    if (body.getAttribute("data-sound") !== "on") return;
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    try {
      audio = audio || new Ctx();
      [[880, 0], [1320, 0.12]].forEach(function (note) {
        var osc = audio.createOscillator(), gain = audio.createGain(), at = audio.currentTime + note[1];
        osc.type = "sine";
        osc.frequency.value = note[0];
        gain.gain.setValueAtTime(0.0001, at);
        gain.gain.exponentialRampToValueAtTime(0.2, at + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.25);
        osc.connect(gain).connect(audio.destination);
        osc.start(at);
        osc.stop(at + 0.3);
      });
    } catch (_) { /* no sound is fine */ }
  }

  function notify(ev) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    try {
      var n = new Notification(ev.profile, { body: ev.preview || "New message", tag: "chat-" + ev.chat_id, icon: "/assets/favicon.svg" });
      n.onclick = function () { window.focus(); location.href = "/chat/" + ev.chat_id; n.close(); };
    } catch (_) { /* some browsers only notify from a service worker */ }
  }

  function onEvent(ev) {
    if (!ev || !ev.t) return;
    if (ev.t === "reply") {
      setTotal(ev.total);
      updateList(ev);
      var watching = ev.chat_id === openChat && !document.hidden;
      if (!watching) {
        chime();
        if (document.hidden) notify(ev);
        else if (ev.chat_id !== openChat && !row(ev.chat_id) && window.fantoooToast) window.fantoooToast(ev.profile + ": " + (ev.preview || "New message"), "info");
      }
    } else if (ev.t === "unread") {
      setTotal(ev.total);
      var li = row(ev.chat_id);
      if (li) setRowCount(li, ev.unread);
    }
  }

  // The chat page already holds this tab's socket (chat.js) and passes
  // every event on; any other page opens its own.
  if (chatRoot) {
    document.addEventListener("fantooo:ws", function (e) { onEvent(e.detail); });
  } else if (window.WebSocket) {
    var backoff = 1000, pingTimer = null;
    var connect = function () {
      var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
      ws.onopen = function () {
        backoff = 1000;
        body.setAttribute("data-notices", "live");
        clearInterval(pingTimer);
        pingTimer = setInterval(function () { if (ws.readyState === 1) ws.send(JSON.stringify({ t: "ping" })); }, 15000);
      };
      ws.onmessage = function (e) {
        var ev;
        try { ev = JSON.parse(e.data); } catch (_) { return; }
        if (ev.t === "balance") {
          document.querySelectorAll("[data-credits]").forEach(function (el) { el.textContent = el.textContent.replace(/^-?\d+/, ev.credits); });
        }
        onEvent(ev);
      };
      ws.onclose = function () {
        body.removeAttribute("data-notices");
        clearInterval(pingTimer);
        var wait = Math.min(backoff, 30000) * (0.75 + Math.random() * 0.5);
        backoff = Math.min(backoff * 2, 30000);
        setTimeout(connect, wait);
      };
    };
    connect();
  }

  // The account page's switch for browser notifications.
  var enable = document.querySelector("[data-enable-notifications]");
  var state = document.querySelector("[data-notification-state]");
  function showState() {
    if (!state) return;
    if (!("Notification" in window)) { state.textContent = "This browser cannot show notifications."; if (enable) enable.hidden = true; return; }
    var words = { granted: "On: replies show as notifications while this site is in the background.", denied: "Blocked in this browser's site settings.", "default": "Off." };
    state.textContent = words[Notification.permission] || "";
    if (enable) enable.hidden = Notification.permission !== "default";
  }
  if (enable) {
    enable.hidden = false;
    enable.addEventListener("click", function () {
      if (!("Notification" in window)) return;
      var asked = Notification.requestPermission(showState);
      if (asked && asked.then) asked.then(showState);
    });
  }
  showState();
})();
