// Live messaging over /api/v1/ws: new messages, "Seen" receipts, typing
// (sent at most every 2 s, shown for 5 s), unread badges in the inbox,
// the other party's online status (asked on connect and every 25 s, and
// pushed live when it changes); the composer sends through the JSON API
// and falls back to the form. Leaving the page closes the socket at once
// (pagehide), so one's status turns offline; coming back from the
// back/forward cache (pageshow) opens it again.
(function () {
  "use strict";
  var TYPING_EVERY = 2000, TYPING_SHOWN = 5000;
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var thread = document.querySelector("[data-thread]");
  var inbox = document.querySelector("[data-inbox]");
  if (!thread && !inbox) return;

  var id = thread ? thread.dataset.thread : null;
  var me = thread ? thread.dataset.me : null;
  var lastSeq = thread ? Number(thread.dataset.lastSeq || 0) : 0;
  var bubbles = thread && thread.querySelector("[data-bubbles]");
  var typingLine = thread && thread.querySelector("[data-typing]");
  var ws = null, backoff = 500, typingTimer = null, lastTyping = 0, hidden = false;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function send(obj) {
    if (ws && ws.readyState === 1) ws.send(JSON.stringify(obj));
  }
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  // The same words as the server's "%d %b, %H:%M" (UTC).
  function timeOf(at) {
    var d = new Date(at);
    if (isNaN(d)) return "";
    return pad(d.getUTCDate()) + " " + MONTHS[d.getUTCMonth()] + ", " + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
  }
  function addMessage(seq, m, at) {
    if (!bubbles || bubbles.querySelector('[data-seq="' + seq + '"]')) return;
    var mine = m.sender === me;
    var li = el("li", "bubble" + (mine ? " mine" : ""));
    li.dataset.seq = seq;
    if (!mine) li.appendChild(el("span", "who", m.sender_name));
    if (m.body) li.appendChild(el("p", "text", m.body));
    (m.attachments || []).forEach(function (a) {
      var url = "/media/" + a.key;
      if (a.content_type.indexOf("video/") === 0) {
        var fig = el("figure", "file msg-video pending");
        fig.dataset.video = "pending";
        fig.dataset.key = url;
        fig.appendChild(el("figcaption", null, a.name + " · Waiting to be converted"));
        li.appendChild(fig);
        watchVideos();
        return;
      }
      var link = el("a", "file");
      link.href = url;
      if (a.content_type.indexOf("image/") === 0) {
        var img = el("img");
        img.src = url;
        img.alt = a.name;
        img.width = 320;
        img.height = 240;
        link.appendChild(img);
      } else {
        link.className = "file doc";
        link.download = a.name;
        link.appendChild(el("span", "doc-icon", "PDF"));
        link.appendChild(document.createTextNode(" " + a.name));
      }
      li.appendChild(link);
    });
    var meta = el("span", "meta", timeOf(at));
    if (mine) {
      var seen = el("span", "seen", " · Seen");
      seen.dataset.seen = "";
      seen.hidden = true;
      meta.appendChild(seen);
    }
    li.appendChild(meta);
    bubbles.appendChild(li);
    li.scrollIntoView({ block: "end" });
    if (!mine) {
      hideTyping();
      if (document.visibilityState === "visible") send({ t: "read", conversation_id: id, seq: seq });
    }
  }
  // A sent video shows its poster and progress until converted, then a player.
  var watching = null;
  var WAITING = 'figure[data-video="pending"], figure[data-video="processing"]';
  function showVideo(a) {
    var fig = bubbles.querySelector('figure[data-key="' + a.url + '"]');
    if (!fig || !a.video) return;
    var v = a.video;
    if (v.status === "ready" && v.mp4_url) {
      var player = el("video", "file msg-video");
      player.controls = true;
      player.preload = "metadata";
      player.src = v.mp4_url;
      if (v.poster_url) player.poster = v.poster_url;
      player.dataset.video = "ready";
      player.setAttribute("aria-label", a.name);
      fig.replaceWith(player);
      return;
    }
    fig.dataset.video = v.status;
    if (v.poster_url && !fig.querySelector("img")) {
      var img = el("img");
      img.src = v.poster_url;
      img.alt = a.name + " (poster)";
      img.width = 320;
      img.height = 180;
      fig.insertBefore(img, fig.firstChild);
    }
    var words = v.status === "failed" ? (v.error || "The video could not be converted.")
      : v.status === "processing" ? "Converting… " + v.progress + "%" : "Waiting to be converted";
    fig.querySelector("figcaption").textContent = a.name + " · " + words;
  }
  function watchVideos() {
    if (watching || !id || !window.fetch) return;
    watching = setInterval(function () {
      if (!bubbles.querySelector(WAITING)) { clearInterval(watching); watching = null; return; }
      fetch("/api/v1/conversations/" + id, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (body) {
          (body.messages || []).forEach(function (m) { (m.attachments || []).forEach(showVideo); });
        })
        .catch(function () { /* tried again on the next tick */ });
    }, 2000);
  }
  function markSeen(upto) {
    if (!bubbles) return;
    bubbles.querySelectorAll(".bubble.mine").forEach(function (b) {
      if (Number(b.dataset.seq) <= upto) {
        var s = b.querySelector("[data-seen]");
        if (s) s.hidden = false;
      }
    });
  }
  function hideTyping() {
    if (typingLine) { typingLine.hidden = true; typingLine.textContent = ""; }
  }
  function showTyping(name) {
    if (!typingLine) return;
    typingLine.textContent = name + " is typing…";
    typingLine.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, TYPING_SHOWN);
  }
  function bumpInbox(f) {
    if (!inbox) return;
    var row = inbox.querySelector('[data-conversation="' + f.conversation_id + '"]');
    if (!row || f.data.sender === undefined) return;
    var badge = row.querySelector("[data-unread]");
    if (badge && String(f.data.sender) !== inbox.dataset.me) {
      badge.textContent = String(Number(badge.textContent || 0) + 1);
      badge.hidden = false;
      row.classList.add("has-unread");
    }
  }
  function askPresence() {
    var ids = id ? [id] : Array.prototype.map.call(inbox.querySelectorAll("[data-conversation]"), function (r) {
      return r.dataset.conversation;
    }).slice(0, 50);
    if (ids.length) send({ t: "presence", conversation_ids: ids });
  }
  function showPresence(list) {
    list.forEach(function (p) {
      var e = document.querySelector('[data-presence="' + p.conversation_id + '"]');
      if (!e) return;
      e.textContent = p.label;
      e.classList.toggle("online", !!p.online);
    });
  }
  function onFrame(f) {
    if (f.t === "presence") { showPresence(f.data || []); return; }
    if (f.seq && f.t !== "typing" && f.t !== "inbox" && f.seq > lastSeq) lastSeq = f.seq;
    if (f.t === "message" && f.conversation_id === id) addMessage(f.seq, f.data, f.at);
    else if (f.t === "read" && f.conversation_id === id && f.data.reader !== me) markSeen(f.data.upto);
    else if (f.t === "typing" && f.conversation_id === id && f.data.who !== me) showTyping(f.data.name);
    else if (f.t === "inbox" && !thread) bumpInbox(f);
    else if (f.t === "reload") location.reload();
  }
  function connect() {
    var proto = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(proto + "//" + location.host + "/api/v1/ws");
    ws.onopen = function () {
      backoff = 500;
      if (id) send({ t: "subscribe", conversation_id: id, after: lastSeq });
      askPresence();
      if (thread) thread.dataset.live = "1";
    };
    ws.onmessage = function (e) {
      try { onFrame(JSON.parse(e.data)); } catch (_) { /* not ours */ }
    };
    ws.onclose = function () {
      if (thread) delete thread.dataset.live;
      if (hidden) return;
      setTimeout(function () { if (!hidden && (!ws || ws.readyState > 1)) connect(); }, backoff);
      backoff = Math.min(backoff * 2, 15000);
    };
  }
  window.addEventListener("pagehide", function () {
    hidden = true;
    if (ws) ws.close();
  });
  window.addEventListener("pageshow", function (e) {
    if (!e.persisted) return;
    hidden = false;
    backoff = 500;
    connect();
  });
  setInterval(function () { send({ t: "ping" }); askPresence(); }, 25000);
  if (bubbles && bubbles.querySelector(WAITING)) watchVideos();
  connect();

  if (!thread) return;
  var form = thread.querySelector("[data-composer]");
  var box = form.querySelector("textarea");
  var sendError = thread.querySelector("[data-send-error]");
  box.addEventListener("input", function () {
    var now = Date.now();
    if (now - lastTyping >= TYPING_EVERY && box.value.trim()) {
      lastTyping = now;
      send({ t: "typing", conversation_id: id });
    }
  });
  box.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });
  form.addEventListener("submit", function (e) {
    if (!window.fetch || !window.FormData) return;
    e.preventDefault();
    var data = new FormData(form);
    data.append("client_id", Date.now().toString(36) + Math.random().toString(36).slice(2));
    var button = form.querySelector("button");
    button.disabled = true;
    fetch("/api/v1/conversations/" + id + "/messages", {
      method: "POST", body: data, credentials: "same-origin", headers: { "X-CSRF-Token": csrf, "Accept": "application/json" }
    }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    }).then(function (res) {
      button.disabled = false;
      if (!res.ok) {
        sendError.textContent = res.body.message || "The message was not sent.";
        sendError.hidden = false;
        return;
      }
      sendError.hidden = true;
      form.reset();
      var m = res.body.message;
      addMessage(m.seq, { sender: m.sender_id, sender_name: m.sender_name, body: m.body, attachments: m.attachments }, m.created_at);
      if (m.seq > lastSeq) lastSeq = m.seq;
    }).catch(function () {
      button.disabled = false;
      sendError.textContent = "The message was not sent: the connection failed. Please try again.";
      sendError.hidden = false;
    });
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && lastSeq) send({ t: "read", conversation_id: id, seq: lastSeq });
  });
})();
