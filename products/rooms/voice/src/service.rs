//! [`JanusVoice`]: the voice service over one or several Janus servers.

use crate::janus::{Handle, JanusError, Session};
use crate::passes::{Arrival, Passes, Withdrawal};
use crate::refusal::{self, RefusalCode};
use crate::{pool, JoinPass, Participant, VoiceError, VoiceEvent, VoiceParticipant, VoiceResult, VoiceService, MAX_PASS_TTL};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::broadcast;

/// Room settings: 48 kHz Opus mix; a participant counts as talking when the
/// average level of its last `TALKING_PACKETS` packets (20 ms each) is above
/// `TALKING_LEVEL` (Janus's scale: 0 loudest, 127 silence).
const SAMPLING_RATE: u32 = 48_000;
const TALKING_PACKETS: u32 = 25;
const TALKING_LEVEL: u32 = 55;

/// One Janus server: the URL the Rust server uses, the one browsers use,
/// and the AudioBridge `admin_key` if the plugin has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JanusServer {
    pub api_url: String,
    pub public_url: String,
    pub admin_key: Option<String>,
}

impl JanusServer {
    /// Servers from comma-separated lists (`JANUS_URL`, `JANUS_PUBLIC_URL`).
    pub fn from_lists(api: &str, public: &str, admin_key: Option<&str>) -> Result<Vec<JanusServer>, String> {
        let split =
            |s: &str| s.split(',').map(|u| u.trim().trim_end_matches('/').to_string()).filter(|u| !u.is_empty()).collect::<Vec<_>>();
        let (api, public) = (split(api), split(public));
        if api.is_empty() {
            return Err("JANUS_URL names no server".into());
        }
        if public.len() != api.len() {
            return Err(format!("JANUS_PUBLIC_URL names {} servers, JANUS_URL {}", public.len(), api.len()));
        }
        Ok(api
            .into_iter()
            .zip(public)
            .map(|(api_url, public_url)| JanusServer { api_url, public_url, admin_key: admin_key.map(str::to_string) })
            .collect())
    }
}

/// A server's live connection: one session with one control handle for
/// room management, re-created when Janus forgets it.
struct Link {
    session: Arc<Session>,
    control: Handle,
}

struct Server {
    config: JanusServer,
    link: tokio::sync::Mutex<Option<Arc<Link>>>,
}

/// A room this process opened: where, and the watcher's handle.
struct OpenRoom {
    server: usize,
    watcher: Arc<Handle>,
    watcher_id: u64,
}

struct Inner {
    http: reqwest::Client,
    servers: Vec<Server>,
    names: Vec<String>,
    room_key: Vec<u8>,
    passes: Passes,
    rooms: Mutex<HashMap<u64, OpenRoom>>,
    /// One opening at a time per room: two concurrent opens would each
    /// start a watcher, and each watcher kicks the other as an intruder,
    /// leaving the room with none (no events, no enforcement).
    opening: Mutex<HashMap<u64, Arc<tokio::sync::Mutex<()>>>>,
    events: broadcast::Sender<VoiceEvent>,
}

/// The voice service over Janus's HTTP API. Cheap to clone.
#[derive(Clone)]
pub struct JanusVoice {
    inner: Arc<Inner>,
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn janus_err(e: JanusError) -> VoiceError {
    match e {
        JanusError::Transport(m) => VoiceError::Unavailable(m),
        JanusError::Timeout => VoiceError::Unavailable("the voice server did not answer in time".into()),
        JanusError::Plugin { code: refusal::NO_SUCH_ROOM, .. } => VoiceError::Refused("no such room".into()),
        other => VoiceError::Refused(other.to_string()),
    }
}

impl JanusVoice {
    /// `room_key` derives each room's secret (HMAC of the room number), so a
    /// restarted server still controls the rooms it created.
    pub fn new(servers: Vec<JanusServer>, room_key: &[u8]) -> Self {
        let names = servers.iter().map(|s| s.api_url.clone()).collect();
        let servers = servers.into_iter().map(|config| Server { config, link: tokio::sync::Mutex::new(None) }).collect();
        let http = reqwest::Client::builder().pool_idle_timeout(Duration::from_secs(30)).build().expect("http client");
        let inner = Inner {
            http,
            servers,
            names,
            room_key: room_key.to_vec(),
            passes: Passes::new(),
            rooms: Mutex::default(),
            opening: Mutex::default(),
            events: broadcast::channel(1024).0,
        };
        Self { inner: Arc::new(inner) }
    }

    /// The server (index into the configured list) that hosts `room`.
    pub fn server_for(&self, room: u64) -> usize {
        pool::place(room, &self.inner.names).unwrap_or(0)
    }

    /// The room's AudioBridge secret (needed to edit, mute, kick, destroy).
    pub fn room_secret(&self, room: u64) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.inner.room_key).expect("any key length");
        mac.update(b"rooms-voice room ");
        mac.update(room.to_string().as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// The registry of issued passes.
    pub fn passes(&self) -> &Passes {
        &self.inner.passes
    }

    async fn link(&self, server: usize) -> Result<Arc<Link>, JanusError> {
        let s = &self.inner.servers[server];
        let mut guard = s.link.lock().await;
        if let Some(link) = guard.as_ref().filter(|l| l.session.is_alive()) {
            return Ok(link.clone());
        }
        let session = Session::create(self.inner.http.clone(), &s.config.api_url).await?;
        let control = session.attach().await?;
        let link = Arc::new(Link { session, control });
        *guard = Some(link.clone());
        Ok(link)
    }

    async fn forget_link(&self, server: usize) {
        *self.inner.servers[server].link.lock().await = None;
    }

    /// A synchronous AudioBridge request on the server's control handle,
    /// retried once on a new session if Janus forgot the old one.
    async fn request(&self, server: usize, body: Value) -> Result<Value, JanusError> {
        let link = self.link(server).await?;
        match link.control.request(body.clone()).await {
            Err(e) if e.session_lost() => {
                self.forget_link(server).await;
                self.link(server).await?.control.request(body).await
            }
            other => other,
        }
    }

    fn open(&self, room: u64) -> VoiceResult<(usize, u64)> {
        self.inner.rooms.lock().unwrap().get(&room).map(|r| (r.server, r.watcher_id)).ok_or(VoiceError::RoomClosed(room))
    }

    async fn set_allowed(&self, room: u64, action: &str, tokens: &[String]) -> VoiceResult<Vec<String>> {
        let (server, _) = self.open(room)?;
        let answer = self
            .request(
                server,
                json!({"request": "allowed", "room": room, "secret": self.room_secret(room), "action": action, "allowed": tokens}),
            )
            .await
            .map_err(|e| self.room_error(room, e))?;
        Ok(answer["allowed"].as_array().map(|a| a.iter().filter_map(|t| t.as_str().map(str::to_string)).collect()).unwrap_or_default())
    }

    /// Janus no longer has the room: forget it locally too.
    fn room_error(&self, room: u64, e: JanusError) -> VoiceError {
        if e.plugin_code() == Some(refusal::NO_SUCH_ROOM) {
            self.inner.rooms.lock().unwrap().remove(&room);
            return VoiceError::RoomClosed(room);
        }
        janus_err(e)
    }

    async fn mute_ids(&self, room: u64, ids: &[u64], muted: bool) -> VoiceResult<()> {
        let (server, _) = self.open(room)?;
        let request = if muted { "mute" } else { "unmute" };
        for id in ids {
            match self.request(server, json!({"request": request, "room": room, "secret": self.room_secret(room), "id": id})).await {
                Ok(_) => {}
                // Not (or no longer) in the room: the watcher applies the rule when they join.
                Err(JanusError::Plugin { code: 492, .. }) => {}
                Err(e) => return Err(self.room_error(room, e)),
            }
        }
        Ok(())
    }

    async fn kick_ids(&self, room: u64, ids: &[u64]) -> VoiceResult<()> {
        let (server, _) = self.open(room)?;
        for id in ids {
            match self.request(server, json!({"request": "kick", "room": room, "secret": self.room_secret(room), "id": id})).await {
                Ok(_) | Err(JanusError::Plugin { code: 492, .. }) => {}
                Err(e) => return Err(self.room_error(room, e)),
            }
        }
        Ok(())
    }

    async fn withdraw(&self, room: u64, participant: u64, why: Withdrawal) -> VoiceResult<()> {
        self.open(room)?;
        let (tokens, ids) = self.inner.passes.withdraw_participant(room, participant, why);
        if !tokens.is_empty() {
            self.set_allowed(room, "remove", &tokens).await?;
        }
        self.kick_ids(room, &ids).await
    }

    fn pass(&self, room: u64, server: usize, participant_id: u64, token: String, display: String, expires: SystemTime) -> JoinPass {
        JoinPass {
            janus_url: self.inner.servers[server].config.public_url.clone(),
            room,
            participant_id,
            token,
            display,
            expires_at: unix(expires),
            muted: true,
        }
    }

    /// The watcher: the server's own muted participant in the room, without
    /// media, whose handle receives every AudioBridge notification for the room.
    async fn start_watcher(&self, room: u64, server: usize, token: &str) -> VoiceResult<OpenRoom> {
        let link = self.link(server).await.map_err(janus_err)?;
        let handle = Arc::new(link.session.attach().await.map_err(janus_err)?);
        let mut events = handle.events();
        let watcher_id = crate::passes::random_id();
        let joined = handle
            .call(json!({"request": "join", "room": room, "id": watcher_id, "display": "", "token": token, "muted": true}))
            .await
            .map_err(|e| self.room_error(room, e))?;
        let me = self.clone();
        // Participants already in the room (a re-open after a restart).
        let present = joined["participants"].clone();
        tokio::spawn(async move {
            me.on_participants(room, watcher_id, &present, true).await;
            while let Some(event) = events.recv().await {
                if !me.handle_event(room, watcher_id, &event["plugindata"]["data"]).await {
                    break;
                }
            }
        });
        Ok(OpenRoom { server, watcher: handle, watcher_id })
    }

    /// Applies the server's rules to participants Janus reports; returns
    /// false when the room is gone.
    async fn handle_event(&self, room: u64, watcher: u64, data: &Value) -> bool {
        let user = |id: u64| self.inner.passes.participant_of(room, id);
        match data["audiobridge"].as_str() {
            Some("joined") => self.on_participants(room, watcher, &data["participants"], true).await,
            Some("event") if data["participants"].is_array() => self.on_participants(room, watcher, &data["participants"], false).await,
            Some("event") if data["leaving"].is_u64() => {
                let id = data["leaving"].as_u64().unwrap_or(0);
                self.inner.passes.left(room, id);
                let _ = self.inner.events.send(VoiceEvent::Left { room, participant_id: id, user: user(id) });
            }
            Some("event") if data["kicked"].as_u64() == Some(watcher) || data["leaving"].as_u64() == Some(watcher) => {
                self.watcher_lost(room, watcher);
                return false;
            }
            Some("event") if data["kicked"].is_u64() => {
                let id = data["kicked"].as_u64().unwrap_or(0);
                self.inner.passes.left(room, id);
                let _ = self.inner.events.send(VoiceEvent::Left { room, participant_id: id, user: user(id) });
            }
            Some(t @ ("talking" | "stopped-talking")) => {
                if let Some(id) = data["id"].as_u64() {
                    let _ =
                        self.inner.events.send(VoiceEvent::Talking { room, participant_id: id, user: user(id), talking: t == "talking" });
                }
            }
            Some("destroyed") => {
                self.inner.rooms.lock().unwrap().remove(&room);
                self.inner.passes.close_room(room);
                let _ = self.inner.events.send(VoiceEvent::RoomClosed { room });
                return false;
            }
            _ => {}
        }
        true
    }

    /// The room's watcher was dropped by Janus (kicked by another process
    /// driving the same room, say): without it the room is deaf, so it is
    /// forgotten and opened again with a new watcher.
    fn watcher_lost(&self, room: u64, watcher: u64) {
        let mut rooms = self.inner.rooms.lock().unwrap();
        if rooms.get(&room).is_none_or(|r| r.watcher_id != watcher) {
            return;
        }
        rooms.remove(&room);
        drop(rooms);
        tracing::warn!(room, "the room's watcher was dropped by the voice server; opening the room again");
        let me = self.clone();
        tokio::spawn(async move {
            // A pause, so two processes driving one room (a misconfiguration)
            // do not take turns kicking each other's watcher at full speed.
            tokio::time::sleep(Duration::from_secs(1)).await;
            if let Err(e) = me.open_room(room).await {
                tracing::warn!(room, error = %e, "voice room not reopened");
            }
        });
    }

    async fn on_participants(&self, room: u64, watcher: u64, list: &Value, joining: bool) {
        for p in list.as_array().into_iter().flatten() {
            let Some(id) = p["id"].as_u64() else { continue };
            if id == watcher {
                continue;
            }
            let muted = p["muted"].as_bool().unwrap_or(true);
            match self.inner.passes.arrived(room, id) {
                Arrival::Intruder => {
                    tracing::warn!(room, id, "participant id never issued or reused: kicked");
                    let _ = self.kick_ids(room, &[id]).await;
                    let _ = self.inner.events.send(VoiceEvent::Intruder { room, participant_id: id });
                }
                Arrival::Known { participant, may_speak } => {
                    let user = Some(participant);
                    if joining {
                        let _ = self.inner.events.send(VoiceEvent::Joined { room, participant_id: id, user });
                    }
                    if !muted && !may_speak {
                        // Unmuted without a seat: muted again at once.
                        let _ = self.mute_ids(room, &[id], true).await;
                        let _ = self.inner.events.send(VoiceEvent::Enforced { room, participant_id: id, user });
                    } else if !joining {
                        let _ = self.inner.events.send(VoiceEvent::Muted { room, participant_id: id, user, muted });
                    }
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl VoiceService for JanusVoice {
    async fn open_room(&self, room: u64) -> VoiceResult<()> {
        if self.open(room).is_ok() {
            return Ok(());
        }
        let lock = self.inner.opening.lock().unwrap().entry(room).or_default().clone();
        let _one_at_a_time = lock.lock().await;
        // Opened by whoever held the lock before us.
        if self.open(room).is_ok() {
            return Ok(());
        }
        let server = self.server_for(room);
        let token = crate::passes::random_token();
        let mut create = json!({
            "request": "create",
            "room": room,
            "description": format!("room {room}"),
            "secret": self.room_secret(room),
            "is_private": true,
            "permanent": false,
            "allowed": [token],
            "sampling_rate": SAMPLING_RATE,
            "audiolevel_ext": true,
            "audiolevel_event": true,
            "audio_active_packets": TALKING_PACKETS,
            "audio_level_average": TALKING_LEVEL,
        });
        if let Some(key) = &self.inner.servers[server].config.admin_key {
            create["admin_key"] = json!(key);
        }
        match self.request(server, create).await {
            Ok(_) => {}
            // Created before (by this server before a restart): take it back over.
            Err(JanusError::Plugin { code: 486, .. }) => {
                let secret = self.room_secret(room);
                self.request(server, json!({"request": "allowed", "room": room, "secret": secret, "action": "enable"}))
                    .await
                    .map_err(janus_err)?;
                self.request(server, json!({"request": "allowed", "room": room, "secret": secret, "action": "add", "allowed": [token]}))
                    .await
                    .map_err(janus_err)?;
            }
            Err(e) => return Err(janus_err(e)),
        }
        let open = self.start_watcher(room, server, &token).await?;
        // The watcher's token is only for its own join.
        self.request(
            server,
            json!({"request": "allowed", "room": room, "secret": self.room_secret(room), "action": "remove", "allowed": [token]}),
        )
        .await
        .map_err(janus_err)?;
        self.inner.rooms.lock().unwrap().insert(room, open);
        Ok(())
    }

    async fn close_room(&self, room: u64) -> VoiceResult<()> {
        let server = self.server_for(room);
        let watcher = self.inner.rooms.lock().unwrap().remove(&room).map(|r| r.watcher);
        self.inner.opening.lock().unwrap().remove(&room);
        self.inner.passes.close_room(room);
        let result =
            self.request(server, json!({"request": "destroy", "room": room, "secret": self.room_secret(room), "permanent": false})).await;
        if let Some(w) = watcher {
            let _ = w.detach().await;
        }
        match result {
            Ok(_) | Err(JanusError::Plugin { code: refusal::NO_SUCH_ROOM, .. }) => Ok(()),
            Err(e) => Err(janus_err(e)),
        }
    }

    async fn admit(&self, room: u64, who: &Participant, ttl: Duration) -> VoiceResult<JoinPass> {
        let (server, _) = self.open(room)?;
        let issued = self.inner.passes.issue(room, who.id, &who.display, ttl.min(MAX_PASS_TTL), SystemTime::now());
        if let Err(e) = self.set_allowed(room, "add", std::slice::from_ref(&issued.token)).await {
            self.inner.passes.withdraw_token(room, &issued.token, Withdrawal::Revoked);
            return Err(e);
        }
        Ok(self.pass(room, server, issued.janus_id, issued.token, who.display.clone(), issued.expires_at))
    }

    async fn renew(&self, room: u64, token: &str, ttl: Duration) -> VoiceResult<JoinPass> {
        let (server, _) = self.open(room)?;
        let (janus_id, display, expires) = self
            .inner
            .passes
            .renew(room, token, ttl.min(MAX_PASS_TTL), SystemTime::now())
            .ok_or_else(|| VoiceError::Refused("the pass is not live".into()))?;
        Ok(self.pass(room, server, janus_id, token.to_string(), display, expires))
    }

    async fn revoke(&self, room: u64, token: &str) -> VoiceResult<()> {
        self.open(room)?;
        self.inner.passes.withdraw_token(room, token, Withdrawal::Revoked);
        self.set_allowed(room, "remove", &[token.to_string()]).await.map(|_| ())
    }

    async fn set_muted(&self, room: u64, participant: u64, muted: bool) -> VoiceResult<()> {
        self.open(room)?;
        let ids = self.inner.passes.set_speaker(room, participant, !muted);
        self.mute_ids(room, &ids, muted).await
    }

    async fn kick(&self, room: u64, participant: u64) -> VoiceResult<()> {
        self.withdraw(room, participant, Withdrawal::Revoked).await
    }

    async fn block(&self, room: u64, participant: u64) -> VoiceResult<()> {
        self.withdraw(room, participant, Withdrawal::Blocked).await
    }

    async fn participants(&self, room: u64) -> VoiceResult<Vec<VoiceParticipant>> {
        let (server, watcher) = self.open(room)?;
        let answer =
            self.request(server, json!({"request": "listparticipants", "room": room})).await.map_err(|e| self.room_error(room, e))?;
        Ok(answer["participants"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| {
                let id = p["id"].as_u64()?;
                (id != watcher).then(|| VoiceParticipant {
                    participant_id: id,
                    user: self.inner.passes.participant_of(room, id),
                    display: p["display"].as_str().unwrap_or("").to_string(),
                    setup: p["setup"].as_bool().unwrap_or(false),
                    muted: p["muted"].as_bool().unwrap_or(false),
                    talking: p["talking"].as_bool().unwrap_or(false),
                })
            })
            .collect())
    }

    async fn sweep(&self) -> VoiceResult<usize> {
        let lapsed = self.inner.passes.lapse(SystemTime::now());
        let mut by_room: HashMap<u64, (Vec<String>, Vec<u64>)> = HashMap::new();
        for l in &lapsed {
            let e = by_room.entry(l.room).or_default();
            e.0.push(l.token.clone());
            e.1.push(l.janus_id);
        }
        for (room, (tokens, ids)) in by_room {
            if self.open(room).is_err() {
                continue;
            }
            self.set_allowed(room, "remove", &tokens).await?;
            // Whoever is still in the room on an expired pass is dropped.
            self.kick_ids(room, &ids).await?;
        }
        Ok(lapsed.len())
    }

    fn refusal(&self, room: u64, token: &str, janus_code: i64) -> Option<RefusalCode> {
        refusal::classify(janus_code, self.inner.passes.status(room, token))
    }

    fn events(&self) -> broadcast::Receiver<VoiceEvent> {
        self.inner.events.subscribe()
    }

    fn available(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_lists_pair_api_and_public_urls() {
        let s = JanusServer::from_lists(
            "http://a:8088/janus/, http://b:8088/janus",
            "https://v1.example/janus,https://v2.example/janus",
            Some("k"),
        )
        .unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].api_url, "http://a:8088/janus");
        assert_eq!(s[1].public_url, "https://v2.example/janus");
        assert_eq!(s[1].admin_key.as_deref(), Some("k"));
        assert!(JanusServer::from_lists("http://a/janus,http://b/janus", "http://a/janus", None).is_err());
        assert!(JanusServer::from_lists(" , ", "", None).is_err());
    }

    #[test]
    fn room_secrets_are_per_room_and_per_key() {
        let servers = JanusServer::from_lists("http://a/janus", "http://a/janus", None).unwrap();
        let v = JanusVoice::new(servers.clone(), b"one");
        let w = JanusVoice::new(servers, b"two");
        assert_eq!(v.room_secret(1), v.room_secret(1));
        assert_ne!(v.room_secret(1), v.room_secret(2));
        assert_ne!(v.room_secret(1), w.room_secret(1));
        assert_eq!(v.room_secret(1).len(), 32);
    }
}
