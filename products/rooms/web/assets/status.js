// Standing on every page: level-up toasts from the person's own channel,
// badges next to people who appear live on the room page, and entry
// notices. No inline code: served from /assets/status.js.
(() => {
  const $ = (sel, root = document) => root.querySelector(sel);
  const el = (tag, text, cls) => { const e = document.createElement(tag); if (text != null) e.textContent = text; if (cls) e.className = cls; return e; };
  const words = {
    coloured_name: 'your name stands out',
    entry_notice: 'rooms announce you when you enter',
    premium_frames: 'premium frames',
    exclusive_gifts: 'VIP-only gifts',
    kick_protection: 'only owners can kick you',
    mute_protection: 'others cannot mute you',
    extra_seats: 'more seats in your room',
  };

  // Toasts.
  const box = () => {
    let b = document.getElementById('toasts');
    if (!b) { b = el('div', null, 'toasts'); b.id = 'toasts'; b.setAttribute('role', 'status'); b.setAttribute('aria-live', 'polite'); document.body.append(b); }
    return b;
  };
  const toast = (text, cls) => {
    const t = el('div', text, `toast ${cls || ''}`);
    box().append(t);
    setTimeout(() => t.remove(), 6000);
  };
  window.roomsToast = toast;

  // Badges, fetched once per person.
  const cache = new Map();
  const badgeOf = (acct) => {
    if (!cache.has(acct)) {
      cache.set(acct, fetch(`/api/v1/badges?accounts=${encodeURIComponent(acct)}`, { credentials: 'same-origin' })
        .then((r) => (r.ok ? r.json() : { badges: [] })).then((v) => (v.badges || [])[0] || null).catch(() => null));
    }
    return cache.get(acct);
  };
  const chip = (b) => {
    const s = el('span', null, 'badges'); s.dataset.badges = b.account_id;
    if (b.vip_name) { const v = el('span', b.vip_name, 'vip-chip'); v.title = `VIP ${b.vip}`; s.append(v); }
    if (b.frame) { const f = el('span', null, `av frame-${b.frame}`); f.title = 'Frame'; s.append(f); }
    const w = el('span', `W${b.wealth}`, 'lv lv-w'); w.title = `Wealth level ${b.wealth} · ${b.wealth_badge}`;
    const c = el('span', `C${b.charm}`, 'lv lv-c'); c.title = `Charm level ${b.charm} · ${b.charm_badge}`;
    s.append(w, c);
    return s;
  };
  const decorate = async (node, acct, nameEl) => {
    if (!node || !acct) return;
    const b = await badgeOf(acct);
    if (!b || !node.isConnected) return;
    node.querySelectorAll(':scope > .badges').forEach((x) => x.remove());
    const after = nameEl || node.firstElementChild;
    if (after) after.after(chip(b)); else node.append(chip(b));
    if (b.coloured && after) after.classList.add('coloured');
  };
  const seat = (no) => document.querySelector(`.seats [data-seat="${no}"]`);

  const onLive = (v) => {
    if (v.t === 'user_event' && v.kind === 'level_up') {
      const d = v.data || {};
      const unlocks = (d.unlocks || []).map((p) => words[p] || p).join(', ');
      toast(`Level up! ${d.track} level ${d.level}${d.badge ? ` · ${d.badge}` : ''}${unlocks ? ` — unlocked: ${unlocks}` : ''}`, 'level');
      return;
    }
    if (v.t === 'user_event' && v.kind === 'vip_gift') { const d = v.data || {}; toast(`${(d.from || {}).name || 'Someone'} gave you ${d.name || 'VIP'}.`, 'frame'); return; }
    if (v.t === 'user_event' && v.kind === 'vip_seat_removed') { toast(`The VIP seat ${(v.data || {}).seat} you were on has gone with the owner's VIP: you are off the seat and muted.`, 'frame'); return; }
    if (v.t === 'user_event' && v.kind === 'vip_expired') { toast(`Your VIP ${(v.data || {}).tier} has ended.`, 'frame'); return; }
    if (v.t === 'user_event' && v.kind === 'frame_expired') { toast(`Your ${(v.data || {}).frame} frame has expired.`, 'frame'); return; }
    if (v.t !== 'event') return;
    const d = v.data || {};
    // rooms.js applies the event first; then the badge goes on.
    setTimeout(() => {
      switch (v.kind) {
        case 'joined': { const li = $(`#people [data-account="${d.account}"]`); decorate(li, d.account, li && li.firstChild && li.firstChild.nodeType === 1 ? li.firstChild : null); break; }
        case 'chat': { const li = $('#chat-lines li:last-child'); if (li) { li.dataset.account = d.account; decorate(li, d.account, $('b', li)); } break; }
        case 'seat_taken': { const s = seat(d.seat); decorate(s, d.account, s && $('.who', s)); break; }
        case 'seat_freed': { const s = seat(d.seat); if (s) s.querySelectorAll('.badges').forEach((x) => x.remove()); if (s && $('.who', s)) $('.who', s).classList.remove('coloured'); break; }
        case 'entry_notice': {
          const text = `${d.name} entered the room${d.badge ? ` · ${d.badge}` : ''}${d.vip ? ` · VIP ${d.vip}` : ''}`;
          const lines = document.getElementById('chat-lines');
          if (lines) { const li = el('li', text, 'system entry'); lines.append(li); }
          toast(text, 'entry');
          break;
        }
        default:
      }
    }, 0);
  };
  document.addEventListener('rooms:live', (ev) => onLive(ev.detail || {}));

  // A signed-in page without a room socket opens one for the person's own
  // channel (and whatever else a page follows, see `roomsSocket`).
  if (document.body.hasAttribute('data-live') && !document.querySelector('[data-room]')) {
    let delay = 1000;
    const subs = [];
    window.roomsSocket = { follow: (msg) => { subs.push(msg); if (window.roomsSocket.ws && window.roomsSocket.ws.readyState === 1) window.roomsSocket.ws.send(JSON.stringify(msg)); } };
    const open = () => {
      const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/ws`);
      window.roomsSocket.ws = ws;
      let ping;
      ws.onopen = () => {
        delay = 1000;
        for (const m of subs) ws.send(JSON.stringify(m));
        ping = setInterval(() => ws.send('{"t":"ping"}'), 20000);
      };
      ws.onmessage = (m) => { try { document.dispatchEvent(new CustomEvent('rooms:live', { detail: JSON.parse(m.data) })); } catch (e) { /* not JSON */ } };
      ws.onclose = () => { clearInterval(ping); setTimeout(open, delay); delay = Math.min(delay * 2, 30000); };
    };
    open();
  }
})();
