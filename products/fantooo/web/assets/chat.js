// Fantooo chat page: live messages over one WebSocket per tab, optimistic
// sending, receipts, typing, balance. Without this script the page still
// works: the composer is a plain form and the page shows the history.
(function () {
  "use strict";
  var root = document.getElementById("chat");
  if (!root) return;
  var chatId = root.dataset.chatId;
  // The viewer's side, in the words its payloads use: `user` on a user's
  // page (the other side is `profile`), the stored names on staff pages.
  var side = root.dataset.side;
  var list = document.getElementById("messages");
  var form = document.getElementById("composer");
  var input = document.getElementById("content");
  var attach = document.getElementById("attach");
  var sendBtn = document.getElementById("send");
  var priceLabel = document.getElementById("price-label");
  var typingEl = document.getElementById("typing");
  var connEl = document.getElementById("conn-state");
  var charCount = document.getElementById("char-count");
  var dialog = document.getElementById("buy-credits");
  var waitingEl = document.getElementById("chat-waiting");
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var lastSeq = parseInt(root.dataset.lastSeq || "0", 10) || 0;
  var ws = null, backoff = 1000, pingTimer = null, typingTimer = null, lastTypingSent = 0;
  var STATUS_ORDER = { sending: 0, failed: 0, sent: 1, delivered: 2, read: 3 };

  // Toasts come from app.js, which every page loads first.
  function toast(text, kind) { if (window.fantoooToast) window.fantoooToast(text, kind); }

  function hhmm(iso) {
    var d = iso ? new Date(iso) : new Date();
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }

  function sameDay(a, b) {
    return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
  }

  // "Today", "Yesterday", or the date, in the reader's own time zone.
  function dayLabel(d) {
    var today = new Date(), yesterday = new Date();
    yesterday.setDate(today.getDate() - 1);
    if (sameDay(d, today)) return "Today";
    if (sameDay(d, yesterday)) return "Yesterday";
    var opts = { weekday: "long", day: "numeric", month: "long" };
    if (d.getFullYear() !== today.getFullYear()) opts.year = "numeric";
    return d.toLocaleDateString(undefined, opts);
  }

  // One separator before the first message of each local day.
  function separateDays() {
    list.querySelectorAll("li.day-sep").forEach(function (el) { el.remove(); });
    var prev = null;
    list.querySelectorAll("li.msg").forEach(function (li) {
      var t = li.querySelector("time[datetime]");
      if (!t) return;
      var d = new Date(t.getAttribute("datetime"));
      if (isNaN(d)) return;
      if (!prev || !sameDay(prev, d)) {
        var sep = document.createElement("li");
        sep.className = "day-sep";
        sep.textContent = dayLabel(d);
        li.parentNode.insertBefore(sep, li);
      }
      prev = d;
    });
  }

  function scrollToEnd() { list.scrollTop = list.scrollHeight; }

  function nearEnd() { return list.scrollHeight - list.scrollTop - list.clientHeight < 120; }

  function setStatus(li, status) {
    var el = li.querySelector(".msg-status");
    if (!el) return;
    var cur = el.dataset.status || "sending";
    if (status === "failed" || (STATUS_ORDER[status] || 0) >= (STATUS_ORDER[cur] || 0)) {
      el.dataset.status = status;
      el.textContent = status;
    }
  }

  function buildMessage(m, mine) {
    var li = document.createElement("li");
    li.className = "msg " + (mine ? "msg-mine" : "msg-theirs");
    if (m.media_url) {
      var img = document.createElement("img");
      img.className = "msg-media"; img.src = m.media_url; img.alt = "Picture"; img.loading = "lazy";
      li.appendChild(img);
    }
    if (m.content) {
      var p = document.createElement("p");
      p.className = "msg-text"; p.textContent = m.content;
      li.appendChild(p);
    }
    var meta = document.createElement("span");
    meta.className = "msg-meta";
    var time = document.createElement("time");
    time.setAttribute("datetime", m.created_at || new Date().toISOString());
    time.textContent = hhmm(m.created_at);
    meta.appendChild(time);
    if (mine) {
      var st = document.createElement("span");
      st.className = "msg-status"; st.dataset.status = m.status || "sending"; st.textContent = m.status || "sending";
      meta.appendChild(document.createTextNode(" "));
      meta.appendChild(st);
    }
    li.appendChild(meta);
    if (m.moderated) markModerated(li);
    return li;
  }

  function fill(li, m) {
    if (m.seq) li.dataset.seq = m.seq;
    if (m.id) li.dataset.id = m.id;
    if (m.client_id) li.dataset.clientId = m.client_id;
    if (m.status) setStatus(li, m.status);
  }

  // Adds a message from the server unless this page already shows it
  // (by seq, or as our own optimistic copy by client id).
  function receive(m) {
    var empty = document.getElementById("chat-empty");
    if (empty) empty.remove();
    var existing = list.querySelector('[data-seq="' + m.seq + '"]') ||
      (m.client_id && list.querySelector('[data-client-id="' + CSS.escape(m.client_id) + '"]'));
    var stick = nearEnd();
    if (existing) {
      fill(existing, m);
    } else {
      var li = buildMessage(m, m.sender_type === side);
      fill(li, m);
      list.appendChild(li);
      separateDays();
      if (stick || m.sender_type === side) scrollToEnd();
    }
    if (m.seq > lastSeq) lastSeq = m.seq;
    if (m.sender_type !== side) {
      if (waitingEl) waitingEl.hidden = true;
      hideTyping();
      markRead();
    }
  }

  function markRead() {
    if (document.hidden || !ws || ws.readyState !== 1) return;
    ws.send(JSON.stringify({ t: "read", chat_id: chatId, upto: lastSeq }));
  }

  function hideTyping() { if (typingEl) typingEl.hidden = true; }

  function showTyping() {
    if (waitingEl) waitingEl.hidden = true;
    if (!typingEl) return;
    typingEl.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, 3000);
  }

  function applyReceipt(ev) {
    if (ev.side !== side) return;
    list.querySelectorAll(".msg-mine[data-seq]").forEach(function (li) {
      if (parseInt(li.dataset.seq, 10) <= ev.upto) setStatus(li, ev.status);
    });
  }

  function applyEdit(ev) {
    var li = list.querySelector('[data-seq="' + ev.seq + '"]');
    var p = li && li.querySelector(".msg-text");
    if (p) p.textContent = ev.content;
    if (li && ev.moderated) markModerated(li);
  }

  // A moderator redacted this message: its text is the notice, any
  // picture is gone, and a note says who changed it.
  function markModerated(li) {
    var img = li.querySelector(".msg-media");
    if (img) img.remove();
    var p = li.querySelector(".msg-text");
    if (!p) {
      p = document.createElement("p");
      p.className = "msg-text";
      li.insertBefore(p, li.firstChild);
    }
    if (!li.querySelector("[data-moderated]")) {
      var note = document.createElement("span");
      note.className = "msg-moderated"; note.setAttribute("data-moderated", ""); note.textContent = "Changed by a moderator";
      p.insertAdjacentElement("afterend", note);
    }
  }

  function setBalance(credits) {
    root.dataset.balance = credits;
    document.querySelectorAll("[data-credits]").forEach(function (el) { el.textContent = credits; });
  }

  function setConn(text) { if (connEl) connEl.textContent = text; }

  function connect() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(proto + location.host + "/ws");
    setConn(backoff > 1000 ? "Reconnecting…" : "");
    ws.onopen = function () {
      backoff = 1000;
      setConn("");
      root.dataset.live = "1";
      ws.send(JSON.stringify({ t: "subscribe", chat_id: chatId, after: lastSeq }));
      clearInterval(pingTimer);
      pingTimer = setInterval(function () {
        if (ws && ws.readyState === 1) ws.send(JSON.stringify({ t: "ping" }));
      }, 15000);
    };
    ws.onmessage = function (e) {
      var ev;
      try { ev = JSON.parse(e.data); } catch (_) { return; }
      // Other scripts on the page (the operator console) follow the same socket.
      document.dispatchEvent(new CustomEvent("fantooo:ws", { detail: ev }));
      switch (ev.t) {
        case "message": receive(ev.message); break;
        case "typing": if (ev.chat_id === chatId && ev.side !== side) showTyping(); break;
        case "receipt": if (ev.chat_id === chatId) applyReceipt(ev); break;
        case "balance": setBalance(ev.credits); break;
        case "edited": if (ev.chat_id === chatId) applyEdit(ev); break;
        case "subscribed": markRead(); break;
        case "reload": location.reload(); break;
        case "unsubscribed": if (ev.chat_id === chatId) setConn("This chat is no longer available."); break;
        case "error": if (ev.code === "forbidden") setConn("This chat is no longer available."); break;
      }
    };
    ws.onclose = function () {
      root.dataset.live = "";
      clearInterval(pingTimer);
      setConn("Offline. Reconnecting…");
      // Exponential backoff with jitter, capped at 30 s.
      var wait = Math.min(backoff, 30000) * (0.75 + Math.random() * 0.5);
      backoff = Math.min(backoff * 2, 30000);
      setTimeout(connect, wait);
    };
  }

  function clientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  function openBuyDialog(required, available) {
    if (!dialog) return;
    var reason = document.getElementById("buy-reason");
    if (reason) reason.textContent = "This message costs " + required + " credits and you have " + available + ".";
    if (typeof dialog.showModal === "function") { if (!dialog.open) dialog.showModal(); } else { dialog.setAttribute("open", ""); }
  }

  function retryButton(li, payload) {
    if (li.querySelector(".msg-retry")) return;
    var b = document.createElement("button");
    b.type = "button"; b.className = "btn btn-ghost btn-sm msg-retry"; b.textContent = "Retry";
    b.addEventListener("click", function () { b.remove(); setStatus(li, "sending"); post(li, payload); });
    li.appendChild(b);
  }

  function post(li, payload) {
    var opts = { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf, "Accept": "application/json" } };
    if (payload.file) {
      var fd = new FormData();
      fd.append("content", payload.content);
      fd.append("client_id", payload.client_id);
      fd.append("file", payload.file);
      opts.body = fd;
    } else {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify({ content: payload.content, client_id: payload.client_id });
    }
    return fetch("/api/chats/" + chatId + "/messages", opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) { return { status: r.status, body: body }; });
    }).then(function (res) {
      if (res.status === 200 || res.status === 201) {
        var m = res.body.message;
        fill(li, m);
        if (m.media_url && !li.querySelector(".msg-media")) {
          var img = document.createElement("img");
          img.className = "msg-media"; img.src = m.media_url; img.alt = "Picture";
          li.insertBefore(img, li.firstChild);
        }
        if (m.seq > lastSeq) lastSeq = m.seq;
        if (res.body.balance !== null && res.body.balance !== undefined) setBalance(res.body.balance);
        if (res.body.next_price_label && priceLabel) priceLabel.textContent = res.body.next_price_label;
        if (waitingEl && res.body.waiting) { waitingEl.textContent = res.body.waiting; waitingEl.hidden = false; }
      } else if (res.status === 402) {
        li.remove();
        separateDays();
        input.value = payload.content;
        saveDraft();
        openBuyDialog(res.body.required, res.body.available);
      } else {
        setStatus(li, "failed");
        toast(res.body.message || "Message not sent.", "error");
        if (res.status >= 500 || res.status === 429) retryButton(li, payload);
      }
    }).catch(function () {
      setStatus(li, "failed");
      toast("Connection lost. Your message was not sent.", "error");
      retryButton(li, payload);
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var content = input.value.trim();
    var file = attach && attach.files && attach.files[0];
    if (!content && !file) { input.focus(); return; }
    if (content.length > 1000) { toast("Messages are limited to 1000 characters.", "error"); return; }
    var payload = { content: content, client_id: clientId(), file: file || null };
    var empty = document.getElementById("chat-empty");
    if (empty) empty.remove();
    var li = buildMessage({ content: content, status: "sending" }, true);
    li.dataset.clientId = payload.client_id;
    list.appendChild(li);
    separateDays();
    scrollToEnd();
    input.value = "";
    saveDraft();
    if (attach) attach.value = "";
    updateCount();
    post(li, payload);
    input.focus();
  });

  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit ? form.requestSubmit() : sendBtn.click(); }
  });

  function updateCount() {
    if (!charCount) return;
    var n = input.value.length;
    charCount.textContent = n > 800 ? " · " + n + "/1000" : "";
  }

  // The unsent text survives leaving the page (to buy credits, say) and
  // coming back, per chat, for this tab.
  var draftKey = "fantooo-draft-" + chatId;
  function saveDraft() {
    try {
      if (input.value) sessionStorage.setItem(draftKey, input.value); else sessionStorage.removeItem(draftKey);
    } catch (e) { /* storage may be unavailable */ }
  }
  try {
    var kept = sessionStorage.getItem(draftKey);
    if (kept && !input.value) input.value = kept;
  } catch (e) { /* storage may be unavailable */ }

  input.addEventListener("input", function () {
    updateCount();
    saveDraft();
    var now = Date.now();
    if (ws && ws.readyState === 1 && now - lastTypingSent > 2000) {
      lastTypingSent = now;
      ws.send(JSON.stringify({ t: "typing", chat_id: chatId }));
    }
  });

  // The picture to send is shown before sending, with a way to take it back.
  var preview = document.getElementById("attach-preview");
  var previewImg = document.getElementById("attach-preview-img");
  var previewUrl = null;
  function clearPreview() {
    if (previewUrl) { URL.revokeObjectURL(previewUrl); previewUrl = null; }
    if (preview) preview.hidden = true;
  }
  if (attach) attach.addEventListener("change", function () {
    clearPreview();
    var file = attach.files && attach.files[0];
    if (!file) return;
    if (preview && previewImg && window.URL && URL.createObjectURL) {
      previewUrl = URL.createObjectURL(file);
      previewImg.src = previewUrl;
      var name = document.getElementById("attach-preview-name");
      if (name) name.textContent = file.name;
      preview.hidden = false;
    } else {
      toast("Picture attached: press Send.", "info");
    }
  });
  var clearBtn = document.getElementById("attach-clear");
  if (clearBtn) clearBtn.addEventListener("click", function () { if (attach) attach.value = ""; clearPreview(); input.focus(); });
  form.addEventListener("submit", function () { setTimeout(function () { if (!attach || !attach.value) clearPreview(); }, 0); });

  // Pictures in the conversation open full size.
  var viewer = document.getElementById("media-viewer");
  var viewerImg = document.getElementById("media-viewer-img");
  list.addEventListener("click", function (e) {
    var img = e.target.closest && e.target.closest(".msg-media");
    if (!img || !viewer || !viewerImg || typeof viewer.showModal !== "function") return;
    viewerImg.src = img.src;
    viewer.showModal();
  });
  if (viewer) viewer.addEventListener("click", function (e) { if (e.target === viewer) viewer.close(); });

  // A small emoji picker: inserts at the cursor.
  var EMOJI = ["😀", "😂", "😊", "😍", "🥰", "😘", "😉", "😎", "🤔", "😅", "😇", "🙈", "😢", "😮", "😴", "🤗",
               "❤️", "💕", "💖", "🔥", "✨", "🌹", "🌸", "🎉", "👍", "👋", "🙏", "👏", "💪", "🤝", "☕", "🍷",
               "🍕", "🎶", "🌙", "☀️", "🌍", "✈️", "📸", "💬"];
  var emojiBtn = document.getElementById("emoji-toggle");
  var emojiPanel = document.getElementById("emoji-panel");
  if (emojiBtn && emojiPanel) {
    EMOJI.forEach(function (ch) {
      var b = document.createElement("button");
      b.type = "button"; b.className = "emoji"; b.textContent = ch; b.setAttribute("aria-label", "Insert " + ch);
      emojiPanel.appendChild(b);
    });
    emojiBtn.hidden = false;
    var setOpen = function (open) { emojiPanel.hidden = !open; emojiBtn.setAttribute("aria-expanded", open ? "true" : "false"); };
    emojiBtn.addEventListener("click", function () { setOpen(emojiPanel.hidden); });
    emojiPanel.addEventListener("click", function (e) {
      var b = e.target.closest && e.target.closest("button.emoji");
      if (!b) return;
      var start = input.selectionStart == null ? input.value.length : input.selectionStart;
      var end = input.selectionEnd == null ? start : input.selectionEnd;
      input.value = input.value.slice(0, start) + b.textContent + input.value.slice(end);
      var at = start + b.textContent.length;
      input.focus();
      input.setSelectionRange(at, at);
      updateCount();
      saveDraft();
    });
    document.addEventListener("keydown", function (e) { if (e.key === "Escape" && !emojiPanel.hidden) { setOpen(false); emojiBtn.focus(); } });
    document.addEventListener("click", function (e) {
      if (!emojiPanel.hidden && !emojiPanel.contains(e.target) && e.target !== emojiBtn) setOpen(false);
    });
  }

  var earlier = document.getElementById("load-earlier");
  if (earlier) earlier.addEventListener("click", function () {
    var before = earlier.dataset.before;
    earlier.disabled = true;
    fetch("/api/chats/" + chatId + "/messages?limit=50&before=" + encodeURIComponent(before), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        var anchor = earlier.parentNode.nextSibling;
        var height = list.scrollHeight;
        body.messages.forEach(function (m) {
          if (list.querySelector('[data-seq="' + m.seq + '"]')) return;
          var li = buildMessage(m, m.sender_type === side);
          fill(li, m);
          list.insertBefore(li, anchor);
          anchor = li;
        });
        separateDays();
        list.scrollTop += list.scrollHeight - height;
        if (body.next_before) { earlier.dataset.before = body.next_before; earlier.disabled = false; }
        else { earlier.parentNode.remove(); }
      })
      .catch(function () { earlier.disabled = false; toast("Could not load earlier messages.", "error"); });
  });

  document.addEventListener("visibilitychange", function () { if (!document.hidden) markRead(); });
  if (dialog && dialog.hasAttribute("open") && typeof dialog.showModal === "function") { dialog.removeAttribute("open"); dialog.showModal(); }
  separateDays();
  scrollToEnd();
  connect();
})();
