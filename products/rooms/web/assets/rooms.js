// Confirmation before destructive room actions (kick, block, close): forms
// carry data-confirm with the question. No inline handlers (CSP).
document.addEventListener('submit', (e) => {
  const q = e.target.getAttribute && e.target.getAttribute('data-confirm');
  if (q && !window.confirm(q)) e.preventDefault();
});
document.addEventListener('click', (e) => {
  if (e.target.matches && e.target.matches('a[data-back]')) { e.preventDefault(); history.back(); }
});

// In a room: a heartbeat every 10 s keeps the place (and a seat within its
// 45 s hold); the live socket (/api/v1/ws) brings the room's events, resumed
// from the last seq seen after a reconnect. Chat lines, people and the seat
// grid are updated in place; other changes (and changes to one's own seat
// or controls) reload the page, once the viewer is not typing. A 409
// `not_in_room` or an `unsubscribed` means we were taken out.
(() => {
  const room = document.querySelector('[data-room]');
  if (!room) return;
  const id = room.dataset.room;
  const me = room.dataset.me;
  const moderator = room.hasAttribute('data-moderator');
  const headers = { 'X-CSRF-Token': room.dataset.csrf, 'Content-Type': 'application/json' };
  let seq = Number(room.dataset.seq || 0);
  let reloading = false;
  const reload = () => {
    if (reloading) return;
    const typing = document.activeElement && ['INPUT', 'TEXTAREA'].includes(document.activeElement.tagName);
    if (typing) { document.activeElement.addEventListener('blur', reload, { once: true }); return; }
    reloading = true;
    location.reload();
  };
  const beat = () => fetch(`/api/v1/rooms/${id}/heartbeat`, { method: 'POST', headers, body: '{}' })
    .then((r) => { if (r.status === 409 || r.status === 401) reload(); })
    .catch(() => {});
  setInterval(beat, 10000);

  const el = (tag, text) => { const e = document.createElement(tag); e.textContent = text; return e; };
  const nameOf = (acct) => { const li = document.querySelector(`#people [data-account="${acct}"]`); return li ? li.dataset.name : '…'; };
  const seat = (no) => document.querySelector(`.seats [data-seat="${no}"]`);
  const showSeat = (no, who, muted) => {
    const s = seat(no); if (!s) return;
    const w = s.querySelector('.who');
    if (w) { w.textContent = who ? who + (muted ? ' 🔇' : '') : 'free'; w.classList.toggle('muted', !who); }
    s.classList.toggle('muted', !!muted);
    if (who) s.querySelectorAll('form').forEach((f) => f.remove());
  };
  const apply = (e) => {
    const d = e.data || {};
    const mine = d.account === me;
    switch (e.kind) {
      case 'chat': {
        const li = document.createElement('li');
        li.append(el('b', d.name), ' ', d.body);
        document.getElementById('chat-lines').append(li);
        return;
      }
      case 'joined': {
        if (mine || document.querySelector(`#people [data-account="${d.account}"]`)) return;
        const li = el('li', d.name); li.dataset.account = d.account; li.dataset.name = d.name;
        li.append(' ', el('span', d.role)); li.lastChild.className = 'role';
        document.getElementById('people').append(li);
        if (moderator) reload();
        return;
      }
      case 'left': {
        const li = document.querySelector(`#people [data-account="${d.account}"]`);
        if (li) li.remove();
        return;
      }
      case 'seat_taken': showSeat(d.seat, nameOf(d.account), false); break;
      case 'seat_freed': showSeat(d.seat, null, false); if (!mine) reload(); break;
      case 'muted': case 'unmuted': showSeat(d.seat, nameOf(d.account), e.kind === 'muted'); break;
      default: reload(); return;
    }
    if (mine || moderator) reload();
  };
  const listeners = [];
  // Others (voice) follow the room's events too.
  window.roomsLive = { on: (f) => listeners.push(f) };
  let delay = 1000;
  const open = () => {
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/ws`);
    let ping;
    ws.onopen = () => {
      delay = 1000;
      ws.send(JSON.stringify({ t: 'subscribe', room_id: id, after: seq }));
      ping = setInterval(() => ws.send('{"t":"ping"}'), 20000);
    };
    ws.onmessage = (m) => {
      const v = JSON.parse(m.data);
      if (v.t === 'event' && v.room_id === id && v.seq > seq) {
        seq = v.seq;
        apply(v);
        listeners.forEach((f) => f(v));
      } else if ((v.t === 'unsubscribed' || v.t === 'reload' || v.t === 'error') && v.room_id === id) {
        reload();
      }
    };
    ws.onclose = () => {
      clearInterval(ping);
      if (!reloading) setTimeout(open, delay);
      delay = Math.min(delay * 2, 30000);
    };
  };
  open();
})();
