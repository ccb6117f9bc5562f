// Rooms voice client: joins a room's Janus AudioBridge mix with a pass the
// server issued (janus_url, room, participant_id, token, display). Speaks
// Janus's JSON protocol over HTTP long-poll; audio over WebRTC. Sends audio
// only while seated; the server decides who may (it mutes anyone else).
//
//   const voice = new RoomsVoice(pass, { audio: document.querySelector('audio') });
//   (options.microphone: getUserMedia audio constraints, default `true`)
//   await voice.join();            // throws VoiceError {janusCode, message} on refusal
//   await voice.setSeated(true);   // microphone on (server must allow it)
//   await voice.stats();           // {bytesReceived, packetsReceived, audioLevel, totalAudioEnergy, bytesSent}
//   await voice.leave();
(function (global) {
  'use strict';

  function transaction() {
    return Math.random().toString(36).slice(2, 14);
  }

  class VoiceError extends Error {
    constructor(message, janusCode) {
      super(message);
      this.janusCode = janusCode || 0;
    }
  }

  class RoomsVoice {
    constructor(pass, options) {
      this.pass = pass;
      this.options = options || {};
      this.audio = this.options.audio || null;
      this.session = null;
      this.handle = null;
      this.pc = null;
      this.sender = null;
      this.mic = null;
      this.muted = true;
      this.pending = new Map();
      this.listeners = [];
      this.closed = false;
      this.joinStartedAt = 0;
      this.firstAudioMs = null;
    }

    // Called with every AudioBridge event ({audiobridge: 'joined'|'event'|'talking'|…}).
    on(fn) {
      this.listeners.push(fn);
    }

    url(path) {
      return this.pass.janus_url.replace(/\/$/, '') + (path || '');
    }

    async post(path, body) {
      body.transaction = body.transaction || transaction();
      const r = await fetch(this.url(path), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      const answer = await r.json();
      if (answer.janus === 'error') throw new VoiceError(answer.error.reason, answer.error.code);
      return answer;
    }

    // An AudioBridge request; resolves with the plugin's data (and jsep).
    message(body, jsep) {
      const t = transaction();
      const waiting = new Promise((resolve, reject) => {
        this.pending.set(t, { resolve, reject });
        setTimeout(() => {
          if (this.pending.delete(t)) reject(new VoiceError('the voice server did not answer'));
        }, 10000);
      });
      const msg = { janus: 'message', body: body, transaction: t };
      if (jsep) msg.jsep = jsep;
      return this.post('/' + this.session + '/' + this.handle, msg).then((answer) => {
        // Synchronous answers come straight back; asynchronous ones as events.
        if (answer.janus === 'success') {
          this.pending.delete(t);
          return this.result(answer);
        }
        return waiting;
      });
    }

    result(event) {
      const data = (event.plugindata && event.plugindata.data) || {};
      if (data.error_code) throw new VoiceError(data.error, data.error_code);
      return { data: data, jsep: event.jsep || null };
    }

    async poll() {
      let rid = 0;
      while (!this.closed) {
        let events;
        try {
          const r = await fetch(this.url('/' + this.session + '?maxev=10&rid=' + ++rid));
          events = await r.json();
        } catch (e) {
          await new Promise((res) => setTimeout(res, 500));
          continue;
        }
        if (!Array.isArray(events)) events = [events];
        for (const ev of events) this.dispatch(ev);
      }
    }

    dispatch(ev) {
      if (ev.janus === 'keepalive' || ev.janus === 'ack') return;
      if (ev.janus === 'error' && !ev.transaction) {
        this.closed = true;
        return;
      }
      const waiter = ev.transaction && this.pending.get(ev.transaction);
      if (waiter) {
        this.pending.delete(ev.transaction);
        try {
          waiter.resolve(this.result(ev));
        } catch (e) {
          waiter.reject(e);
        }
        return;
      }
      const data = ev.plugindata && ev.plugindata.data;
      if (!data) return;
      // Our own mute state as the server set it.
      for (const p of data.participants || []) {
        if (p.id === this.pass.participant_id && typeof p.muted === 'boolean') this.muted = p.muted;
      }
      for (const fn of this.listeners) {
        try {
          fn(data);
        } catch (e) {
          /* a listener's failure is its own */
        }
      }
    }

    async join() {
      this.joinStartedAt = performance.now();
      const created = await this.post('', { janus: 'create' });
      this.session = created.data.id;
      this.poll();
      this.keepalive = setInterval(() => {
        this.post('/' + this.session, { janus: 'keepalive' }).catch(() => {});
      }, 25000);
      const attached = await this.post('/' + this.session, { janus: 'attach', plugin: 'janus.plugin.audiobridge' });
      this.handle = attached.data.id;
      await this.message({
        request: 'join',
        room: this.pass.room,
        id: this.pass.participant_id,
        display: this.pass.display,
        token: this.pass.token,
        muted: true,
      });
      this.pc = new RTCPeerConnection({ iceServers: [] });
      const transceiver = this.pc.addTransceiver('audio', { direction: 'sendrecv' });
      this.sender = transceiver.sender;
      this.pc.ontrack = (e) => {
        if (!this.audio) {
          this.audio = document.createElement('audio');
          this.audio.autoplay = true;
          document.body.appendChild(this.audio);
        }
        this.audio.srcObject = e.streams && e.streams[0] ? e.streams[0] : new MediaStream([e.track]);
        this.audio.play().catch(() => {});
      };
      // Trickle ICE: candidates go to Janus as they are found, the offer at once.
      let trickled = Promise.resolve();
      this.pc.onicecandidate = (e) => {
        const candidate = e.candidate
          ? { candidate: e.candidate.candidate, sdpMid: e.candidate.sdpMid, sdpMLineIndex: e.candidate.sdpMLineIndex }
          : { completed: true };
        trickled = trickled.then(() =>
          this.post('/' + this.session + '/' + this.handle, { janus: 'trickle', candidate: candidate }).catch(() => {}),
        );
      };
      await this.pc.setLocalDescription(await this.pc.createOffer());
      const answer = await this.message(
        { request: 'configure', muted: true },
        { type: 'offer', sdp: this.pc.localDescription.sdp, trickle: true },
      );
      if (!answer.jsep) throw new VoiceError('the voice server sent no answer');
      await this.pc.setRemoteDescription(answer.jsep);
      this.watchFirstAudio();
      return this;
    }

    watchFirstAudio() {
      const tick = async () => {
        if (this.closed || this.firstAudioMs !== null) return;
        const s = await this.stats();
        if (s.packetsReceived > 0) {
          this.firstAudioMs = performance.now() - this.joinStartedAt;
          return;
        }
        setTimeout(tick, 10);
      };
      tick();
    }

    // Microphone on while seated, off otherwise. The server's word is final:
    // unmuting without a seat is undone by the server within moments.
    async setSeated(seated) {
      if (seated) {
        if (!this.mic) {
          const stream = await navigator.mediaDevices.getUserMedia({ audio: this.options.microphone || true });
          this.mic = stream.getAudioTracks()[0];
        }
        await this.sender.replaceTrack(this.mic);
      }
      const r = await this.message({ request: 'configure', muted: !seated });
      if (!seated && this.mic) {
        await this.sender.replaceTrack(null);
        this.mic.stop();
        this.mic = null;
      }
      return r.data;
    }

    async stats() {
      const out = { bytesReceived: 0, packetsReceived: 0, audioLevel: 0, totalAudioEnergy: 0, bytesSent: 0 };
      if (!this.pc) return out;
      const report = await this.pc.getStats();
      report.forEach((s) => {
        if (s.type === 'inbound-rtp' && (s.kind === 'audio' || s.mediaType === 'audio')) {
          out.bytesReceived += s.bytesReceived || 0;
          out.packetsReceived += s.packetsReceived || 0;
          out.audioLevel = Math.max(out.audioLevel, s.audioLevel || 0);
          out.totalAudioEnergy += s.totalAudioEnergy || 0;
        }
        if (s.type === 'outbound-rtp' && (s.kind === 'audio' || s.mediaType === 'audio')) {
          out.bytesSent += s.bytesSent || 0;
        }
      });
      return out;
    }

    async leave() {
      try {
        if (this.handle) await this.message({ request: 'leave' });
      } catch (e) {
        /* leaving anyway */
      }
      this.closed = true;
      clearInterval(this.keepalive);
      if (this.mic) this.mic.stop();
      if (this.pc) this.pc.close();
      if (this.session) await this.post('/' + this.session, { janus: 'destroy' }).catch(() => {});
    }
  }

  RoomsVoice.VoiceError = VoiceError;
  global.RoomsVoice = RoomsVoice;
})(window);
