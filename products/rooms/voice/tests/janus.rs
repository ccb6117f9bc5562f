//! Against a real Janus (`eval "$(scripts/janus-throwaway start)"`): rooms,
//! passes, Janus's own refusals of joins, mute, kick, the room watcher.
//! AudioBridge checks the token at `join`, before any WebRTC, so joins here
//! are real plugin joins on handles without media.

mod support;

use rooms_voice::janus::{Handle, JanusError, Session};
use rooms_voice::{JanusVoice, JoinPass, Participant, RefusalCode, VoiceError, VoiceEvent, VoiceService};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use support::{janus, next_event, room_number, voice, JanusEnv};

fn who(id: u64, name: &str) -> Participant {
    Participant { id, display: name.into() }
}

async fn session(url: &str) -> Arc<Session> {
    Session::create(reqwest::Client::new(), url).await.unwrap()
}

/// A real AudioBridge join with what the pass says (or a tampered copy).
async fn join(s: &Arc<Session>, room: u64, id: u64, token: &str) -> Result<Handle, JanusError> {
    let h = s.attach().await?;
    h.call(json!({"request": "join", "room": room, "id": id, "display": "t", "token": token, "muted": true})).await?;
    Ok(h)
}

async fn join_pass(s: &Arc<Session>, p: &JoinPass) -> Result<Handle, JanusError> {
    join(s, p.room, p.participant_id, &p.token).await
}

fn refused_as(v: &JanusVoice, room: u64, token: &str, e: JanusError) -> Option<RefusalCode> {
    v.refusal(room, token, e.plugin_code().expect("a plugin refusal"))
}

/// An open room with two admitted users joined (no media), and the event stream.
struct TwoIn {
    v: JanusVoice,
    room: u64,
    events: tokio::sync::broadcast::Receiver<VoiceEvent>,
    raw: Arc<Session>,
    passes: [JoinPass; 2],
    _handles: [Handle; 2],
}

async fn two_in(env: &JanusEnv, first: (u64, &str), second: (u64, &str)) -> TwoIn {
    let v = voice(env);
    let room = room_number();
    v.open_room(room).await.unwrap();
    let events = v.events();
    let raw = session(&env.url).await;
    let p1 = v.admit(room, &who(first.0, first.1), Duration::from_secs(600)).await.unwrap();
    let p2 = v.admit(room, &who(second.0, second.1), Duration::from_secs(600)).await.unwrap();
    let h1 = join_pass(&raw, &p1).await.unwrap();
    let h2 = join_pass(&raw, &p2).await.unwrap();
    TwoIn { v, room, events, raw, passes: [p1, p2], _handles: [h1, h2] }
}

async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..60 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never: {what}");
}

#[tokio::test]
async fn rooms_open_idempotently_and_close() {
    let Some(env) = janus() else { return };
    let v = voice(&env);
    let room = room_number();
    let raw = session(&env.url).await;
    let control = raw.attach().await.unwrap();
    async fn exists(h: &Handle, room: u64) -> bool {
        h.request(json!({"request": "exists", "room": room})).await.unwrap()["exists"].as_bool().unwrap()
    }
    assert!(!exists(&control, room).await);
    assert_eq!(v.participants(room).await, Err(VoiceError::RoomClosed(room)));
    v.open_room(room).await.unwrap();
    v.open_room(room).await.unwrap();
    assert!(exists(&control, room).await);
    assert_eq!(v.participants(room).await.unwrap(), vec![], "the watcher is not listed");
    // A room is created with its secret: nobody else can destroy it.
    let e = control.request(json!({"request": "destroy", "room": room, "secret": "guess"})).await.unwrap_err();
    assert_eq!(e.plugin_code(), Some(489));
    v.close_room(room).await.unwrap();
    assert!(!exists(&control, room).await);
    v.close_room(room).await.unwrap();
    assert_eq!(v.admit(room, &who(1, "a"), Duration::from_secs(60)).await.unwrap_err(), VoiceError::RoomClosed(room));
}

#[tokio::test]
async fn rooms_need_the_admin_key_to_be_created() {
    let Some(env) = janus() else { return };
    if env.admin_key.is_none() {
        eprintln!("skipping: JANUS_ADMIN_SECRET unset");
        return;
    }
    let raw = session(&env.url).await;
    let h = raw.attach().await.unwrap();
    let e = h.request(json!({"request": "create", "room": room_number()})).await.unwrap_err();
    assert_eq!(e.plugin_code(), Some(483), "{e}");
    let e = h.request(json!({"request": "create", "room": room_number(), "admin_key": "guess"})).await.unwrap_err();
    assert_eq!(e.plugin_code(), Some(489), "{e}");
}

#[tokio::test]
async fn janus_refuses_forged_expired_foreign_revoked_and_blocked_passes() {
    let Some(env) = janus() else { return };
    let v = voice(&env);
    let (room, other) = (room_number(), room_number());
    v.open_room(room).await.unwrap();
    v.open_room(other).await.unwrap();
    let raw = session(&env.url).await;

    // Two admits of one user: two passes, both work.
    let first = v.admit(room, &who(10, "Amina"), Duration::from_secs(600)).await.unwrap();
    let second = v.admit(room, &who(10, "Amina"), Duration::from_secs(600)).await.unwrap();
    assert_ne!(first.token, second.token);
    assert_ne!(first.participant_id, second.participant_id);
    assert_eq!(first.room, room);
    assert_eq!(first.janus_url, env.url);
    assert!(first.muted);
    let _a = join_pass(&raw, &first).await.unwrap();
    let _b = join_pass(&raw, &second).await.unwrap();
    let mut listed: Vec<(u64, Option<u64>)> = v.participants(room).await.unwrap().into_iter().map(|p| (p.participant_id, p.user)).collect();
    listed.sort();
    let mut want = vec![(first.participant_id, Some(10)), (second.participant_id, Some(10))];
    want.sort();
    assert_eq!(listed, want);

    // Forged: a token the server never issued.
    let e = join(&raw, room, 777, "forged-token-0123456789").await.err().unwrap();
    assert_eq!(refused_as(&v, room, "forged-token-0123456789", e), Some(RefusalCode::Invalid));
    // No token at all.
    let h = raw.attach().await.unwrap();
    let e = h.call(json!({"request": "join", "room": room, "id": 778, "muted": true})).await.unwrap_err();
    assert_eq!(refused_as(&v, room, "", e), Some(RefusalCode::Invalid));

    // Expired and swept.
    let short = v.admit(room, &who(11, "Baraka"), Duration::ZERO).await.unwrap();
    assert!(v.sweep().await.unwrap() >= 1);
    let e = join_pass(&raw, &short).await.err().unwrap();
    assert_eq!(refused_as(&v, room, &short.token, e), Some(RefusalCode::Expired));

    // Another room's token.
    let foreign = v.admit(other, &who(12, "Chege"), Duration::from_secs(600)).await.unwrap();
    let e = join(&raw, room, foreign.participant_id, &foreign.token).await.err().unwrap();
    assert_eq!(refused_as(&v, room, &foreign.token, e), Some(RefusalCode::NotMember));
    // …which works in its own room.
    let _c = join_pass(&raw, &foreign).await.unwrap();

    // Revoked.
    let revoked = v.admit(room, &who(13, "Dalia"), Duration::from_secs(600)).await.unwrap();
    v.revoke(room, &revoked.token).await.unwrap();
    let e = join_pass(&raw, &revoked).await.err().unwrap();
    assert_eq!(refused_as(&v, room, &revoked.token, e), Some(RefusalCode::Revoked));

    // Blocked: dropped from the room, and the pass is refused as blocked.
    let blocked = v.admit(room, &who(14, "Eli"), Duration::from_secs(600)).await.unwrap();
    let _e = join_pass(&raw, &blocked).await.unwrap();
    v.block(room, 14).await.unwrap();
    eventually("the blocked user is dropped", || async { v.participants(room).await.unwrap().iter().all(|p| p.user != Some(14)) }).await;
    let e = join_pass(&raw, &blocked).await.err().unwrap();
    assert_eq!(refused_as(&v, room, &blocked.token, e), Some(RefusalCode::Blocked));

    // A closed room.
    let late = v.admit(other, &who(15, "Faith"), Duration::from_secs(600)).await.unwrap();
    v.close_room(other).await.unwrap();
    let e = join_pass(&raw, &late).await.err().unwrap();
    assert_eq!(refused_as(&v, other, &late.token, e), Some(RefusalCode::RoomClosed));
    v.close_room(room).await.unwrap();
}

#[tokio::test]
async fn renewed_passes_survive_the_sweep_and_lapsed_holders_are_dropped() {
    let Some(env) = janus() else { return };
    let v = voice(&env);
    let room = room_number();
    v.open_room(room).await.unwrap();
    let raw = session(&env.url).await;
    let pass = v.admit(room, &who(20, "Gita"), Duration::from_secs(600)).await.unwrap();
    let _h = join_pass(&raw, &pass).await.unwrap();
    let renewed = v.renew(room, &pass.token, Duration::from_secs(3600)).await.unwrap();
    assert_eq!((renewed.token.as_str(), renewed.participant_id), (pass.token.as_str(), pass.participant_id));
    assert!(renewed.expires_at > pass.expires_at);
    assert_eq!(renewed.display, "Gita");
    // Another room's, a made-up or a lapsed token is not renewed.
    assert!(v.renew(room, "made-up", Duration::from_secs(60)).await.is_err());

    // A pass that lapses while its holder is in the room: swept and dropped.
    let brief = v.admit(room, &who(21, "Hawa"), Duration::from_secs(1)).await.unwrap();
    let _g = join_pass(&raw, &brief).await.unwrap();
    assert_eq!(v.participants(room).await.unwrap().len(), 2);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(v.sweep().await.unwrap(), 1);
    // Janus drops a kicked participant right after answering the kick.
    let users = |v: JanusVoice| async move { v.participants(room).await.unwrap().into_iter().map(|p| p.user).collect::<Vec<_>>() };
    eventually("the lapsed holder is dropped", || async { users(v.clone()).await == vec![Some(20)] }).await;
    v.close_room(room).await.unwrap();
}

#[tokio::test]
async fn mute_follows_the_seat_and_self_unmute_without_one_is_undone() {
    let Some(env) = janus() else { return };
    let TwoIn { v, room, mut events, passes: [speaker, listener], _handles: [s, l], .. } =
        two_in(&env, (30, "Imani"), (31, "Jabari")).await;
    let muted_of = |id: u64| {
        let v = v.clone();
        async move { v.participants(room).await.unwrap().into_iter().find(|p| p.participant_id == id).map(|p| p.muted) }
    };
    assert_eq!(muted_of(speaker.participant_id).await, Some(true));

    // The seat: the server unmutes, Janus reports it.
    v.set_muted(room, 30, false).await.unwrap();
    assert_eq!(muted_of(speaker.participant_id).await, Some(false));
    // A seated speaker may mute and unmute themselves.
    s.call(json!({"request": "configure", "muted": true})).await.unwrap();
    assert_eq!(muted_of(speaker.participant_id).await, Some(true));
    s.call(json!({"request": "configure", "muted": false})).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(muted_of(speaker.participant_id).await, Some(false), "a seated speaker stays unmuted");
    // The owner mutes the seat.
    v.set_muted(room, 30, true).await.unwrap();
    assert_eq!(muted_of(speaker.participant_id).await, Some(true));

    // A listener unmuting themselves: AudioBridge 1.1 accepts the request…
    let answer = l.call(json!({"request": "configure", "muted": false})).await.unwrap();
    assert_eq!(answer["result"], "ok");
    // …and the server's watcher mutes them again at once.
    let id = listener.participant_id;
    eventually("the listener is muted again", || async { muted_of(id).await == Some(true) }).await;
    let enforced = next_event(&mut events, |e| match e {
        VoiceEvent::Enforced { participant_id, user, .. } => Some((*participant_id, *user)),
        _ => None,
    })
    .await;
    assert_eq!(enforced, Some((id, Some(31))));
    v.close_room(room).await.unwrap();
}

#[tokio::test]
async fn kick_removes_and_ids_never_issued_are_kicked() {
    let Some(env) = janus() else { return };
    let TwoIn { v, room, mut events, raw, passes: [a, _], .. } = two_in(&env, (40, "Kito"), (41, "Lulu")).await;
    v.kick(room, 40).await.unwrap();
    eventually("the kicked user is dropped", || async {
        v.participants(room).await.unwrap().into_iter().map(|p| p.user).collect::<Vec<_>>() == vec![Some(41)]
    })
    .await;
    let e = join_pass(&raw, &a).await.err().unwrap();
    assert_eq!(refused_as(&v, room, &a.token, e), Some(RefusalCode::Revoked));

    // A valid token under a participant id the server never issued.
    let c = v.admit(room, &who(42, "Malaika"), Duration::from_secs(600)).await.unwrap();
    let _c = join(&raw, room, 4242, &c.token).await.unwrap();
    let v2 = v.clone();
    eventually("the intruder is kicked", || {
        let v2 = v2.clone();
        async move { v2.participants(room).await.unwrap().iter().all(|p| p.participant_id != 4242) }
    })
    .await;
    let intruder = next_event(&mut events, |e| match e {
        VoiceEvent::Intruder { participant_id, .. } => Some(*participant_id),
        _ => None,
    })
    .await;
    assert_eq!(intruder, Some(4242));
    v.close_room(room).await.unwrap();
}

#[tokio::test]
async fn concurrent_opens_leave_one_watcher_that_hears_the_room() {
    let Some(env) = janus() else { return };
    let v = voice(&env);
    let room = room_number();
    // The product opens a room when it goes live and again when a join
    // finds it closed: both may run at once.
    let (a, b, c) = tokio::join!(v.open_room(room), v.open_room(room), v.open_room(room));
    for r in [a, b, c] {
        r.unwrap();
    }
    let mut events = v.events();
    let raw = session(&env.url).await;
    let pass = v.admit(room, &who(5, "five"), Duration::from_secs(600)).await.unwrap();
    let _h = join_pass(&raw, &pass).await.unwrap();
    let joined = next_event(&mut events, |e| matches!(e, VoiceEvent::Joined { user: Some(5), .. }).then_some(())).await;
    assert!(joined.is_some(), "the room's watcher did not see the join");
    // Only the participant is listed: no second watcher of ours in the mix.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let people = v.participants(room).await.unwrap();
    assert_eq!(people.iter().map(|p| p.user).collect::<Vec<_>>(), vec![Some(5)], "{people:?}");
    v.close_room(room).await.unwrap();
}
