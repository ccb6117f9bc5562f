//! The registry of join passes the server issued: which token belongs to
//! which room, participant and AudioBridge participant id, until when, and
//! whether it was withdrawn. It decides what Janus's refusals mean (through
//! [`crate::refusal::classify`]) and which tokens the sweep must take off
//! Janus's `allowed` lists. Kept in memory: after a restart every client asks
//! for a fresh pass (unknown tokens are refused as `invalid`).
//!
//! Every pass carries its own random AudioBridge participant id. Janus does
//! not tie a token to an id, so the registry also tracks each id's life
//! (issued → joined → left): a join under an id never issued, or under one
//! that has already left, is an intruder and is kicked by the room watcher.

use crate::refusal::TokenStatus;
use rand::distributions::Alphanumeric;
use rand::Rng;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// Withdrawn passes are remembered this long after their expiry, to name the refusal.
const REMEMBER: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Withdrawal {
    /// Kick, sign-out, role change, or an explicit revoke.
    Revoked,
    /// The user is blocked from the room.
    Blocked,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Active,
    Expired,
    Withdrawn(Withdrawal),
}

#[derive(Debug, Clone)]
struct TokenRecord {
    room: u64,
    participant: u64,
    display: String,
    janus_id: u64,
    expires_at: SystemTime,
    status: Status,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IdState {
    Issued,
    Joined,
    Left,
}

#[derive(Debug, Clone, Copy)]
struct IdRecord {
    participant: u64,
    state: IdState,
}

/// A newly issued pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    pub token: String,
    pub janus_id: u64,
    pub expires_at: SystemTime,
}

/// What the registry says about a participant id that appeared in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// Joined under an id issued to this participant.
    Known { participant: u64, may_speak: bool },
    /// An id never issued for this room, or one already used and left.
    Intruder,
}

/// An expired pass the sweep must take off Janus's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lapsed {
    pub room: u64,
    pub token: String,
    pub janus_id: u64,
}

#[derive(Default)]
struct State {
    tokens: HashMap<String, TokenRecord>,
    ids: HashMap<(u64, u64), IdRecord>,
    speakers: HashSet<(u64, u64)>,
}

#[derive(Default)]
pub struct Passes {
    state: Mutex<State>,
}

/// A random token of 32 letters and digits (190 bits).
pub fn random_token() -> String {
    rand::thread_rng().sample_iter(&Alphanumeric).take(32).map(char::from).collect()
}

/// A random participant id that survives JSON numbers in browsers (below 2^53).
pub fn random_id() -> u64 {
    rand::thread_rng().gen_range(1..(1u64 << 53))
}

impl Passes {
    pub fn new() -> Self {
        Self::default()
    }

    /// Issues a pass for `participant` in `room`, valid for `ttl` from `now`.
    pub fn issue(&self, room: u64, participant: u64, display: &str, ttl: Duration, now: SystemTime) -> Issued {
        let mut s = self.state.lock().unwrap();
        let janus_id = loop {
            let id = random_id();
            if !s.ids.contains_key(&(room, id)) {
                break id;
            }
        };
        let token = random_token();
        let expires_at = now + ttl;
        s.tokens.insert(
            token.clone(),
            TokenRecord { room, participant, display: display.to_string(), janus_id, expires_at, status: Status::Active },
        );
        s.ids.insert((room, janus_id), IdRecord { participant, state: IdState::Issued });
        Issued { token, janus_id, expires_at }
    }

    /// Extends a live pass (same token, same participant id): returns the
    /// participant id, display name and new expiry; `None` if the token is
    /// not live for that room.
    pub fn renew(&self, room: u64, token: &str, ttl: Duration, now: SystemTime) -> Option<(u64, String, SystemTime)> {
        let mut s = self.state.lock().unwrap();
        let t = s.tokens.get_mut(token).filter(|t| t.room == room && t.status == Status::Active && t.expires_at > now)?;
        t.expires_at = now + ttl;
        Some((t.janus_id, t.display.clone(), t.expires_at))
    }

    /// What the registry knows about `token` presented to join `room`.
    pub fn status(&self, room: u64, token: &str) -> TokenStatus {
        let s = self.state.lock().unwrap();
        match s.tokens.get(token) {
            None => TokenStatus::Unknown,
            Some(t) if t.room != room => TokenStatus::Active { same_room: false },
            Some(t) => match t.status {
                Status::Active => TokenStatus::Active { same_room: true },
                Status::Expired => TokenStatus::Expired,
                Status::Withdrawn(Withdrawal::Revoked) => TokenStatus::Revoked,
                Status::Withdrawn(Withdrawal::Blocked) => TokenStatus::Blocked,
            },
        }
    }

    /// Withdraws one token; returns its participant id if it was live in `room`.
    pub fn withdraw_token(&self, room: u64, token: &str, why: Withdrawal) -> Option<u64> {
        let mut s = self.state.lock().unwrap();
        let t = s.tokens.get_mut(token).filter(|t| t.room == room && t.status == Status::Active)?;
        t.status = Status::Withdrawn(why);
        Some(t.janus_id)
    }

    /// Withdraws every live token of `participant` in `room`; returns the
    /// tokens (to take off Janus's list) and every participant id they had.
    pub fn withdraw_participant(&self, room: u64, participant: u64, why: Withdrawal) -> (Vec<String>, Vec<u64>) {
        let mut s = self.state.lock().unwrap();
        let mut tokens = Vec::new();
        for (token, t) in s.tokens.iter_mut() {
            if t.room == room && t.participant == participant && t.status == Status::Active {
                t.status = Status::Withdrawn(why);
                tokens.push(token.clone());
            }
        }
        s.speakers.remove(&(room, participant));
        let ids = s.ids.iter().filter(|((r, _), rec)| *r == room && rec.participant == participant).map(|((_, id), _)| *id).collect();
        (tokens, ids)
    }

    /// Marks passes past their expiry as expired and returns them; forgets
    /// records long past theirs.
    pub fn lapse(&self, now: SystemTime) -> Vec<Lapsed> {
        let mut s = self.state.lock().unwrap();
        let mut out = Vec::new();
        for (token, t) in s.tokens.iter_mut() {
            if t.status == Status::Active && t.expires_at <= now {
                t.status = Status::Expired;
                out.push(Lapsed { room: t.room, token: token.clone(), janus_id: t.janus_id });
            }
        }
        let forgotten: Vec<(u64, u64)> = s
            .tokens
            .values()
            .filter(|t| t.status != Status::Active && t.expires_at + REMEMBER <= now)
            .map(|t| (t.room, t.janus_id))
            .collect();
        s.tokens.retain(|_, t| t.status == Status::Active || t.expires_at + REMEMBER > now);
        for key in forgotten {
            if s.ids.get(&key).is_some_and(|r| r.state != IdState::Joined) {
                s.ids.remove(&key);
            }
        }
        out
    }

    /// Grants or withdraws the right to send audio; returns the participant's
    /// ids currently in the room (to mute or unmute in Janus).
    pub fn set_speaker(&self, room: u64, participant: u64, may_speak: bool) -> Vec<u64> {
        let mut s = self.state.lock().unwrap();
        if may_speak {
            s.speakers.insert((room, participant));
        } else {
            s.speakers.remove(&(room, participant));
        }
        s.ids
            .iter()
            .filter(|((r, _), rec)| *r == room && rec.participant == participant && rec.state == IdState::Joined)
            .map(|((_, id), _)| *id)
            .collect()
    }

    /// May the holder of participant id `janus_id` send audio in `room`?
    pub fn may_speak(&self, room: u64, janus_id: u64) -> bool {
        let s = self.state.lock().unwrap();
        s.ids.get(&(room, janus_id)).is_some_and(|r| s.speakers.contains(&(room, r.participant)))
    }

    /// Records that `janus_id` is in `room` (from Janus's events).
    pub fn arrived(&self, room: u64, janus_id: u64) -> Arrival {
        let mut s = self.state.lock().unwrap();
        let Some(rec) = s.ids.get(&(room, janus_id)).copied() else { return Arrival::Intruder };
        let may_speak = s.speakers.contains(&(room, rec.participant));
        match rec.state {
            IdState::Left => Arrival::Intruder,
            IdState::Issued | IdState::Joined => {
                s.ids.insert((room, janus_id), IdRecord { state: IdState::Joined, ..rec });
                Arrival::Known { participant: rec.participant, may_speak }
            }
        }
    }

    /// Records that `janus_id` left `room`; the id cannot be used again.
    pub fn left(&self, room: u64, janus_id: u64) {
        if let Some(r) = self.state.lock().unwrap().ids.get_mut(&(room, janus_id)) {
            r.state = IdState::Left;
        }
    }

    /// The participant a Janus participant id was issued to.
    pub fn participant_of(&self, room: u64, janus_id: u64) -> Option<u64> {
        self.state.lock().unwrap().ids.get(&(room, janus_id)).map(|r| r.participant)
    }

    /// Forgets a closed room's ids and speakers (its tokens stay, to name refusals).
    pub fn close_room(&self, room: u64) {
        let mut s = self.state.lock().unwrap();
        s.ids.retain(|(r, _), _| *r != room);
        s.speakers.retain(|(r, _)| *r != room);
        for t in s.tokens.values_mut().filter(|t| t.room == room && t.status == Status::Active) {
            t.status = Status::Withdrawn(Withdrawal::Revoked);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
    }

    #[test]
    fn passes_expire_lapse_once_and_name_their_refusal() {
        let p = Passes::new();
        let a = p.issue(1, 10, "a", Duration::from_secs(60), at(0));
        let b = p.issue(1, 11, "b", Duration::from_secs(600), at(0));
        assert_ne!(a.token, b.token);
        assert_ne!(a.janus_id, b.janus_id);
        assert_eq!(p.status(1, &a.token), TokenStatus::Active { same_room: true });
        assert_eq!(p.status(2, &a.token), TokenStatus::Active { same_room: false });
        assert_eq!(p.status(1, "forged"), TokenStatus::Unknown);
        assert!(p.lapse(at(59)).is_empty());
        assert_eq!(p.lapse(at(60)), vec![Lapsed { room: 1, token: a.token.clone(), janus_id: a.janus_id }]);
        assert!(p.lapse(at(61)).is_empty(), "a pass lapses once");
        assert_eq!(p.status(1, &a.token), TokenStatus::Expired);
        assert_eq!(p.status(1, &b.token), TokenStatus::Active { same_room: true });
        // Long after, the record is forgotten.
        p.lapse(at(60 + 24 * 3600));
        assert_eq!(p.status(1, &a.token), TokenStatus::Unknown);
    }

    #[test]
    fn renewal_extends_only_live_passes_of_the_room() {
        let p = Passes::new();
        let a = p.issue(1, 10, "a", Duration::from_secs(60), at(0));
        assert_eq!(p.renew(2, &a.token, Duration::from_secs(60), at(30)), None);
        assert_eq!(p.renew(1, &a.token, Duration::from_secs(60), at(30)), Some((a.janus_id, "a".to_string(), at(90))));
        assert!(p.lapse(at(60)).is_empty());
        assert_eq!(p.lapse(at(90)).len(), 1);
        assert_eq!(p.renew(1, &a.token, Duration::from_secs(60), at(91)), None);
    }

    #[test]
    fn withdrawals_name_revoked_and_blocked() {
        let p = Passes::new();
        let a = p.issue(1, 10, "a", Duration::from_secs(60), at(0));
        let b = p.issue(1, 10, "a", Duration::from_secs(60), at(0));
        let c = p.issue(1, 11, "b", Duration::from_secs(60), at(0));
        assert_eq!(p.withdraw_token(1, &c.token, Withdrawal::Revoked), Some(c.janus_id));
        assert_eq!(p.withdraw_token(1, &c.token, Withdrawal::Revoked), None);
        assert_eq!(p.status(1, &c.token), TokenStatus::Revoked);
        let (mut tokens, mut ids) = p.withdraw_participant(1, 10, Withdrawal::Blocked);
        tokens.sort();
        ids.sort();
        let mut want = vec![a.token.clone(), b.token.clone()];
        want.sort();
        let mut want_ids = vec![a.janus_id, b.janus_id];
        want_ids.sort();
        assert_eq!((tokens, ids), (want, want_ids));
        assert_eq!(p.status(1, &a.token), TokenStatus::Blocked);
        assert!(p.lapse(at(100)).is_empty(), "withdrawn passes do not lapse again");
    }

    #[test]
    fn ids_are_single_use_and_speaking_follows_the_seat() {
        let p = Passes::new();
        let a = p.issue(1, 10, "a", Duration::from_secs(60), at(0));
        assert_eq!(p.arrived(1, a.janus_id), Arrival::Known { participant: 10, may_speak: false });
        assert_eq!(p.arrived(1, 12345), Arrival::Intruder);
        assert_eq!(p.arrived(2, a.janus_id), Arrival::Intruder, "ids belong to one room");
        assert!(!p.may_speak(1, a.janus_id));
        assert_eq!(p.set_speaker(1, 10, true), vec![a.janus_id]);
        assert!(p.may_speak(1, a.janus_id));
        assert_eq!(p.arrived(1, a.janus_id), Arrival::Known { participant: 10, may_speak: true });
        assert_eq!(p.set_speaker(1, 10, false), vec![a.janus_id]);
        assert!(!p.may_speak(1, a.janus_id));
        p.left(1, a.janus_id);
        assert_eq!(p.arrived(1, a.janus_id), Arrival::Intruder, "a left id cannot come back");
        assert!(p.set_speaker(1, 10, true).is_empty());
        assert_eq!(p.participant_of(1, a.janus_id), Some(10));
        p.close_room(1);
        assert_eq!(p.participant_of(1, a.janus_id), None);
        assert_eq!(p.status(1, &a.token), TokenStatus::Revoked);
    }
}
