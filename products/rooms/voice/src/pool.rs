//! Room placement across several Janus servers.
//!
//! Every room lives on exactly one Janus (an AudioBridge mix cannot span
//! servers). The server is chosen by rendezvous hashing (highest random
//! weight): for room `r`, each configured server `s` scores
//! `sha256(s.name ‖ r)`, and the highest score wins. It is a consistent hash:
//! every process with the same server list places a room on the same server
//! without talking to each other, and adding or removing one server moves
//! only the rooms that land on or leave that server (about 1/n of them).
//! A server's name is its API URL unless one is given, so renaming a URL
//! moves its rooms.

use sha2::{Digest, Sha256};

/// Index of the server (among `names`) that hosts `room`; `None` with no servers.
pub fn place(room: u64, names: &[String]) -> Option<usize> {
    names.iter().enumerate().max_by_key(|(_, name)| score(name, room)).map(|(i, _)| i)
}

fn score(name: &str, room: u64) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([0]);
    h.update(room.to_be_bytes());
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("http://janus{i}.internal:8088/janus")).collect()
    }

    #[test]
    fn one_server_takes_every_room_and_none_takes_none() {
        for room in [1, 2, 77, u64::MAX] {
            assert_eq!(place(room, &names(1)), Some(0));
            assert_eq!(place(room, &[]), None);
        }
    }

    #[test]
    fn placement_is_stable_and_spread() {
        let three = names(3);
        let mut counts = [0usize; 3];
        for room in 0..3000u64 {
            let i = place(room, &three).unwrap();
            assert_eq!(place(room, &three), Some(i));
            counts[i] += 1;
        }
        // Each server gets a fair share (expected 1000 each).
        assert!(counts.iter().all(|c| (800..1200).contains(c)), "{counts:?}");
    }

    #[test]
    fn adding_a_server_moves_only_the_rooms_it_takes() {
        let (three, four) = (names(3), names(4));
        let mut moved = 0;
        for room in 0..4000u64 {
            let before = place(room, &three).unwrap();
            let after = place(room, &four).unwrap();
            if before != after {
                assert_eq!(after, 3, "room {room} moved between old servers");
                moved += 1;
            }
        }
        // About a quarter of the rooms move to the new server, no more.
        assert!((800..1200).contains(&moved), "{moved}");
    }
}
