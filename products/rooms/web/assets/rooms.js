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
// grid are updated in place; other changes reload the page (once the viewer
// is not typing). A 409 `not_in_room` or an `unsubscribed` means we were
// taken out. With a voice pass the page joins the room's audio: always
// listening, the microphone live only while we hold an unmuted seat.
(() => {
  const room = document.querySelector('[data-room]');
  if (!room) return;
  const id = room.dataset.room;
  const me = room.dataset.me;
  const csrf = room.dataset.csrf;
  const headers = { 'X-CSRF-Token': csrf, 'Content-Type': 'application/json' };
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

  // Voice.
  let speaking = room.hasAttribute('data-speaking');
  let voice = null;
  let joined = Promise.reject(new Error('no voice'));
  joined.catch(() => {});
  const status = document.getElementById('voice-status');
  // The state is also on `window.roomsVoiceState` (listening, speaking,
  // failed) and the client on `window.roomsVoice`, for diagnostics.
  const say = (t, state) => { if (status) status.textContent = t; window.roomsVoiceState = state; };
  if (room.dataset.voice && window.RoomsVoice) {
    voice = new window.RoomsVoice(JSON.parse(room.dataset.voice), { audio: document.getElementById('voice-audio') });
    window.roomsVoice = voice;
    window.roomsVoiceState = 'joining';
    joined = voice.join();
    joined.then(() => (speaking ? voice.setSeated(true) : null))
      .then(() => (speaking ? say('Voice: you are on a seat, your microphone is live.', 'speaking') : say('Voice: listening.', 'listening')))
      .catch((e) => say(`Voice could not connect: ${e.message}`, 'failed'));
    window.addEventListener('pagehide', () => { voice.leave().catch(() => {}); });
    // The pass lapses after its lifetime (the server then drops us from the
    // mix); renew it when three quarters of what is left has passed.
    window.roomsVoiceRenewals = 0;
    const renewLater = () => {
      const left = voice.pass.expires_at * 1000 - Date.now();
      setTimeout(renew, Math.max(500, left * 0.75));
    };
    const renew = () => fetch(`/api/v1/rooms/${id}/voice/renew`, { method: 'POST', headers, body: JSON.stringify({ token: voice.pass.token }) })
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((v) => { voice.pass.expires_at = v.voice.expires_at; window.roomsVoiceRenewals += 1; renewLater(); })
      .catch((status) => { if (status === 409) reload(); else setTimeout(renew, 5000); });
    renewLater();
  }
  const setSpeaking = (on) => {
    if (on === speaking) return;
    speaking = on;
    if (!voice) return;
    joined.then(() => voice.setSeated(on))
      .then(() => (on ? say('Voice: you are on a seat, your microphone is live.', 'speaking') : say('Voice: listening.', 'listening')))
      .catch((e) => say(`Voice: ${e.message}`, 'failed'));
  };

  // The page.
  const el = (tag, text) => { const e = document.createElement(tag); e.textContent = text; return e; };
  const person = (acct) => document.querySelector(`#people [data-account="${acct}"]`);
  const nameOf = (acct) => { const li = person(acct); return li ? li.dataset.name : '…'; };
  const seat = (no) => document.querySelector(`.seats [data-seat="${no}"]`);
  let mySeat = Number(room.dataset.seat || 0);
  const showSeat = (no, who, muted, acct) => {
    const s = seat(no); if (!s) return;
    if (acct) s.dataset.occupant = acct; else if (!who) { delete s.dataset.occupant; s.classList.remove('talking'); }
    const w = s.querySelector('.who');
    if (w) { w.textContent = who ? who + (muted ? ' 🔇' : '') : 'free'; w.classList.toggle('muted', !who); }
    s.classList.toggle('muted', !!muted);
    if (who) s.querySelectorAll('form').forEach((f) => f.remove());
  };
  // A free seat offers itself to someone without one.
  const offer = (no) => {
    const s = seat(no);
    if (!s || mySeat || s.querySelector('form') || !room.dataset.take) return;
    const f = document.createElement('form');
    f.method = 'post'; f.action = `/rooms/${id}/act`;
    for (const [k, v] of [['csrf_token', csrf], ['action', room.dataset.take], ['seat', String(no)]]) {
      const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v; f.append(i);
    }
    f.append(el('button', room.dataset.take === 'take_seat' ? 'Take seat' : 'Ask to speak'));
    s.append(f);
  };
  const apply = (e) => {
    const d = e.data || {};
    const mine = d.account === me;
    switch (e.kind) {
      case 'chat': {
        const li = document.createElement('li');
        li.dataset.account = d.account;
        li.append(el('b', d.name), ' ', d.body);
        document.getElementById('chat-lines').append(li);
        return;
      }
      case 'joined': {
        if (person(d.account)) return;
        const li = el('li', d.name); li.dataset.account = d.account; li.dataset.name = d.name;
        const role = el('span', d.role); role.className = 'role';
        li.append(' ', role);
        document.getElementById('people').append(li);
        return;
      }
      case 'left': { const li = person(d.account); if (li) li.remove(); return; }
      case 'seat_taken':
        if (seat(d.seat)) seat(d.seat).dataset.account = d.account;
        showSeat(d.seat, nameOf(d.account), false, d.account);
        if (mine) { setSpeaking(true); reload(); }
        return;
      case 'seat_freed':
        if (seat(d.seat)) delete seat(d.seat).dataset.account;
        showSeat(d.seat, null, false);
        if (mine) { mySeat = 0; setSpeaking(false); reload(); } else offer(d.seat);
        return;
      case 'muted': case 'unmuted':
        showSeat(d.seat, nameOf(d.account), e.kind === 'muted');
        if (mine) {
          setSpeaking(e.kind === 'unmuted');
          const a = document.querySelector(`.seats [data-seat="${d.seat}"] input[name=action][value=${e.kind === 'muted' ? 'mute' : 'unmute'}]`);
          if (a) { a.value = e.kind === 'muted' ? 'unmute' : 'mute'; a.form.querySelector('button').textContent = e.kind === 'muted' ? 'Unmute' : 'Mute'; }
        }
        return;
      case 'talking': {
        // Who is speaking, from the voice server's talking events.
        const s = document.querySelector(`.seats [data-occupant="${d.account}"]`);
        if (s) s.classList.toggle('talking', !!d.talking);
        return;
      }
      case 'music': {
        const stateEl = document.getElementById('music-state');
        if (stateEl) stateEl.textContent = d.playing ? 'playing' : 'stopped';
        if (music) music.dataset.music = d.playing ? `${d.url}|${Date.parse(d.started_at)}` : '';
        playMusic(music && music.dataset.music);
        if (!stateEl || room.hasAttribute('data-moderator')) reload();
        return;
      }
      case 'seat_requested': case 'seat_invited': case 'seat_locked': case 'seat_unlocked':
      case 'seat_moved': case 'role_changed': case 'settings':
        if (mine || room.hasAttribute('data-moderator') || !d.account) reload();
        return;
      default:
        return;
    }
  };
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
      // Other scripts (gifts.js) follow the same socket.
      document.dispatchEvent(new CustomEvent('rooms:live', { detail: v }));
      if (v.t === 'event' && v.room_id === id && v.seq > seq) {
        seq = v.seq;
        apply(v);
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
